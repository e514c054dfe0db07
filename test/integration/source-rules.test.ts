/**
 * Rules (`for`, `repeat`, resolved only to notified channels, facts such as tags and
 * meta) for the Consul and Serf sources other than `checks`, through the registered
 * handlers, the dispatcher, the timer worker, a DynamoDB-compatible server (DynamoDB
 * Local or dynalite) and SNS/SQS (fauxqs). The clock is ours: timers are fired by
 * moving it past their due time, as the SQS delay queue would.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDigestStore } from '../../lambdas/adapters/dynamo-storm-store';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { Dispatcher } from '../../lambdas/app/dispatcher';
import { handlerFor, type SourceContext } from '../../lambdas/app/sources';
import { handleTimer, type TimerWorkerDeps } from '../../lambdas/app/timer-worker';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import type { RuleSpec } from '../../lambdas/domain/rules/types';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Envelope } from '../../lambdas/domain/types';
import { dynamoClients } from '../../local/dynamodb';
import { catalogServices, consulEnvelope, healthCheck, serfHealth, serviceEntry, userEvent } from '../support/consul-fixtures';
import { AWAITED_PUBLISH_WAIT_MS, drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';
import { memberLine, serfEnvelope, userEventEnvelope } from '../support/serf-fixtures';

const TABLE = 'tocsin-it-source-rules';
const GROUPING = { windowSeconds: 60, threshold: 100 };
const CHANNELS = ['email', 'pager', 'chat', 'dbteam', 'euteam', 'web', 'deploys', 'catalog'] as const;

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let doc: ReturnType<typeof dynamoClients>['doc'];
let topicArn: string;
let queueUrl: string;

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'it-source-rules');
  ({ snsSqs, doc, topicArn, queueUrl } = standIns);
}, 120000);

afterAll(async () => {
  await standIns?.stop();
});

interface Received {
  title: string;
  state: string;
  channels: string[];
  reminder?: number;
}

/** The pipeline for one cluster and one rule list: sources -> dispatcher -> SNS, timers kept here until "due". */
function pipeline(rules: RuleSpec[]) {
  const cluster = `r-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const ruleSet = compileRules({
    clusters: [cluster],
    channels: Object.fromEntries(CHANNELS.map((c) => [c, { type: 'slack' as const }])),
    defaults: { channels: ['email'], resolved: true },
    rules,
    grouping: GROUPING,
  });
  const queued: Timer[] = [];
  const timers = { schedule: async (t: Timer) => void queued.push(t) };
  const channels = new SnsAlertPublisher(snsSqs.sns, topicArn);
  const dispatcher = new Dispatcher({ rules: ruleSet, channels, timers, clock });
  const subjects = new DynamoSubjectStore(doc, TABLE);
  const ctx: SourceContext = { subjects, scopes: new DynamoScopeStore(doc, TABLE), publisher: dispatcher, checkPolicy: defaultCheckPolicy, rules: ruleSet, clock };
  const worker: TimerWorkerDeps = { subjects, publisher: dispatcher, channels, timers, digests: new DynamoDigestStore(doc, TABLE), grouping: GROUPING, clock };
  return {
    cluster,
    now: () => now,
    iso: () => new Date(now).toISOString(),
    timers: queued,
    async ingest(envelope: Envelope) {
      const handler = handlerFor(envelope.source, envelope.type);
      if (!handler) throw new Error(`no handler for ${envelope.source}/${envelope.type}`);
      const result = await handler(envelope, ctx);
      expect(result).toMatchObject({ unsettled: 0, rejected: [], errors: [] });
      return result;
    },
    /** Moves the clock on and delivers every timer due by then (a timer may queue the next one). */
    async advance(ms: number) {
      now += ms;
      for (;;) {
        const due = queued.filter((t) => t.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
        if (due.length === 0) return;
        for (const t of due) queued.splice(queued.indexOf(t), 1);
        for (const t of due) await handleTimer(worker, t);
      }
    },
    /** What reached SNS for this cluster since the last call, with its channels attribute. */
    async received(waitMs = AWAITED_PUBLISH_WAIT_MS): Promise<Received[]> {
      const got = await drainQueue(snsSqs.sqs, queueUrl, waitMs);
      return got
        .map((n) => ({ alert: alertFromNotification(n.message), channels: JSON.parse(n.attributes.channels?.Value ?? '[]') as string[] }))
        .filter(({ alert }) => alert.cluster === cluster)
        .map(({ alert, channels: ch }) => ({ title: alert.title, state: alert.state, channels: [...ch].sort(), ...(alert.reminder ? { reminder: alert.reminder } : {}) }))
        .sort((a, b) => a.title.localeCompare(b.title) || a.channels.join().localeCompare(b.channels.join()));
    },
  };
}

type Pipeline = ReturnType<typeof pipeline>;

const member = (p: Pipeline, type: string, reporter: string, line: string) => p.ingest(serfEnvelope({ cluster: p.cluster, type, reporter, body: line, sentAt: p.iso() }));

describe(`rules for the Consul and Serf sources (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('for on Serf member-failed: a member back within the window is never heard of; one that stays failed alerts once after it', async () => {
    const p = pipeline([{ name: 'member-down', match: { source: 'serf', status: 'failed' }, channels: ['pager'], for: 60 }]);
    const blip = memberLine('serf-blip', '10.0.0.1', { role: 'web' });
    const dead = memberLine('serf-dead', '10.0.0.2', { role: 'web' });
    await member(p, 'member-join', 'serf-a', blip + dead);
    expect(await p.received()).toEqual([
      { title: 'INFO: member serf-blip joined (10.0.0.1)', state: 'firing', channels: ['email'] },
      { title: 'INFO: member serf-dead joined (10.0.0.2)', state: 'firing', channels: ['email'] },
    ]);

    await p.advance(10_000);
    await member(p, 'member-failed', 'serf-a', blip + dead);
    await p.advance(20_000);
    // serf-blip's agent restarts and reports itself 20 s later: within `for`.
    await member(p, 'member-join', 'serf-blip', blip);
    await p.advance(30_000); // 50 s after the failure: still within the window
    expect(await p.received()).toEqual([]);

    await p.advance(11_000); // past the window: serf-dead's timer notifies, serf-blip's finds its episode over
    expect(await p.received()).toEqual([{ title: 'CRITICAL: member serf-dead failed (10.0.0.2)', state: 'firing', channels: ['pager'] }]);
    expect(p.timers).toEqual([]); // no repeat: nothing more to come
    await p.advance(600_000);
    expect(await p.received(800)).toEqual([]);
  }, 60000);

  it('repeat on a Consul service instance going critical: reminders while critical, none after it resolved', async () => {
    const p = pipeline([{ name: 'web-critical', match: { kind: 'service', status: 'critical', nodeMeta: { rack: 'r1' }, serviceMeta: { version: '1.4.2' } }, channels: ['web'], repeat: 300 }]);
    const env = (status: string, index: number) =>
      consulEnvelope(
        'service',
        [serviceEntry('web-1', 'web-1a', { checks: [serfHealth('web-1', { ModifyIndex: 10 }), healthCheck({ Node: 'web-1', CheckID: 'service:web-1a', ServiceID: 'web-1a', ServiceName: 'web', Status: status, ModifyIndex: index })] })],
        { cluster: p.cluster, scope: 'web', index: String(index) },
      );
    await p.ingest(env('passing', 20)); // baseline
    await p.ingest(env('critical', 30));
    const critical = 'CRITICAL: service web instance web-1a on web-1 is critical';
    expect(await p.received()).toEqual([{ title: critical, state: 'firing', channels: ['web'] }]);

    await p.advance(299_000);
    expect(await p.received(800)).toEqual([]);
    await p.advance(1_000);
    expect(await p.received()).toEqual([{ title: critical, state: 'firing', channels: ['web'], reminder: 1 }]);
    await p.advance(300_000);
    expect(await p.received()).toEqual([{ title: critical, state: 'firing', channels: ['web'], reminder: 2 }]);

    await p.ingest(env('passing', 40));
    expect(await p.received()).toEqual([{ title: 'RESOLVED: service web instance web-1a on web-1 is passing again', state: 'resolved', channels: ['web'] }]);
    await p.advance(900_000);
    expect(await p.received(800)).toEqual([]);
  }, 60000);

  it('rules match Serf member tags (tags as key=value, or keyed as nodeMeta)', async () => {
    const p = pipeline([
      { name: 'db', match: { source: 'serf', tags: 'role=db' }, channels: ['dbteam'] },
      { name: 'eu', match: { source: 'serf', nodeMeta: { dc: { glob: 'eu-*' } } }, channels: ['euteam'] },
    ]);
    const lines = [memberLine('db-1', '10.0.1.1', { role: 'db', dc: 'us-1' }), memberLine('web-1', '10.0.1.2', { role: 'web', dc: 'eu-west' }), memberLine('cache-1', '10.0.1.3', { role: 'cache', dc: 'us-1' })];
    await member(p, 'member-join', 'serf-a', lines.join(''));
    await p.received();
    await p.advance(5_000);
    await member(p, 'member-failed', 'serf-a', lines.join(''));
    expect(await p.received()).toEqual([
      { title: 'CRITICAL: member cache-1 failed (10.0.1.3)', state: 'firing', channels: ['email'] },
      { title: 'CRITICAL: member db-1 failed (10.0.1.1)', state: 'firing', channels: ['dbteam'] },
      { title: 'CRITICAL: member web-1 failed (10.0.1.2)', state: 'firing', channels: ['euteam'] },
    ]);
  }, 60000);

  it('a member back: the resolved notice goes only to the channels that heard of the failure', async () => {
    const p = pipeline([
      { name: 'chat', match: { source: 'serf', status: 'failed' }, channels: ['chat'], continue: true },
      { name: 'pager', match: { source: 'serf', status: 'failed' }, channels: ['pager'], for: 120 },
    ]);
    const line = memberLine('serf-x', '10.0.2.1', { role: 'app' });
    await member(p, 'member-join', 'serf-a', line);
    await p.received();
    await p.advance(5_000);
    await member(p, 'member-failed', 'serf-a', line);
    expect(await p.received()).toEqual([{ title: 'CRITICAL: member serf-x failed (10.0.2.1)', state: 'firing', channels: ['chat'] }]);
    await p.advance(30_000);
    await member(p, 'member-join', 'serf-x', line);
    expect(await p.received()).toEqual([{ title: 'RESOLVED: member serf-x rejoined (10.0.2.1)', state: 'resolved', channels: ['chat'] }]);
    await p.advance(200_000); // the pager's `for` timer finds the episode over
    expect(await p.received(800)).toEqual([]);
  }, 60000);

  it('events are momentary and match on name and payload (Consul event, Serf user event)', async () => {
    const p = pipeline([{ name: 'prod-deploys', match: { event: 'deploy', payload: { glob: '*prod*' } }, channels: ['deploys'], for: 600 }]);
    await p.ingest(consulEnvelope('event', [userEvent(1, { payload: 'release 7 to prod' }), userEvent(2, { payload: 'release 7 to staging' })], { cluster: p.cluster }));
    await p.ingest(userEventEnvelope(p.cluster, 'serf-a', 'deploy', 9, 'v2 prod\n', p.iso()));
    const got = await p.received();
    expect(got).toEqual([
      { title: `INFO: event "deploy" fired in cluster ${p.cluster}`, state: 'firing', channels: ['deploys'] },
      { title: `INFO: event "deploy" fired in cluster ${p.cluster}`, state: 'firing', channels: ['email'] },
      { title: 'INFO: Serf user event "deploy" (LTime 9)', state: 'firing', channels: ['deploys'] },
    ]);
    expect(p.timers).toEqual([]); // `for` does not hold back a one-shot event
  }, 60000);

  it('catalog presence: a service deregistered and back within `for` is never heard of; one that stays away alerts, and its return resolves', async () => {
    const p = pipeline([{ name: 'svc-gone', match: { kind: 'catalog', status: 'deregistered', tags: 'critical-path' }, channels: ['catalog'], for: 60 }]);
    const env = (services: Record<string, string[] | null>, index: number) => consulEnvelope('services', catalogServices(services), { cluster: p.cluster, index: String(index) });
    await p.ingest(env({ api: ['critical-path'], web: ['critical-path'] }, 100)); // baseline
    await p.ingest(env({}, 110));
    await p.advance(30_000);
    await p.ingest(env({ web: ['critical-path'] }, 120)); // web back within the window
    await p.advance(31_000);
    expect(await p.received()).toEqual([{ title: 'INFO: service api deregistered', state: 'firing', channels: ['catalog'] }]);
    await p.ingest(env({ api: ['critical-path'], web: ['critical-path'] }, 130));
    expect(await p.received()).toEqual([{ title: 'RESOLVED: service api registered', state: 'resolved', channels: ['catalog'] }]);
  }, 60000);
});
