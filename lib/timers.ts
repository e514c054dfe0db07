import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAMBDA_ENV, METRICS } from '../lambdas/commons/deployment';
import { grantPublishToAlerts } from './alert-topics';
import type { DeploymentOptIns } from './deployment-opt-ins';
import type { ConfigBundle } from './lambda-bundling';
import { keepLogicalId, keepQueueLogicalIds } from './logical-ids';
import { acknowledgeDeadLetterQueue } from './nag';
import { ALARM_PERIOD, opsAlarm, queueWorkerAlarms } from './operations-alarms';
import { STATE_TABLE_ACTIONS } from './state-table';
import { TocsinFunction } from './tocsin-function';

export const TIMERS_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'timers.ts');
export const TIMERS_FUNCTION_TIMEOUT_SECONDS = 60;

/** The construct these resources were created in before Timers had its own: their logical ids stay. */
const LEGACY_SCOPE = 'Notifications';

export interface TimersProps {
  readonly table: ITable;
  readonly alertsTopic: ITopic;
  /** Alarm and OK actions publish here. */
  readonly opsTopic: ITopic;
  readonly logRetention: RetentionDays;
  readonly config: ConfigBundle;
  /** deployment opt-ins (lib/config.ts): tracing, the dashboard's metrics, detailed alarms. */
  readonly optIns: DeploymentOptIns;
}

/**
 * `for`, `repeat` and storm digests: a delay queue (SQS-managed encryption: nothing from
 * SNS lands here), its dead-letter queue, and the worker that re-checks the stored
 * episode when a timer fires. Whoever schedules timers gets `queue` and its send grant.
 */
export class Timers extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;
  public readonly worker: TocsinFunction;

  constructor(scope: Construct, id: string, props: TimersProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'Dlq', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    keepQueueLogicalIds(this.deadLetterQueue, `${LEGACY_SCOPE}/TimersDlq`);
    acknowledgeDeadLetterQueue(this.deadLetterQueue, 'the timers queue');
    opsAlarm(this, 'DlqDepth', props.opsTopic, {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      description: 'tocsin timers (for/repeat/digest) failed repeatedly: some delayed notifications were not sent; see the timers dead-letter queue.',
    });

    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(6 * TIMERS_FUNCTION_TIMEOUT_SECONDS),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });
    keepQueueLogicalIds(this.queue, `${LEGACY_SCOPE}/TimersQueue`);

    this.worker = new TocsinFunction(this, 'Worker', {
      entry: TIMERS_ENTRY,
      description: 'delayed notifications (for, repeat, storm digests)',
      memorySize: 256,
      timeout: Duration.seconds(TIMERS_FUNCTION_TIMEOUT_SECONDS),
      invokedBy: 'sqsEventSource',
      metricsService: METRICS.services.timers,
      logRetention: props.logRetention,
      config: props.config,
      optIns: props.optIns,
      environment: {
        [LAMBDA_ENV.tableName]: props.table.tableName,
        [LAMBDA_ENV.alertsTopicArn]: props.alertsTopic.topicArn,
        [LAMBDA_ENV.timersQueueUrl]: this.queue.queueUrl,
      },
    });
    keepLogicalId(this.worker.logGroup, `${LEGACY_SCOPE}/TimersFunctionLogs`);
    this.worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    props.table.grant(this.worker, ...STATE_TABLE_ACTIONS);
    grantPublishToAlerts(props.alertsTopic, this.worker);
    // A timer not yet due is sent again (SQS delays at most 900 s per hop).
    this.queue.grantSendMessages(this.worker);
    queueWorkerAlarms(this, 'Worker', this.worker, 'timers', props.opsTopic, props.optIns.detailedAlarms);
  }
}
