/**
 * The stack's fixed monthly costs (bench figure 8) are opt-in, and the lean default stays
 * never-blind: without any `deployment` opt-in there is no dashboard, no X-Ray, no key of the
 * stack and no alarm beyond the essential ones, yet every dead-letter queue, the sweeper not
 * running, API 5xx, refused requests and the queue workers' errors still alarm. Each opt-in,
 * set alone, adds exactly its resources.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { METRICS } from '../../lambdas/commons/deployment';
import { synth, type Synth } from './helpers';

type Resource = { Type: string; Properties: Record<string, any> };

/** The cost model's reference deployment (bench/cost/reference.yaml): an email and a Slack channel. */
const CONFIG = `
clusters: [prod]
channels:
  oncall: { type: email, addresses: [oncall@example.com] }
  team: { type: slack, secretName: tocsin/slack/team }
defaults: { channels: [oncall, team] }
`;

const variant = (deployment?: string): Synth => synth({ bundle: false, nag: false, config: deployment ? `${CONFIG}deployment: ${deployment}\n` : CONFIG });
const ofType = (s: Synth, type: string): Array<[string, Resource]> =>
  Object.entries(s.template.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
const idOf = (s: Synth, c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as CfnElement);
const refersTo = (value: unknown, id: string) => (JSON.stringify(value) ?? '').includes(`"${id}"`);

/** Each alarm as "<metric> <what it watches>", the resource named by the construct it belongs to. */
function alarmsOf(s: Synth): string[] {
  const named: Array<[string, string]> = [
    [idOf(s, s.stack.ingestApi.ingestFunction), 'ingest'],
    [idOf(s, s.stack.timers.worker), 'timers'],
    [idOf(s, s.stack.sweeper.function), 'sweeper'],
    [idOf(s, s.stack.channels.worker!.function), 'channel worker'],
    [idOf(s, s.stack.ingestApi.httpApi), 'api'],
    [idOf(s, s.stack.alertTopics.deliveryDeadLetterQueue), 'delivery DLQ'],
    [idOf(s, s.stack.timers.deadLetterQueue), 'timers DLQ'],
    [idOf(s, s.stack.sweeper.deadLetterQueue), 'sweeper DLQ'],
    [idOf(s, s.stack.channels.resources.slack.deadLetterQueue!), 'slack DLQ'],
  ];
  return ofType(s, 'AWS::CloudWatch::Alarm')
    .map(([, a]) => {
      const what = named.find(([id]) => refersTo(a.Properties.Dimensions, id))?.[1] ?? (a.Properties.Namespace === METRICS.namespace('Tocsin') ? 'tocsin' : '?');
      return `${a.Properties.MetricName} ${what}`;
    })
    .sort();
}

/** What never-blind needs: every loss reaches a DLQ alarm, the sweeper's silence, every failure of what feeds them. */
const ESSENTIAL = [
  '5xx api', // the ingest function's errors, timeouts and throttles, and a publish it could not make
  'ApproximateNumberOfMessagesVisible delivery DLQ',
  'ApproximateNumberOfMessagesVisible slack DLQ',
  'ApproximateNumberOfMessagesVisible sweeper DLQ', // every failed sweep (no retry)
  'ApproximateNumberOfMessagesVisible timers DLQ',
  'AuthenticationFailures tocsin',
  'Errors channel worker',
  'Errors timers',
  'Invocations sweeper', // not running
  'RejectedInput tocsin',
].sort();

let lean: Synth;
beforeAll(() => {
  lean = variant();
});

describe('lean default (no deployment opt-in)', () => {
  test('every never-blind alarm, and no more: within the 10 alarms CloudWatch does not bill', () => {
    expect(alarmsOf(lean)).toEqual(ESSENTIAL);
    expect(ESSENTIAL.length).toBeLessThanOrEqual(10);
  });

  test('no dashboard, no X-Ray, no KMS key of the stack, no EMF metric written', () => {
    expect(ofType(lean, 'AWS::CloudWatch::Dashboard')).toEqual([]);
    expect(ofType(lean, 'AWS::KMS::Key')).toEqual([]);
    expect(lean.stack.dashboard).toBeUndefined();
    for (const [id, fn] of ofType(lean, 'AWS::Lambda::Function')) {
      expect({ id, tracing: fn.Properties.TracingConfig, metrics: fn.Properties.Environment.Variables[METRICS.env.emitted] }).toEqual({ id, tracing: undefined, metrics: METRICS.noneEmitted });
    }
    const xray = ofType(lean, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: unknown }>).filter((st) => JSON.stringify(st.Action).includes('xray:'));
    expect(xray).toEqual([]);
  });
});

describe('each opt-in alone adds its resources', () => {
  test('dashboard: the dashboard, and every EMF metric written by every function', () => {
    const s = variant('{ dashboard: true }');
    expect(ofType(s, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    for (const [id, fn] of ofType(s, 'AWS::Lambda::Function')) expect({ id, metrics: fn.Properties.Environment.Variables[METRICS.env.emitted] }).toEqual({ id, metrics: METRICS.allEmitted });
    expect(alarmsOf(s)).toEqual(ESSENTIAL);
  });

  test('tracing: X-Ray active on every function, which may write traces', () => {
    const s = variant('{ tracing: true }');
    const fns = ofType(s, 'AWS::Lambda::Function');
    expect(fns).toHaveLength(5); // with the key parameters' custom resource
    for (const [id, fn] of fns) expect({ id, tracing: fn.Properties.TracingConfig?.Mode }).toEqual({ id, tracing: 'Active' });
    const actions = ofType(s, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>).flatMap((st) => [st.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    expect(ofType(s, 'AWS::CloudWatch::Dashboard')).toEqual([]);
  });

  test('customerManagedKey: one rotating key encrypts both topics and every queue SNS delivers to; CloudWatch alarms may use it', () => {
    const s = variant('{ customerManagedKey: true }');
    const keys = ofType(s, 'AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0]!;
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const principals = JSON.stringify(key.Properties.KeyPolicy.Statement.map((st: { Principal: unknown }) => st.Principal));
    expect(principals).toContain('sns.amazonaws.com');
    expect(principals).toContain('cloudwatch.amazonaws.com');
    for (const [id, t] of ofType(s, 'AWS::SNS::Topic')) expect({ id, key: refersTo(t.Properties.KmsMasterKeyId, keyId) }).toEqual({ id, key: true });
    const snsFed = [s.stack.alertTopics.deliveryDeadLetterQueue, s.stack.channels.resources.slack.deadLetterQueue!, ...s.stack.channels.resources.slack.queues.values()];
    for (const q of snsFed) {
      const id = idOf(s, q);
      expect({ id, key: refersTo(s.template.toJSON().Resources[id].Properties.KmsMasterKeyId, keyId) }).toEqual({ id, key: true });
    }
    // Nothing from SNS lands on the timers queues: they keep SSE-SQS.
    expect(s.template.toJSON().Resources[idOf(s, s.stack.timers.queue)].Properties.SqsManagedSseEnabled).toBe(true);
  });

  test('detailedAlarms: throttles of every function, the ingest and sweeper errors, late sweeps (the sweeper then writes its lag)', () => {
    const s = variant('{ detailedAlarms: true }');
    expect(alarmsOf(s)).toEqual(
      [...ESSENTIAL, 'Errors ingest', 'Errors sweeper', 'SweepLagMs tocsin', 'Throttles ingest', 'Throttles timers', 'Throttles sweeper', 'Throttles channel worker'].sort(),
    );
    expect(ofType(s, 'AWS::CloudWatch::Dashboard')).toEqual([]);
  });
});
