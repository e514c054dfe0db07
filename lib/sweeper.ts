import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAMBDA_ENV, METRICS, SWEEPER } from '../lambdas/commons/deployment';
import { grantPublishToAlerts } from './alert-topics';
import type { DeploymentOptIns } from './deployment-opt-ins';
import type { ConfigBundle } from './lambda-bundling';
import { acknowledgeDeadLetterQueue } from './nag';
import { ALARM_PERIOD, opsAlarm, tocsinMetric } from './operations-alarms';
import { STATE_TABLE_ACTIONS } from './state-table';
import { TocsinFunction } from './tocsin-function';

export const SWEEPER_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'sweeper.ts');
/** A sweep must end before the next one starts (they may overlap safely, but need not). */
export const SWEEPER_TIMEOUT_SECONDS = 50;
/** The "sweeper has not run" alarm: no invocation in this long, missing data breaching. */
export const SWEEPER_SILENCE = Duration.minutes(5);
/** The "sweeps are late" alarm: a sweep came this long after the previous one (a sweep or more missed) in 5 minutes. */
export const SWEEPER_LATE_MS = 2.5 * SWEEPER.periodSeconds * 1000;

export interface SweeperProps {
  readonly table: ITable;
  readonly alertsTopic: ITopic;
  /** Heartbeat alerts with `for`/`repeat` rules schedule timers. */
  readonly timersQueue: IQueue;
  /** Alarm and OK actions publish here. */
  readonly opsTopic: ITopic;
  readonly logRetention: RetentionDays;
  readonly config: ConfigBundle;
  /** deployment.watchdog.url: the external dead-man's switch pinged after each successful sweep. */
  readonly watchdogUrl?: string;
  /** deployment opt-ins (lib/config.ts): tracing, the dashboard's metrics, detailed alarms. */
  readonly optIns: DeploymentOptIns;
}

/**
 * The sweeper (lambdas/app/sweeper.ts: heartbeats first, later tasks after it): an
 * EventBridge schedule invokes the function every minute, asynchronously. Failed
 * invocations (after no Lambda retry: the next scheduled sweep is the retry) and events
 * EventBridge could not deliver land in one dead-letter queue, alarmed on. Alarms: the
 * sweeper has not run for 5 minutes (its Invocations metric, missing data breaching:
 * a deleted schedule or a disabled rule is silence too) and the dead-letter queue, which
 * every failed sweep reaches (no retry); with deployment.detailedAlarms also late sweeps
 * (its EMF lag), errors (the same failures the dead-letter queue gets) and throttles.
 */
export class Sweeper extends Construct {
  public readonly function: TocsinFunction;
  public readonly schedule: Rule;
  public readonly deadLetterQueue: Queue;
  /** No sweep for SWEEPER_SILENCE. */
  public readonly notRunning: Alarm;
  /** A sweep came SWEEPER_LATE_MS or more after the previous one (EMF METRICS.names.sweepLag); deployment.detailedAlarms only. */
  public readonly late?: Alarm;

  constructor(scope: Construct, id: string, props: SweeperProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'Dlq', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    acknowledgeDeadLetterQueue(this.deadLetterQueue, "the sweeper's failed invocations and undeliverable schedule events");
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue IS a dead-letter queue: the sweeper function's on-failure destination and its schedule target's DLQ (cdk-nag only recognises SQS/Lambda redrive sources).",
    });
    opsAlarm(this, 'DlqDepth', props.opsTopic, {
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      description: 'tocsin sweeps failed (heartbeats may not be alerted on): see the sweeper dead-letter queue and the "sweep failed" lines of its log.',
    });

    this.function = new TocsinFunction(this, 'Function', {
      entry: SWEEPER_ENTRY,
      description: 'sweeper (heartbeats: missing watchers, silent clusters)',
      memorySize: 256,
      timeout: Duration.seconds(SWEEPER_TIMEOUT_SECONDS),
      invokedBy: 'schedule',
      metricsService: METRICS.services.sweeper,
      // No Lambda retry: a failed sweep is retried by the next scheduled one, a minute later.
      asyncInvoke: { onFailure: this.deadLetterQueue, retryAttempts: 0, maxEventAge: Duration.minutes(2) },
      logRetention: props.logRetention,
      config: props.config,
      optIns: props.optIns,
      // The late-sweeps alarm reads the sweeper's lag (deployment.detailedAlarms).
      alarmedMetrics: props.optIns.detailedAlarms ? [METRICS.names.sweepLag] : [],
      environment: {
        [LAMBDA_ENV.tableName]: props.table.tableName,
        [LAMBDA_ENV.alertsTopicArn]: props.alertsTopic.topicArn,
        [LAMBDA_ENV.timersQueueUrl]: props.timersQueue.queueUrl,
        ...(props.watchdogUrl ? { [LAMBDA_ENV.watchdogUrl]: props.watchdogUrl } : {}),
      },
    });
    props.table.grant(this.function, ...STATE_TABLE_ACTIONS);
    grantPublishToAlerts(props.alertsTopic, this.function);
    // The sweep's health check: the alerts topic answers (nothing is published).
    this.function.addToRolePolicy(new PolicyStatement({ actions: ['sns:GetTopicAttributes'], resources: [props.alertsTopic.topicArn] }));
    props.timersQueue.grantSendMessages(this.function);

    this.schedule = new Rule(this, 'Schedule', {
      description: 'tocsin sweeper: heartbeats every minute',
      schedule: Schedule.rate(Duration.seconds(SWEEPER.periodSeconds)),
      targets: [new LambdaFunction(this.function, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.minutes(2) })],
    });

    const action = new SnsAction(props.opsTopic);
    this.notRunning = new Alarm(this, 'NotRunning', {
      metric: this.function.metricInvocations({ period: SWEEPER_SILENCE, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription: `The tocsin sweeper has not run for ${SWEEPER_SILENCE.toMinutes()} minutes: silent watchers and clusters are not being alerted on. Check the EventBridge rule and the sweeper function.`,
    });
    this.notRunning.addAlarmAction(action);
    this.notRunning.addOkAction(action);
    if (!props.optIns.detailedAlarms) return;
    // Between "running" and "not running": sweeps that happen, but not every minute (a missed
    // schedule, failed invocations the next sweep then covers). From the sweeper's own EMF lag.
    this.late = opsAlarm(this, 'Late', props.opsTopic, {
      metric: tocsinMetric(this, METRICS.names.sweepLag, METRICS.services.sweeper, { statistic: 'Maximum' }),
      threshold: SWEEPER_LATE_MS,
      description: `tocsin sweeps are late: one came ${SWEEPER_LATE_MS / 1000} s or more after the previous (every ${SWEEPER.periodSeconds} s expected); silent watchers are alerted on late. See "sweep done" (sincePreviousMs) in the sweeper log.`,
    });
    opsAlarm(this, 'Errors', props.opsTopic, {
      metric: this.function.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
      description: 'tocsin sweeper failed: missing watchers or silent clusters may not be alerted on (see "sweep failed" in its log).',
    });
    opsAlarm(this, 'Throttles', props.opsTopic, {
      metric: this.function.metricThrottles({ period: ALARM_PERIOD, statistic: 'Sum' }),
      description: 'tocsin sweeper was throttled: sweeps are late or skipped.',
    });
  }
}
