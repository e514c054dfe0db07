import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { SubscriptionFilter, type ITopic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHANNELS_ATTRIBUTE, LAMBDA_ENV } from '../lambdas/commons/topology';
import type { TocsinConfig } from './config';
import type { ConfigBundle } from './lambda-bundling';
import { acknowledgeDeadLetterQueue } from './nag';
import { ALARM_PERIOD, opsAlarm, queueWorkerAlarms } from './operations-alarms';
import { TocsinFunction } from './tocsin-function';

/** One worker Lambda for every channel delivered from a queue (Slack today): queue ARN -> channel -> kind. */
export const CHANNEL_WORKER_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'channel-worker.ts');

/** SQS event source of each Slack queue: at most 2 concurrent pollers (the minimum), 5 messages each. */
export const SLACK_EVENT_SOURCE = { maxConcurrency: 2, batchSize: 5 } as const;
export const SLACK_FUNCTION_TIMEOUT_SECONDS = 60;

export interface NotificationsProps {
  readonly config: TocsinConfig;
  readonly alertsTopic: ITopic;
  readonly opsTopic: ITopic;
  /** The topics' customer managed key: Slack queues receive from the encrypted alerts topic. */
  readonly key: IKey;
  /** Redrive target of the SNS subscriptions (what SNS itself could not deliver). */
  readonly deliveryDeadLetterQueue: IQueue;
  readonly logRetention: RetentionDays;
  readonly functionConfig: ConfigBundle;
}

/**
 * Delivery beyond SNS email: for every Slack channel a queue subscribed to the alerts
 * topic with the filter { channels: [name] }, drained by the notifier Lambda (≈1 msg/s
 * per webhook), with a dead-letter queue.
 */
export class Notifications extends Construct {
  public readonly slackQueues: ReadonlyMap<string, Queue>;
  public readonly slackDeadLetterQueue?: Queue;
  public readonly slackFunction?: TocsinFunction;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { config } = props;

    // Slack: one queue per channel, filtered on the channels attribute.
    const slackQueues = new Map<string, Queue>();
    if (config.slackChannels.length > 0) {
      const dlq = new Queue(this, 'SlackDlq', { encryption: QueueEncryption.KMS, encryptionMasterKey: props.key, enforceSSL: true, retentionPeriod: Duration.days(14) });
      acknowledgeDeadLetterQueue(dlq, 'the Slack channel queues');
      this.slackDeadLetterQueue = dlq;
      opsAlarm(this, 'SlackDlqDepth', props.opsTopic, {
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
        description: 'Slack notifications failed repeatedly (webhook down, revoked or rate limited); they are in the Slack dead-letter queue.',
      });
      const stack = Stack.of(this);
      const fn = new TocsinFunction(this, 'SlackFunction', {
        entry: CHANNEL_WORKER_ENTRY,
        description: 'Slack notifier (incoming webhooks)',
        memorySize: 256,
        timeout: Duration.seconds(SLACK_FUNCTION_TIMEOUT_SECONDS),
        invokedBy: 'sqsEventSource',
        logRetention: props.logRetention,
        config: props.functionConfig,
      });
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
      queueWorkerAlarms(this, 'Slack', fn, 'Slack notifier', props.opsTopic);
      this.slackFunction = fn;
    }
    this.slackQueues = slackQueues;
  }
}
