import { Duration, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LOG_EVENTS, METRICS } from '../lambdas/commons/deployment';

/**
 * Metric filters over the ingest Lambda's JSON log lines (LOG_EVENTS.requestRejected).
 * 401: a node whose key, cluster or clock is wrong has every envelope refused, and the
 * shim can only set them aside (rejected/): nothing reaches tocsin until someone looks.
 * 400/413/415/422: an envelope or an observation was refused for its content: lost unless
 * someone resends it. (404/405: scanners; 409: the delta protocol asking for a full list.)
 */
export const REJECTION_FILTERS = {
  authenticationFailures: `{ ($.message = "${LOG_EVENTS.requestRejected}") && ($.status = 401) }`,
  rejectedInput: `{ ($.message = "${LOG_EVENTS.requestRejected}") && (($.status = 400) || ($.status = 413) || ($.status = 415) || ($.status = 422)) }`,
} as const;

/** Period of every tocsin alarm. */
export const ALARM_PERIOD = Duration.minutes(5);

/**
 * One of tocsin's own EMF metrics (commons/deployment.ts METRICS), as a function with role
 * `service` writes it: Powertools puts `service` on every metric, plus the metric's own dimensions.
 */
export function tocsinMetric(
  scope: Construct,
  name: string,
  service: string,
  opts: { dimensions?: Record<string, string>; statistic?: string; period?: Duration; label?: string } = {},
): Metric {
  return new Metric({
    namespace: METRICS.namespace(Stack.of(scope).stackName),
    metricName: name,
    dimensionsMap: { [METRICS.dimensions.service]: service, ...opts.dimensions },
    statistic: opts.statistic ?? 'Sum',
    period: opts.period ?? ALARM_PERIOD,
    ...(opts.label ? { label: opts.label } : {}),
  });
}

export interface OpsAlarmProps {
  readonly metric: IMetric;
  readonly description: string;
  /** @default 1 */
  readonly threshold?: number;
}

/** An alarm on `metric` >= threshold in one period, to the operations topic on ALARM and on OK; no data is not breaching. */
export function opsAlarm(scope: Construct, id: string, opsTopic: ITopic, props: OpsAlarmProps): Alarm {
  const alarm = new Alarm(scope, id, {
    metric: props.metric,
    threshold: props.threshold ?? 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: props.description,
  });
  const action = new SnsAction(opsTopic);
  alarm.addAlarmAction(action);
  alarm.addOkAction(action);
  return alarm;
}

/**
 * Errors of a function draining a queue (`<idPrefix>Errors`: essential, a failing delivery is
 * seen before its messages reach the dead-letter queue) and, with deployment.detailedAlarms,
 * its throttles (`<idPrefix>Throttles`: delays only; the queue keeps the messages).
 */
export function queueWorkerAlarms(scope: Construct, idPrefix: string, worker: IFunction, what: string, opsTopic: ITopic, detailed: boolean): void {
  opsAlarm(scope, `${idPrefix}Errors`, opsTopic, {
    metric: worker.metricErrors({ period: ALARM_PERIOD, statistic: 'Sum' }),
    description: `tocsin ${what} Lambda reported errors: notifications may be delayed (the queue retries).`,
  });
  if (!detailed) return;
  opsAlarm(scope, `${idPrefix}Throttles`, opsTopic, {
    metric: worker.metricThrottles({ period: ALARM_PERIOD, statistic: 'Sum' }),
    description: `tocsin ${what} Lambda was throttled: notifications are delayed.`,
  });
}

/** Refused credentials tolerated per 5 minutes before alarming (a stray probe is not an incident). */
export const AUTH_FAILURE_THRESHOLD = 3;

export interface OperationsAlarmsProps {
  readonly ingestFunction: IFunction;
  readonly httpApi: IHttpApi;
  /** DLQ of the SNS email subscriptions. */
  readonly deliveryDeadLetterQueue: IQueue;
  /** Alarm and OK actions publish here. */
  readonly opsTopic: ITopic;
  /** The ingest Lambda's log group (JSON lines), for the rejection metric filters. */
  readonly ingestLogGroup: ILogGroup;
  /** deployment.detailedAlarms: also the ingest function's own errors and throttles. */
  readonly detailed: boolean;
}

/**
 * Alarms that mean "tocsin itself is unhealthy": lost or delayed alerts. Essential (always):
 * API 5xx (every answer the shim must retry, the function's errors, timeouts and throttles
 * included), the delivery dead-letter queue, refused credentials and refused input. With
 * deployment.detailedAlarms also the ingest function's own Errors and Throttles, which 5xx
 * already counts (at $0.10 an alarm a month past CloudWatch's free 10).
 * Every alarm notifies the operations topic on ALARM and on OK.
 */
export class OperationsAlarms extends Construct {
  /** deployment.detailedAlarms only. */
  public readonly lambdaErrors?: Alarm;
  /** deployment.detailedAlarms only. */
  public readonly lambdaThrottles?: Alarm;
  public readonly api5xx: Alarm;
  public readonly undeliveredNotifications: Alarm;
  /** Requests refused with 401: a misconfigured node (or someone without the key). */
  public readonly authenticationFailures: Alarm;
  /** Envelopes or observations refused for their content: data that did not get in. */
  public readonly rejectedInput: Alarm;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const period = ALARM_PERIOD;
    const make = (alarmId: string, metric: Metric, description: string, threshold = 1): Alarm =>
      opsAlarm(this, alarmId, props.opsTopic, { metric, description, threshold });

    if (props.detailed) {
      this.lambdaErrors = make(
        'IngestErrors',
        props.ingestFunction.metricErrors({ period, statistic: 'Sum' }),
        'tocsin ingest Lambda reported errors: events may not have been processed (the shim retries).',
      );
      this.lambdaThrottles = make(
        'IngestThrottles',
        props.ingestFunction.metricThrottles({ period, statistic: 'Sum' }),
        'tocsin ingest Lambda was throttled: raise reserved/account concurrency or the API throttle.',
      );
    }
    this.api5xx = make(
      'Api5xx',
      props.httpApi.metricServerError({ period, statistic: 'Sum' }),
      'tocsin ingest API returned 5xx responses (the ingest Lambda failed, timed out or was throttled, or could not publish): the shims keep those events and retry; see the ingest function log.',
    );
    this.undeliveredNotifications = make(
      'UndeliveredNotifications',
      props.deliveryDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'SNS could not deliver some tocsin notifications; they are in the delivery dead-letter queue.',
    );

    // Per stack, so that two deployments in one account do not mix their counts.
    const namespace = METRICS.namespace(Stack.of(this).stackName);
    const countOf = (filterId: string, metricName: string, pattern: string): Metric =>
      new MetricFilter(this, filterId, {
        logGroup: props.ingestLogGroup,
        filterPattern: FilterPattern.literal(pattern),
        metricNamespace: namespace,
        metricName,
        metricValue: '1',
      }).metric({ period, statistic: 'Sum' });
    this.authenticationFailures = make(
      'AuthenticationFailures',
      countOf('AuthenticationFailuresFilter', 'AuthenticationFailures', REJECTION_FILTERS.authenticationFailures),
      `tocsin ingest API refused credentials (HTTP 401) at least ${AUTH_FAILURE_THRESHOLD} times in 5 minutes: a bad signature or an unknown cluster loses the event to the shim's rejected/ folder; unknown_key (a key rotation, a wrong key) and clock_skew the shim could not correct keep it in the shim's spool (exit 69) until accepted (see "request rejected" in the function logs, its "error" field).`,
      AUTH_FAILURE_THRESHOLD,
    );
    this.rejectedInput = make(
      'RejectedInput',
      countOf('RejectedInputFilter', 'RejectedInput', REJECTION_FILTERS.rejectedInput),
      'tocsin ingest API refused envelopes or observations for their content (HTTP 400/413/415/422): those events were not processed (see "request rejected" in the function logs and the shim\'s rejected/ folder).',
    );
  }
}
