/**
 * tocsin's own metrics in the template: every function that writes them (Powertools EMF)
 * gets the stack's namespace and its role as `service`; the sweeper's lag alarm reads the
 * EMF metric those functions write; the dashboard graphs the metrics, the Lambda and queue
 * basics and the alarms. cdk-nag clean with all of it (synth with nag registered throws).
 * With deployment.dashboard and detailedAlarms; without them, fewer metrics are written
 * (TOCSIN_METRICS: the last tests).
 */
import type { CfnElement } from 'aws-cdk-lib';
import { METRICS, SWEEPER } from '../../lambdas/commons/deployment';
import { SWEEPER_LATE_MS } from '../../lib/sweeper';
import { emittedMetricsValue } from '../../lib/tocsin-function';
import { synth, type Synth } from './helpers';

type Resource = { Type: string; Properties: Record<string, any> };

let s: Synth;
let resources: Record<string, Resource>;
const idOf = (c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as CfnElement);
const NAMESPACE = 'tocsin/Tocsin';

beforeAll(() => {
  s = synth({
    bundle: false,
    config: 'clusters: [prod]\nchannels:\n  chat: { type: slack, secretName: tocsin/slack/chat }\nrules:\n  - { name: all, match: {}, channels: [chat] }\ndeployment: { dashboard: true, detailedAlarms: true }\n',
  });
  resources = s.template.toJSON().Resources;
});

test('the functions that write metrics get the stack namespace and their role as the service', () => {
  expect(METRICS.namespace(s.stack.stackName)).toBe(NAMESPACE);
  const envOf = (fn: { node: { defaultChild?: unknown } }) => resources[idOf(fn)]!.Properties.Environment.Variables;
  const expected: Array<[string, { node: { defaultChild?: unknown } }]> = [
    [METRICS.services.ingest, s.stack.ingestApi.ingestFunction],
    [METRICS.services.sweeper, s.stack.sweeper.function],
    [METRICS.services.timers, s.stack.timers.worker],
  ];
  for (const [service, fn] of expected) {
    expect(envOf(fn)).toMatchObject({ [METRICS.env.namespace]: NAMESPACE, [METRICS.env.service]: service });
  }
});

test('the sweeper-late alarm reads the EMF lag the sweeper writes, and notifies the operations topic', () => {
  const alarm = resources[idOf(s.stack.sweeper.late!)]!;
  const opsRef = JSON.parse(JSON.stringify(s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn)));
  expect(SWEEPER_LATE_MS).toBe(2.5 * SWEEPER.periodSeconds * 1000);
  expect(alarm.Properties).toMatchObject({
    Namespace: NAMESPACE,
    MetricName: METRICS.names.sweepLag,
    Dimensions: [{ Name: METRICS.dimensions.service, Value: METRICS.services.sweeper }],
    Statistic: 'Maximum',
    Period: 300,
    Threshold: SWEEPER_LATE_MS,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [opsRef],
    OKActions: [opsRef],
  });
});

describe('the dashboard', () => {
  let body: string;
  beforeAll(() => {
    const dashboards = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties.DashboardName).toBe('Tocsin-tocsin');
    // The body is a Fn::Join of strings and references: its literal parts, joined, with each reference as JSON.
    const parts = dashboards[0]!.Properties.DashboardBody['Fn::Join'][1] as unknown[];
    body = parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
  });

  test("graphs every one of tocsin's own metrics, in the stack's namespace", () => {
    for (const name of Object.values(METRICS.names)) expect(body).toContain(name);
    expect(body).toContain(`SEARCH('{${NAMESPACE},service,Kind} service=\\"ingest\\" MetricName=\\"AlertsPublished\\"', 'Sum', 60)`);
    expect(body).toContain(`SEARCH('{${NAMESPACE},service,Error} service=\\"ingest\\" MetricName=\\"RequestsRefused\\"', 'Sum', 60)`);
  });

  test('graphs every function, the timers queue and every dead-letter queue', () => {
    const fns = [s.stack.ingestApi.ingestFunction, s.stack.sweeper.function, s.stack.timers.worker, s.stack.channels.worker!.function];
    for (const fn of fns) expect(body).toContain(`{"Ref":"${idOf(fn)}"}`);
    for (const name of ['Invocations', 'Errors', 'Throttles', 'Duration', 'ConcurrentExecutions']) expect(body).toContain(`"AWS/Lambda","${name}"`);
    for (const q of [s.stack.timers.queue, s.stack.timers.deadLetterQueue, s.stack.sweeper.deadLetterQueue, s.stack.alertTopics.deliveryDeadLetterQueue]) {
      expect(body).toContain(`{"Fn::GetAtt":["${idOf(q)}","QueueName"]}`);
    }
  });

  test("shows the alarms' state, the sweeper's included", () => {
    for (const alarm of [s.stack.sweeper.notRunning, s.stack.sweeper.late!, s.stack.alarms.authenticationFailures, s.stack.alarms.lambdaErrors!]) {
      expect(body).toContain(`{"Fn::GetAtt":["${idOf(alarm)}","Arn"]}`);
    }
  });
});

describe('which EMF metrics the functions write (TOCSIN_METRICS): each one written is billed', () => {
  const emittedBy = (synthesized: Synth) => {
    const fns = Object.values(synthesized.template.toJSON().Resources as Record<string, Resource>).filter((r) => r.Type === 'AWS::Lambda::Function');
    return Object.fromEntries(fns.map((f) => [String(f.Properties.Description), f.Properties.Environment.Variables[METRICS.env.emitted]]));
  };
  const CONFIG = 'clusters: [prod]\nchannels:\n  chat: { type: slack, secretName: tocsin/slack/chat }\n';

  test('with the dashboard: every metric, by every function', () => {
    const values = Object.values(emittedBy(s));
    expect(values).toHaveLength(5); // the key parameters' custom resource writes none, but may
    expect(new Set(values)).toEqual(new Set([METRICS.allEmitted]));
  });

  test('lean default: none; with detailed alarms only: the sweeper its lag (the late-sweeps alarm), nothing else', () => {
    const lean = emittedBy(synth({ bundle: false, nag: false, config: CONFIG }));
    expect(new Set(Object.values(lean))).toEqual(new Set([METRICS.noneEmitted]));
    const detailed = emittedBy(synth({ bundle: false, nag: false, config: `${CONFIG}deployment: { detailedAlarms: true }\n` }));
    for (const [description, value] of Object.entries(detailed)) {
      expect({ description, value }).toEqual({ description, value: description.startsWith('tocsin: sweeper') ? METRICS.names.sweepLag : METRICS.noneEmitted });
    }
    expect(emittedMetricsValue(false, ['B', 'A'])).toBe('A,B');
  });
});
