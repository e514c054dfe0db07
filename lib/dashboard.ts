import { Duration, Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  MathExpression,
  type IAlarm,
  type IMetric,
  type IWidget,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS } from '../lambdas/commons/deployment';
import { SWEEPER_LATE_MS } from './sweeper';
import { tocsinMetric } from './operations-alarms';

/** Period of the dashboard's graphs: finer than the alarms' 5 minutes. */
export const DASHBOARD_PERIOD = Duration.minutes(1);

export interface TocsinDashboardProps {
  /** Every tocsin function, by the name its graphs carry. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** The timers delay queue (its backlog and age are the notifications waiting). */
  readonly timersQueue: IQueue;
  /** Every dead-letter queue, by name: anything visible there is something lost. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** Shown in an alarm-status widget. */
  readonly alarms: readonly IAlarm[];
}

/**
 * The stack's CloudWatch dashboard, `<stack>-tocsin`: the alarms' state, tocsin's own numbers
 * (EMF, commons/deployment.ts METRICS: alerts published, transitions, refused requests, the
 * sweeper's lag) and the Lambda and queue basics. Graphs over a dimension whose values are
 * not fixed in advance (alert kind, source, error code) use SEARCH, so a new value shows up
 * without a deploy.
 */
export class TocsinDashboard extends Construct {
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: TocsinDashboardProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const namespace = METRICS.namespace(stack.stackName);
    const period = DASHBOARD_PERIOD;
    /** Every series of `name` with `dimension`, from the function with role `service`. */
    const search = (name: string, service: string, dimension: string, label: string): IMetric =>
      new MathExpression({
        expression: `SEARCH('{${namespace},${METRICS.dimensions.service},${dimension}} ${METRICS.dimensions.service}="${service}" MetricName="${name}"', 'Sum', ${period.toSeconds()})`,
        label,
        period,
      });
    const graph = (title: string, left: IMetric[], more: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {}): GraphWidget =>
      new GraphWidget({ title, left, width: 8, height: 6, ...more });
    const perFunction = (title: string, metric: (fn: IFunction) => IMetric): GraphWidget =>
      graph(title, Object.entries(props.functions).map(([name, fn]) => (metric(fn) as ReturnType<IFunction['metricErrors']>).with({ label: name, period })));

    const widgets: IWidget[][] = [
      [
        new TextWidget({
          markdown: `# tocsin (${stack.stackName})\nOwn metrics: namespace \`${namespace}\` (EMF, written by the functions). Alarms notify the operations topic.`,
          width: 24,
          height: 2,
        }),
      ],
      [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 })],
      [
        graph('Alerts published, by kind', [
          search(METRICS.names.alertsPublished, METRICS.services.ingest, METRICS.dimensions.kind, 'ingest'),
          search(METRICS.names.alertsPublished, METRICS.services.timers, METRICS.dimensions.kind, 'timers'),
          search(METRICS.names.alertsPublished, METRICS.services.sweeper, METRICS.dimensions.kind, 'sweeper'),
        ]),
        graph('Transitions, by source', [
          search(METRICS.names.transitions, METRICS.services.ingest, METRICS.dimensions.source, 'ingest'),
          search(METRICS.names.transitions, METRICS.services.sweeper, METRICS.dimensions.source, 'sweeper'),
        ]),
        graph('Refused requests', [
          search(METRICS.names.requestsRefused, METRICS.services.ingest, METRICS.dimensions.status, 'status'),
        ], { right: [search(METRICS.names.requestsRefused, METRICS.services.ingest, METRICS.dimensions.error, 'error')] }),
      ],
      [
        graph(
          'Sweeper lag (ms since the previous sweep)',
          [tocsinMetric(this, METRICS.names.sweepLag, METRICS.services.sweeper, { statistic: Stats.MAXIMUM, period, label: 'max lag' })],
          { leftAnnotations: [{ value: SWEEPER_LATE_MS, label: 'late' }] },
        ),
        graph('Sweeps', [
          tocsinMetric(this, METRICS.names.sweeps, METRICS.services.sweeper, { period, label: 'sweeps' }),
          tocsinMetric(this, METRICS.names.sweepFailures, METRICS.services.sweeper, { period, label: 'failed' }),
        ]),
        graph(
          'Queues',
          [props.timersQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: 'timers visible' })],
          { right: [props.timersQueue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM, label: 'timers oldest (s)' })] },
        ),
      ],
      [
        perFunction('Lambda invocations', (fn) => fn.metricInvocations({ statistic: Stats.SUM })),
        perFunction('Lambda errors', (fn) => fn.metricErrors({ statistic: Stats.SUM })),
        perFunction('Lambda throttles', (fn) => fn.metricThrottles({ statistic: Stats.SUM })),
      ],
      [
        perFunction('Lambda duration p99 (ms)', (fn) => fn.metricDuration({ statistic: Stats.p(99) })),
        perFunction('Lambda concurrency', (fn) => fn.metric('ConcurrentExecutions', { statistic: Stats.MAXIMUM })),
        graph(
          'Dead-letter queues (messages visible)',
          Object.entries(props.deadLetterQueues).map(([name, q]) => q.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: name })),
        ),
      ],
    ];
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `${stack.stackName}-tocsin`, widgets });
  }
}
