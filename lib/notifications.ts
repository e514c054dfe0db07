import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { SubscriptionFilter, type ITopic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { configDigest, encodeBundledConfig } from '../lambdas/commons/bundled-config';
import { BUNDLED_CONFIG, CHANNELS_ATTRIBUTE, LAMBDA_ENV } from '../lambdas/commons/deployment';
import { lambdaConfig } from '../lambdas/domain/rules/config';
import { CLUSTER_KEY_LENGTH } from './cluster-secrets';
import type { TocsinConfig } from './config';
import { STATE_TABLE_ACTIONS } from './ingest-api';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from './lambda-bundling';

export const TIMERS_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'timers.ts');
/** One worker Lambda for every channel delivered from a queue (Slack today): queue ARN -> channel -> kind. */
export const CHANNEL_WORKER_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'channel-worker.ts');

/** SQS event source of each Slack queue: at most 2 concurrent pollers (the minimum), 5 messages each. */
export const SLACK_EVENT_SOURCE = { maxConcurrency: 2, batchSize: 5 } as const;
export const SLACK_FUNCTION_TIMEOUT_SECONDS = 60;
export const TIMERS_FUNCTION_TIMEOUT_SECONDS = 60;

/** The esbuild define carrying the validated runtime config into a bundle. */
export function bundledConfigDefine(config: TocsinConfig): Record<string, string> {
  return { [BUNDLED_CONFIG.define]: JSON.stringify(encodeBundledConfig(lambdaConfig(config.runtime))) };
}

export interface NotificationsProps {
  readonly config: TocsinConfig;
  readonly table: ITable;
  readonly alertsTopic: ITopic;
  readonly opsTopic: ITopic;
  /** The topics' customer managed key: Slack queues receive from the encrypted alerts topic. */
  readonly key: IKey;
  /** Redrive target of the SNS subscriptions (what SNS itself could not deliver). */
  readonly deliveryDeadLetterQueue: IQueue;
  /** Gets the timers queue, the admin secrets and the config digest. */
  readonly ingestFunction: NodejsFunction;
  readonly logRetention: RetentionDays;
  /** Secrets Manager name prefix of the per-cluster admin keys. */
  readonly adminSecretPrefix: string;
}

/**
 * Delivery beyond SNS email: the timers delay queue and its worker (`for`, `repeat`,
 * storm digests), per-cluster admin keys for the silence API, and for every Slack
 * channel a queue subscribed to the alerts topic with the filter { channels: [name] },
 * drained by the notifier Lambda (≈1 msg/s per webhook), with a dead-letter queue.
 */
export class Notifications extends Construct {
  public readonly timersQueue: Queue;
  public readonly timersDeadLetterQueue: Queue;
  public readonly timersFunction: NodejsFunction;
  public readonly adminSecrets: ReadonlyMap<string, Secret>;
  /** Secrets Manager name prefix of the admin keys; cluster c's is `${prefix}${c}`. */
  public readonly adminSecretPrefix: string;
  public readonly slackQueues: ReadonlyMap<string, Queue>;
  public readonly slackDeadLetterQueue?: Queue;
  public readonly slackFunction?: NodejsFunction;
  public readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { config } = props;
    this.adminSecretPrefix = props.adminSecretPrefix;
    const define = bundledConfigDefine(config);
    const digest = configDigest(lambdaConfig(config.runtime));
    const alarmAction = new SnsAction(props.opsTopic);
    const alarm = (alarmId: string, metric: Metric, description: string) => {
      const a = new Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(alarmAction);
      a.addOkAction(alarmAction);
      this.alarms.push(a);
      return a;
    };
    const period = Duration.minutes(5);
    const functionAlarms = (name: string, fn: IFunction, what: string) => {
      alarm(`${name}Errors`, fn.metricErrors({ period, statistic: 'Sum' }), `tocsin ${what} Lambda reported errors: notifications may be delayed (the queue retries).`);
      alarm(`${name}Throttles`, fn.metricThrottles({ period, statistic: 'Sum' }), `tocsin ${what} Lambda was throttled: notifications are delayed.`);
    };
    const deadLetterAck = (q: Queue, what: string) =>
      Validations.of(q).acknowledge({
        id: 'Serverless-SQSRedrivePolicy',
        reason: `This queue is itself the dead-letter queue of ${what}; a DLQ of a DLQ adds nothing. Its depth is alarmed on.`,
      });
    const newFunction = (fnId: string, entry: string, description: string, timeoutSeconds: number, environment: Record<string, string>) => {
      const logGroup = new LogGroup(this, `${fnId}Logs`, { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
      const role = new Role(this, `${fnId}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `tocsin ${description}` });
      logGroup.grantWrite(role);
      const fn = new NodejsFunction(this, fnId, {
        entry,
        handler: 'handler',
        runtime: Runtime.NODEJS_22_X,
        architecture: Architecture.ARM_64,
        memorySize: 256,
        timeout: Duration.seconds(timeoutSeconds),
        tracing: Tracing.ACTIVE,
        role,
        logGroup,
        description: `tocsin: ${description}`,
        environment: { ...environment, [LAMBDA_ENV.configDigest]: digest, NODE_OPTIONS: LAMBDA_NODE_OPTIONS },
        bundling: { forceDockerBundling: false, ...LAMBDA_BUNDLING, externalModules: [...LAMBDA_BUNDLING.externalModules], define },
      });
      Validations.of(fn).acknowledge(
        {
          id: 'Serverless-LambdaDLQ',
          reason: 'Invoked only by an SQS event source mapping: a failed message stays in its queue and the queue\'s redrive policy moves it to an alarmed dead-letter queue. A function DLQ applies to asynchronous invocations only.',
        },
        {
          id: 'Serverless-LambdaEventSourceMappingDestination',
          reason: 'SQS event sources: a failed message returns to its queue (batchItemFailures) and the queue\'s redrive policy moves it to an alarmed dead-letter queue; on-failure destinations exist for stream sources only.',
        },
        { id: 'AwsSolutions-L1', reason: 'Runtime pinned to nodejs22.x by project decision (esbuild target node22, local toolchain and tests); move together with the toolchain.' },
        { id: 'Serverless-LambdaLatestVersion', reason: 'Runtime pinned to nodejs22.x by project decision (esbuild target node22, local toolchain and tests); move together with the toolchain.' },
      );
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only xray:PutTraceSegments/PutTelemetryRecords use Resource "*": X-Ray does not support resource-level permissions.',
      });
      return fn;
    };

    // Timers: a delay queue (SQS-managed encryption: nothing from SNS lands here) and its worker.
    this.timersDeadLetterQueue = new Queue(this, 'TimersDlq', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    deadLetterAck(this.timersDeadLetterQueue, 'the timers queue');
    this.timersQueue = new Queue(this, 'TimersQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * TIMERS_FUNCTION_TIMEOUT_SECONDS),
      deadLetterQueue: { queue: this.timersDeadLetterQueue, maxReceiveCount: 5 },
    });
    alarm('TimersDlqDepth', this.timersDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 'tocsin timers (for/repeat/digest) failed repeatedly: some delayed notifications were not sent; see the timers dead-letter queue.');

    this.timersFunction = newFunction('TimersFunction', TIMERS_ENTRY, 'delayed notifications (for, repeat, storm digests)', TIMERS_FUNCTION_TIMEOUT_SECONDS, {
      [LAMBDA_ENV.tableName]: props.table.tableName,
      [LAMBDA_ENV.alertsTopicArn]: props.alertsTopic.topicArn,
      [LAMBDA_ENV.timersQueueUrl]: this.timersQueue.queueUrl,
    });
    this.timersFunction.addEventSource(new SqsEventSource(this.timersQueue, { batchSize: 10, reportBatchItemFailures: true }));
    props.table.grant(this.timersFunction, ...STATE_TABLE_ACTIONS);
    props.alertsTopic.grantPublish(this.timersFunction);
    this.timersQueue.grantSendMessages(this.timersFunction);
    Validations.of(this.timersFunction.role!).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Required to publish to the KMS-encrypted alerts topic (documented SNS SSE publisher permission); scoped to the one topic key.',
    });
    functionAlarms('Timers', this.timersFunction, 'timers');

    // The ingest Lambda schedules timers and reads the admin keys of the silence API.
    const ingest = props.ingestFunction;
    ingest.addEnvironment(LAMBDA_ENV.timersQueueUrl, this.timersQueue.queueUrl);
    ingest.addEnvironment(LAMBDA_ENV.adminSecretPrefix, props.adminSecretPrefix);
    ingest.addEnvironment(LAMBDA_ENV.configDigest, digest);
    this.timersQueue.grantSendMessages(ingest);
    const adminSecrets = new Map<string, Secret>();
    for (const cluster of config.clusters) {
      const secret = new Secret(this, `Admin-${cluster}`, {
        secretName: `${props.adminSecretPrefix}${cluster}`,
        description: `tocsin: admin key of cluster "${cluster}" (silence API; tocsin silence ... TOCSIN_ADMIN_KEY)`,
        generateSecretString: { passwordLength: CLUSTER_KEY_LENGTH, excludePunctuation: true, includeSpace: false, requireEachIncludedType: true },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'An operator credential held by people and scripts (tocsin silence); rotate deliberately with put-secret-value. Automatic rotation would break their tooling without notice.',
      });
      secret.grantRead(ingest);
      adminSecrets.set(cluster, secret);
    }
    this.adminSecrets = adminSecrets;

    // Slack: one queue per channel, filtered on the channels attribute.
    const slackQueues = new Map<string, Queue>();
    if (config.slackChannels.length > 0) {
      const dlq = new Queue(this, 'SlackDlq', { encryption: QueueEncryption.KMS, encryptionMasterKey: props.key, enforceSSL: true, retentionPeriod: Duration.days(14) });
      deadLetterAck(dlq, 'the Slack channel queues');
      this.slackDeadLetterQueue = dlq;
      alarm('SlackDlqDepth', dlq.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }), 'Slack notifications failed repeatedly (webhook down, revoked or rate limited); they are in the Slack dead-letter queue.');
      const stack = Stack.of(this);
      const fn = newFunction('SlackFunction', CHANNEL_WORKER_ENTRY, 'Slack notifier (incoming webhooks)', SLACK_FUNCTION_TIMEOUT_SECONDS, {});
      for (const channel of config.slackChannels) {
        const q = new Queue(this, `Slack-${channel.name}`, {
          encryption: QueueEncryption.KMS,
          encryptionMasterKey: props.key,
          enforceSSL: true,
          visibilityTimeout: Duration.seconds(6 * SLACK_FUNCTION_TIMEOUT_SECONDS),
          deadLetterQueue: { queue: dlq, maxReceiveCount: config.delivery.slack.maxReceiveCount },
        });
        props.alertsTopic.addSubscription(
          new SqsSubscription(q, {
            filterPolicy: { [CHANNELS_ATTRIBUTE]: SubscriptionFilter.stringFilter({ allowlist: [channel.name] }) },
            deadLetterQueue: props.deliveryDeadLetterQueue,
          }),
        );
        fn.addEventSource(new SqsEventSource(q, { ...SLACK_EVENT_SOURCE, reportBatchItemFailures: true }));
        const secret: ISecret = Secret.fromSecretNameV2(this, `Webhook-${channel.name}`, channel.secretName);
        secret.grantRead(fn);
        slackQueues.set(channel.name, q);
      }
      // Queue ARN -> channel, for records of several queues in one function.
      fn.addEnvironment(LAMBDA_ENV.slackQueues, stack.toJsonString(Object.fromEntries([...slackQueues].map(([name, q]) => [q.queueArn, name]))));
      functionAlarms('Slack', fn, 'Slack notifier');
      this.slackFunction = fn;
    }
    this.slackQueues = slackQueues;
  }
}
