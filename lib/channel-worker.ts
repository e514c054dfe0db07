import * as path from 'node:path';
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import type { IGrantable, IPrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAMBDA_ENV } from '../lambdas/commons/deployment';
import type { ConfigBundle } from './lambda-bundling';
import { keepLogicalId } from './logical-ids';
import { queueWorkerAlarms } from './operations-alarms';
import { TocsinFunction } from './tocsin-function';

/** One worker Lambda for every channel delivered from a queue: queue ARN -> channel -> kind. */
export const CHANNEL_WORKER_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'channel-worker.ts');
export const CHANNEL_WORKER_TIMEOUT_SECONDS = 60;

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
}

/**
 * The Lambda delivering every queue-delivered channel (Slack today): one SQS event source
 * per channel queue, reporting partial batch failures, and the environment telling it
 * which channel a record's queue belongs to. Grants to it (secrets ...) go to the worker.
 */
export class ChannelWorker extends Construct implements IGrantable {
  public readonly function: TocsinFunction;
  public readonly grantPrincipal: IPrincipal;
  /** What a queue drained by this worker sets: six times the function timeout, as AWS advises. */
  public readonly queueVisibilityTimeout = Duration.seconds(6 * CHANNEL_WORKER_TIMEOUT_SECONDS);
  private readonly channelOfQueue = new Map<IQueue, string>();

  constructor(scope: Construct, id: string, props: ChannelWorkerProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.function = new TocsinFunction(this, 'Function', {
      entry: CHANNEL_WORKER_ENTRY,
      description: 'channel worker (queue-delivered channels: Slack incoming webhooks)',
      memorySize: 256,
      timeout: Duration.seconds(CHANNEL_WORKER_TIMEOUT_SECONDS),
      invokedBy: 'sqsEventSource',
      logRetention: props.logRetention,
      config: props.config,
      environment: {
        // Queue ARN -> channel, for records of several queues in one function.
        [LAMBDA_ENV.channelQueues]: Lazy.string({
          produce: () => stack.toJsonString(Object.fromEntries([...this.channelOfQueue].map(([queue, channel]) => [queue.queueArn, channel]))),
        }),
      },
    });
    // Created as the Slack notifier under Notifications: its logs stay where they are.
    keepLogicalId(this.function.logGroup, 'Notifications/SlackFunctionLogs');
    this.grantPrincipal = this.function.grantPrincipal;
    queueWorkerAlarms(this, 'Function', this.function, 'channel worker', props.opsTopic);
  }

  /** Deliver `channel` from `queue`. */
  public drain(channel: string, queue: IQueue, source: QueueEventSource): void {
    this.function.addEventSource(new SqsEventSource(queue, { ...source, reportBatchItemFailures: true }));
    this.channelOfQueue.set(queue, channel);
  }
}
