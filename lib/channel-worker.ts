import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { Duration, Stack, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type IGrantable, type IPrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHANNEL_QUEUES, LAMBDA_ENV } from '../lambdas/commons/deployment';
import type { DeploymentOptIns } from './deployment-opt-ins';
import type { ConfigBundle } from './lambda-bundling';
import { keepLogicalId } from './logical-ids';
import { queueWorkerAlarms } from './operations-alarms';
import { TocsinFunction } from './tocsin-function';

/** One worker Lambda for every channel delivered from a queue: queue name -> channel (CHANNEL_QUEUES) -> kind. */
export const CHANNEL_WORKER_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'channel-worker.ts');
export const CHANNEL_WORKER_TIMEOUT_SECONDS = 60;

/**
 * `<stack>-channel-`: queue names are unique per account and region, like stack names. A
 * stack name longer than CHANNEL_QUEUES.maxStackChars is cut and made unique again by a
 * hash of the whole name.
 */
export function channelQueuePrefix(stackName: string): string {
  if (Token.isUnresolved(stackName)) throw new Error('the channel queue names need a concrete stack name');
  const max = CHANNEL_QUEUES.maxStackChars;
  const base = stackName.length <= max ? stackName : `${stackName.slice(0, max - 9)}-${createHash('sha256').update(stackName).digest('hex').slice(0, 8)}`;
  return `${base}${CHANNEL_QUEUES.separator}`;
}

/** How fast one queue is drained. */
export interface QueueEventSource {
  /** Concurrent pollers of the queue (2 is SQS's minimum). */
  readonly maxConcurrency: number;
  readonly batchSize: number;
}

export interface ChannelWorkerProps {
  readonly logRetention: RetentionDays;
  readonly config: ConfigBundle;
  /** Alarm and OK actions publish here. */
  readonly opsTopic: ITopic;
  /** deployment opt-ins (lib/config.ts): tracing, the dashboard's metrics, detailed alarms. */
  readonly optIns: DeploymentOptIns;
}

/**
 * The Lambda delivering every queue-delivered channel (Slack, PagerDuty, webhooks): one SQS event source
 * per channel queue, reporting partial batch failures, and the environment telling it
 * which channel a record's queue belongs to. Grants to it (secrets ...) go to the worker.
 */
export class ChannelWorker extends Construct implements IGrantable {
  public readonly function: TocsinFunction;
  public readonly grantPrincipal: IPrincipal;
  /** What a queue drained by this worker sets: six times the function timeout, as AWS advises. */
  public readonly queueVisibilityTimeout = Duration.seconds(6 * CHANNEL_WORKER_TIMEOUT_SECONDS);
  /** Every channel queue's name starts with it (CHANNEL_QUEUES): how the worker tells their records apart. */
  public readonly queuePrefix: string;

  constructor(scope: Construct, id: string, props: ChannelWorkerProps) {
    super(scope, id);
    this.queuePrefix = channelQueuePrefix(Stack.of(this).stackName);
    this.function = new TocsinFunction(this, 'Function', {
      entry: CHANNEL_WORKER_ENTRY,
      description: 'channel worker (queue-delivered channels: Slack, PagerDuty, webhooks)',
      memorySize: 256,
      timeout: Duration.seconds(CHANNEL_WORKER_TIMEOUT_SECONDS),
      invokedBy: 'sqsEventSource',
      logRetention: props.logRetention,
      config: props.config,
      optIns: props.optIns,
      environment: {
        // A record's channel is its queue's name without this prefix.
        [LAMBDA_ENV.channelQueuePrefix]: this.queuePrefix,
      },
    });
    // Created as the Slack notifier under Notifications: its logs stay where they are.
    keepLogicalId(this.function.logGroup, 'Notifications/SlackFunctionLogs');
    this.grantPrincipal = this.function.grantPrincipal;
    queueWorkerAlarms(this, 'Function', this.function, 'channel worker', props.opsTopic, props.optIns.detailedAlarms);
  }

  /** The name `channel`'s queue must have (CHANNEL_QUEUES) for the worker to deliver it. */
  public queueName(channel: string): string {
    const name = CHANNEL_QUEUES.queueName(this.queuePrefix, channel);
    if (name.length > CHANNEL_QUEUES.maxNameChars || !/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`channel ${channel}: queue name ${name} is not a valid SQS queue name`);
    return name;
  }

  /**
   * Lets the worker read and write the state table's items whose partition key starts with
   * `partitionPrefix` (and no others: dynamodb:LeadingKeys), and tells it the table's name.
   * Slack app channels keep their threads there (SLACK_STATE_PARTITION_PREFIX).
   */
  public useStateItems(table: ITable, partitionPrefix: string): void {
    if (this.stateItemPrefixes.has(partitionPrefix)) return;
    this.stateItemPrefixes.add(partitionPrefix);
    this.function.addEnvironment(LAMBDA_ENV.tableName, table.tableName);
    this.function.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${partitionPrefix}*`] } },
      }),
    );
  }

  private readonly stateItemPrefixes = new Set<string>();

  /** Deliver `channel` from `queue`, which must be named queueName(channel). */
  public drain(channel: string, queue: IQueue, source: QueueEventSource): void {
    if (!Token.isUnresolved(queue.queueName) && queue.queueName !== this.queueName(channel)) {
      throw new Error(`channel ${channel}: its queue must be named ${this.queueName(channel)} (CHANNEL_QUEUES), not ${queue.queueName}`);
    }
    this.function.addEventSource(new SqsEventSource(queue, { ...source, reportBatchItemFailures: true }));
  }
}
