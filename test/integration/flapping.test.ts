/**
 * Flapping as one incident (rules/flapping.ts, docs/consul.md "Flapping"): a check that
 * changes state often becomes FLAPPING (one notification), stays quiet while it keeps
 * changing, and ends with one notice giving its final state, sent by a timer step once it
 * has been stable. Through the `checks` source as the shim delivers it (from two agents,
 * some deliveries repeated), rules, the dispatcher, the timer worker, a DynamoDB-compatible
 * server and SNS/SQS (fauxqs). The clock is ours; timers fire when it passes their due time.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDigestStore } from '../../lambdas/adapters/dynamo-storm-store';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { Dispatcher } from '../../lambdas/app/dispatcher';
import { handlerFor, type SourceContext } from '../../lambdas/app/sources';
import { handleTimer, type TimerOutcome, type TimerWorkerDeps } from '../../lambdas/app/timer-worker';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { parseEnvelope } from '../../lambdas/domain/envelope';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import type { FlapState } from '../../lambdas/domain/rules/flapping';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import type { RuntimeConfig } from '../../lambdas/domain/rules/types';
import type { Silence } from '../../lambdas/domain/rules/silences';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients } from '../../local/dynamodb';
import { goJsonLine, healthCheck, serfHealth, type HealthCheckFixture } from '../support/consul-fixtures';
import { AWAITED_PUBLISH_WAIT_MS, drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';
import { memberLine, serfEnvelope } from '../support/serf-fixtures';

const TABLE = 'tocsin-it-flapping';
/** 6 changes within 60 s make a check flapping; 20 s without a change end it. */
const FLAPPING = { changes: 6, windowSeconds: 60, stableSeconds: 20 };

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let doc: ReturnType<typeof dynamoClients>['doc'];
let topicArn: string;
let queueUrl: string;

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'it-flapping');
  ({ snsSqs, doc, topicArn, queueUrl } = standIns);
}, 120000);

afterAll(async () => {
  await standIns?.stop();
});

function pipeline(config: Partial<RuntimeConfig> = {}, silences: Array<Omit<Silence, 'cluster'>> = []) {
  const cluster = `fl-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const rules = compileRules({
    clusters: [cluster],
    channels: { oncall: { type: 'email' }, chat: { type: 'email' } },
    defaults: { channels: ['oncall'], resolved: true },
    rules: [],
    grouping: { windowSeconds: 60, threshold: 100 },
    flapping: FLAPPING,
    ...config,
  });
  const queued: Timer[] = [];
  const timers = { schedule: async (t: Timer) => void queued.push(t) };
  const channels = new SnsAlertPublisher(snsSqs.sns, topicArn);
  const dispatcher = new Dispatcher({ rules, channels, timers, clock, silences: { forCluster: async () => silences.map((x) => ({ ...x, cluster })) } });
  const subjects = new DynamoSubjectStore(doc, TABLE);
  const ctx: SourceContext = { subjects, scopes: new DynamoScopeStore(doc, TABLE), publisher: dispatcher, checkPolicy: defaultCheckPolicy, rules, clock };
  const worker: TimerWorkerDeps = { subjects, publisher: dispatcher, channels, timers, digests: new DynamoDigestStore(doc, TABLE), grouping: { windowSeconds: 60, threshold: 100 }, clock, rules };
  const fired: TimerOutcome[] = [];
  return {
    cluster,
    timers: queued,
    fired,
    /** A whole list as agent `node`'s shim sends it. */
    async list(index: number, checks: HealthCheckFixture[], node = 'agent-1') {
      const e = parseEnvelope({ v: 1, cluster, source: 'consul', type: 'checks', scope: 'checks', node, index: String(index), sentAt: new Date(now).toISOString(), body: goJsonLine(checks), bodyEncoding: 'utf8' });
      const result = await handlerFor('consul', 'checks')!(e, ctx);
      expect(result).toMatchObject({ unsettled: 0, rejected: [], errors: [] });
    },
    /** A Serf member event as `reporter`'s handler sends it, now. */
    async serf(type: string, reporter: string, body: string) {
      const result = await handlerFor('serf', type)!(serfEnvelope({ cluster, type, reporter, body, sentAt: new Date(now).toISOString() }), ctx);
      expect(result).toMatchObject({ unsettled: 0, rejected: [], errors: [] });
    },
    /** Moves the clock on, firing every timer that falls due on the way, in order. */
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = queued.filter((t) => t.dueAt <= until).sort((a, b) => a.dueAt - b.dueAt);
        if (due.length === 0) break;
        const t = due[0]!;
        queued.splice(queued.indexOf(t), 1);
        now = Math.max(now, t.dueAt);
        fired.push(await handleTimer(worker, t));
      }
      now = until;
    },
    async flapState(checkId = 'service:web'): Promise<FlapState | undefined> {
      const record = await subjects.get<{ flap?: FlapState }>(cluster, `check/web-1/${checkId}`);
      return record?.state.flap;
    },
    async received(waitMs = AWAITED_PUBLISH_WAIT_MS): Promise<Alert[]> {
      return (await drainQueue(snsSqs.sqs, queueUrl, waitMs)).map((n) => alertFromNotification(n.message)).filter((a) => a.cluster === cluster);
    },
  };
}

const web = (index: number, status: string, output: string) => healthCheck({ Node: 'web-1', Status: status, Output: output, CreateIndex: 10, ModifyIndex: index });
const serf = serfHealth('web-1', { CreateIndex: 5, ModifyIndex: 5 });
const titles = (alerts: Alert[]) => alerts.map((a) => `${a.state} ${a.title}`);
const FIRING = "firing CRITICAL: Service 'web' check (service web) on web-1";
const RESOLVED = "resolved RESOLVED: Service 'web' check (service web) on web-1";

/**
 * `periods` critical periods, one every `everyMs`, each critical for half of it. `redeliver`:
 * each list delivered by agent-1 and again by agent-2, and agent-1's previous list once
 * more after it (a late retry): what counts is each check change once.
 */
async function flap(p: ReturnType<typeof pipeline>, periods: number, everyMs: number, firstIndex: number, redeliver = false): Promise<number> {
  let index = firstIndex;
  let previous: HealthCheckFixture[] | undefined;
  for (let i = 0; i < periods; i++) {
    for (const status of ['critical', 'passing']) {
      index += 1;
      const list = [serf, web(index, status, status === 'critical' ? `connection refused (period ${i + 1})` : 'HTTP 200 OK')];
      await p.list(index, list, 'agent-1');
      if (redeliver) {
        await p.list(index, list, 'agent-2');
        if (previous) await p.list(index - 1, previous, 'agent-1');
      }
      previous = list;
      await p.advance(everyMs / 2);
    }
  }
  return index;
}

describe(`flapping checks (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('8 critical periods in 30 s: the changes before it, one FLAPPING notice, quiet, then one "no longer flapping: now passing"', async () => {
    const p = pipeline();
    await p.list(10, [serf, web(10, 'passing', 'HTTP 200 OK')]);
    await flap(p, 8, 3_750, 10, true); // 16 changes, 2 deliveries each and a late retry
    const during = await p.received();
    // Five changes go out as they happen; the sixth makes it flapping; the other ten say nothing.
    expect(titles(during)).toEqual([FIRING, RESOLVED, FIRING, RESOLVED, FIRING, "firing FLAPPING: Service 'web' check (service web) on web-1"]);
    const flapping = during[5]!;
    expect(flapping).toMatchObject({ severity: 'critical', to: 'critical', kind: 'check', channels: ['oncall'], episode: during[4]!.episode });
    const history = flapping.details.filter(([k]) => /^\d{4}-/.test(k)).map(([, v]) => v);
    expect(history).toEqual([
      'passing -> critical: connection refused (period 1)',
      'critical -> passing: HTTP 200 OK',
      'passing -> critical: connection refused (period 2)',
      'critical -> passing: HTTP 200 OK',
      'passing -> critical: connection refused (period 3)',
      'critical -> passing: HTTP 200 OK',
    ]);
    expect(flapping.details[0]).toEqual(['Flapping', expect.stringContaining('(threshold: 6 in 1m); no notification per change until it has been stable for 20s') as string]);
    // Stored: the flapping stretch with every change counted once, the history bounded.
    const state = await p.flapState();
    expect(state?.flapping).toMatchObject({ count: 11, stableSeconds: 20 });
    expect(state?.changes).toHaveLength(6);
    expect(p.fired).toContain('rescheduled'); // its end timer came while it still changed: put back

    // The end step delivered twice (a sweep and a late message): one end notice.
    const step = p.timers.find((t) => t.kind === 'flapping')!;
    p.timers.push({ ...step });
    await p.advance(15_000); // stable for 15 s of 20: still flapping, nothing sent
    expect(await p.received()).toEqual([]);
    await p.advance(10_000);
    const ended = await p.received();
    expect(titles(ended)).toEqual([`${RESOLVED} (no longer flapping: now passing)`]);
    expect(ended[0]!.details[0]).toEqual(['Flapping', expect.stringMatching(/^ended: no change since .* \(20s\); 11 changes since /) as string]);
    expect(ended[0]!.episode).toBe(flapping.episode);
    expect(p.fired.filter((o) => o === 'flapping-ended')).toHaveLength(1);
    expect(p.fired.at(-1)).toBe('stale'); // the second delivery of the step found it done
    expect((await p.flapState())?.flapping).toBeUndefined();
    expect(p.timers).toEqual([]);
    await p.advance(60_000);
    expect(await p.received()).toEqual([]);
  }, 90000);

  it('a flapping check that ends critical is alerted as critical, then resolved as usual', async () => {
    const p = pipeline();
    await p.list(10, [serf, web(10, 'passing', 'HTTP 200 OK')]);
    let index = await flap(p, 4, 2_000, 10);
    await p.list(++index, [serf, web(index, 'critical', 'connection refused (for good)')]);
    expect(titles(await p.received())).toEqual([FIRING, RESOLVED, FIRING, RESOLVED, FIRING, "firing FLAPPING: Service 'web' check (service web) on web-1"]);
    await p.advance(21_000);
    const ended = await p.received();
    expect(titles(ended)).toEqual([`${FIRING} (no longer flapping: now critical)`]);
    expect(ended[0]).toMatchObject({ severity: 'critical', to: 'critical' });
    expect(ended[0]!.details).toContainEqual(['Output', 'connection refused (for good)']);
    await p.list(++index, [serf, web(index, 'passing', 'HTTP 200 OK')]);
    expect(titles(await p.received())).toEqual([RESOLVED]);
  }, 90000);

  it('a check that changes 3 times gets its ordinary notices and no flapping timer', async () => {
    const p = pipeline();
    await p.list(10, [serf, web(10, 'passing', 'HTTP 200 OK')]);
    await p.list(11, [serf, web(11, 'critical', 'down')]);
    await p.list(12, [serf, web(12, 'passing', 'HTTP 200 OK')]);
    await p.list(13, [serf, web(13, 'critical', 'down')]);
    expect(titles(await p.received())).toEqual([FIRING, RESOLVED, FIRING]);
    expect(p.timers.filter((t) => t.kind === 'flapping')).toEqual([]);
    expect((await p.flapState())?.changes).toHaveLength(3);
  }, 60000);

  it('a Serf member failing and rejoining, reported by several survivors: the same flapping', async () => {
    const p = pipeline();
    const member = memberLine('serf-x', '127.0.0.20', { role: 'db' });
    await p.serf('member-join', 'serf-x', member);
    await p.advance(2_000);
    for (let i = 0; i < 4; i++) {
      for (const reporter of ['serf-a', 'serf-b']) await p.serf('member-failed', reporter, member);
      await p.advance(2_000);
      for (const reporter of ['serf-x', 'serf-a']) await p.serf('member-join', reporter, member);
      await p.advance(2_000);
    }
    const alerts = await p.received();
    expect(alerts.map((a) => `${a.state} ${a.to} ${a.title.split(':')[0]}`)).toEqual([
      'firing alive INFO',
      'firing failed CRITICAL',
      'resolved alive RESOLVED',
      'firing failed CRITICAL',
      'resolved alive RESOLVED',
      'firing failed CRITICAL',
      'firing failed FLAPPING',
    ]);
    await p.advance(21_000);
    expect((await p.received()).map((a) => a.title)).toEqual([expect.stringMatching(/^RESOLVED: .*\(no longer flapping: now alive\)$/) as string]);
  }, 60000);

  it('a silence on `flapping: true` mutes the FLAPPING notice, not the changes before it nor the end', async () => {
    const hour = { startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() + 3_600_000).toISOString(), createdAt: new Date().toISOString() };
    const p = pipeline({}, [{ id: 'quiet-flaps', matchers: { flapping: 'true' }, author: 'ops', comment: 'known flapper', ...hour }]);
    await p.list(10, [serf, web(10, 'passing', 'HTTP 200 OK')]);
    await flap(p, 3, 2_000, 10);
    expect(titles(await p.received())).toEqual([FIRING, RESOLVED, FIRING, RESOLVED, FIRING]);
    await p.advance(21_000);
    expect(titles(await p.received())).toEqual([`${RESOLVED} (no longer flapping: now passing)`]);
  }, 60000);

  it('rules route the FLAPPING notice by `flapping: true`; its end reaches every route that heard the episode', async () => {
    const p = pipeline({ rules: [{ name: 'flapping-to-chat', match: { flapping: 'true' }, channels: ['chat'] }] });
    await p.list(10, [serf, web(10, 'passing', 'HTTP 200 OK')]);
    await flap(p, 3, 2_000, 10);
    const alerts = await p.received();
    expect(titles(alerts).at(-1)).toBe("firing FLAPPING: Service 'web' check (service web) on web-1");
    expect(alerts.at(-1)).toMatchObject({ channels: ['chat'], rules: ['flapping-to-chat'] });
    await p.advance(21_000);
    // The end notice goes to the routes that heard the episode: oncall (the changes) and chat (FLAPPING).
    const ended = await p.received();
    expect(ended.map((a) => [a.title, [...(a.channels ?? [])].sort()])).toEqual([[`${RESOLVED.slice('resolved '.length)} (no longer flapping: now passing)`, ['chat', 'oncall']]]);
  }, 90000);
});
