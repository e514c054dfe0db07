import { Duration } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, TreatMissingData, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface OperationsAlarmsProps {
  readonly ingestFunction: IFunction;
  readonly httpApi: IHttpApi;
  /** DLQ of the SNS email subscriptions. */
  readonly deliveryDeadLetterQueue: IQueue;
  /** Alarm and OK actions publish here. */
  readonly opsTopic: ITopic;
}

/**
 * Alarms that mean "tocsin itself is unhealthy": lost or delayed alerts.
 * Every alarm notifies the operations topic on ALARM and on OK.
 */
export class OperationsAlarms extends Construct {
  public readonly lambdaErrors: Alarm;
  public readonly lambdaThrottles: Alarm;
  public readonly api5xx: Alarm;
  public readonly undeliveredNotifications: Alarm;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    const period = Duration.minutes(5);
    const action = new SnsAction(props.opsTopic);

    const make = (alarmId: string, metric: Metric, description: string): Alarm => {
      const alarm = new Alarm(this, alarmId, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      return alarm;
    };

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
    this.api5xx = make(
      'Api5xx',
      props.httpApi.metricServerError({ period, statistic: 'Sum' }),
      'tocsin ingest API returned 5xx responses.',
    );
    this.undeliveredNotifications = make(
      'UndeliveredNotifications',
      props.deliveryDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
      'SNS could not deliver some tocsin notifications; they are in the delivery dead-letter queue.',
    );
  }
}
