/**
 * Mass outage (issue 16 part 3) through the composition root on a DynamoDB-compatible
 * server (DynamoDB Local when Java is present): a snapshot with many checks going critical
 * at once, with tocsin.yaml's storm grouping (60 s windows, threshold 20).
 *  - every check's alert is accounted for exactly once: delivered one by one, or folded
 *    into its window's digest (the fold items the digest counts);
 *  - DynamoDB calls per transition, counted by a call recorder on the client: at most 3;
 *  - a time budget forced to run out after a few subjects (a fake clock that moves with
 *    every subject written): the request is answered 202 with the rest continuing from the
 *    timers queue, the watermark moves only when the last part is done, and a delta and a
 *    newer full list arriving meanwhile leave every check alerted once.
 */
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createApplication, timerWorker, type Application } from '../../lambdas/app/application';
import { httpApi } from '../../lambdas/app/application-http';
import type { HttpResponse } from '../../lambdas/app/http';
import type { SubjectStore } from '../../lambdas/app/ports';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { recordDynamoCalls } from '../../lambdas/adapters/dynamo-capacity';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { loadConfigFile } from '../../lambdas/commons/config-file';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { ROOT } from '../support/local-pipeline';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { consulEnvelope, healthCheck, serviceEntry, type HealthCheckFixture } from '../support/consul-fixtures';
import { checksEnvelope, signedEnvelope } from '../support/signed-requests';
import { memberLine, serfEnvelope } from '../support/serf-fixtures';
import type { Envelope } from '../../lambdas/domain/types';

const TABLE = 'tocsin-it-mass-outage';
const KEY = 'mass-outage-key';
let dynamo: TestDynamo;
let doc: ReturnType<typeof dynamoClients>['doc'];
const calls: string[] = [];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const clients = dynamoClients(dynamo.endpoint);
  doc = clients.doc;
  await ensureStateTable(clients.client, TABLE);
  recordDynamoCalls(doc, (op) => calls.push(op));
}, 120000);

afterAll(async () => {
  await dynamo?.stop();
});

/** A pipeline for one cluster: the ingest API, the timers worker, what it published and queued. */
interface Pipeline {
  cluster: string;
  app: Application;
  handle: ReturnType<typeof httpApi>;
  runTimer: ReturnType<typeof timerWorker>;
  published: Alert[];
  queued: Timer[];
  clock: { now: number; perWrite: number };
}

function pipeline(opts: { budgetMs?: number } = {}): Pipeline {
  const cluster = `mo-${randomUUID().slice(0, 8)}`;
  const loaded = loadConfigFile(join(ROOT, 'tocsin.yaml')); // the grouping a user has: 60 s windows, threshold 20
  const config = { ...loaded.runtime, clusters: [cluster] };
  const clock = { now: Date.now(), perWrite: 0 };
  const published: Alert[] = [];
  const queued: Timer[] = [];
  // The fake clock moves only when a subject is written (perWrite ms each): the budget runs out after a known amount of work.
  const real = new DynamoSubjectStore(doc, TABLE);
  const subjects: SubjectStore = {
    get: (c, s) => real.get(c, s),
    getMany: (c, s) => real.getMany(c, s),
    put: async (c, s, rev, next) => {
      clock.now += clock.perWrite;
      return real.put(c, s, rev, next);
    },
    claimPending: (...a) => real.claimPending(...a),
    clearPending: (...a) => real.clearPending(...a),
  };
  const app = createApplication(
    { config, ...(opts.budgetMs !== undefined ? { processingBudgetMs: opts.budgetMs } : {}) },
    awsPorts({
      clients: () => ({ doc }),
      tableName: TABLE,
      alertsTopicArn: 'unused',
      timersQueueUrl: 'unused',
      config,
      clock: { nowMs: () => clock.now },
      logger: { info: () => undefined, error: () => undefined },
      keys: { clusterKeys: new StaticClusterKeys({ [cluster]: KEY }), adminKeys: new StaticClusterKeys({}) },
      overrides: { subjects, channels: { publish: async (a) => void published.push(a) }, timers: { schedule: async (t) => void queued.push(t) } },
    }),
  );
  return { cluster, app, handle: httpApi(app), runTimer: timerWorker(app), published, queued, clock };
}

const check = (i: number, status: string, index: number): HealthCheckFixture =>
  healthCheck({ Node: `node-${i}`, CheckID: `serfHealth-${i}`, Name: 'Serf Health Status', ServiceID: '', ServiceName: '', ServiceTags: [], Status: status, Output: status === 'critical' ? 'Agent not live or unreachable' : 'Agent alive and reachable', CreateIndex: 5, ModifyIndex: index });

async function send(p: Pipeline, checks: HealthCheckFixture[], index: number, extra: Record<string, unknown> = {}): Promise<HttpResponse> {
  const envelope = checksEnvelope(p.cluster, checks, { index: String(index), ...extra });
  return p.handle(signedEnvelope(envelope, { key: KEY, cluster: p.cluster, timestamp: Math.floor(p.clock.now / 1000) }));
}

async function sendEnvelope(p: Pipeline, envelope: Envelope): Promise<HttpResponse> {
  return p.handle(signedEnvelope(envelope, { key: KEY, cluster: p.cluster, timestamp: Math.floor(p.clock.now / 1000) }));
}

/** `member-failed` from `reporter` for these members, as one handler invocation. */
const failedEnvelope = (p: Pipeline, reporter: string, members: string[]) =>
  serfEnvelope({ cluster: p.cluster, type: 'member-failed', reporter, sentAt: new Date(p.clock.now).toISOString(), body: members.map((m, i) => memberLine(m, `10.0.${Math.floor(i / 250)}.${i % 250}:7946`, { role: 'web' })).join('') });

/** Runs every queued `continue` step (and the ones they queue) in order; returns how many ran. */
async function runContinuations(p: Pipeline, afterEach: () => Promise<void> = async () => undefined): Promise<number> {
  let runs = 0;
  for (let t = p.queued.findIndex((q) => q.kind === 'continue'); t >= 0; t = p.queued.findIndex((q) => q.kind === 'continue')) {
    const [timer] = p.queued.splice(t, 1);
    await p.runTimer(JSON.stringify(timer));
    runs++;
    await afterEach();
  }
  return runs;
}

/** Sends every queued digest at its due time. */
async function sendDigests(p: Pipeline): Promise<void> {
  for (const timer of p.queued.filter((q) => q.kind === 'digest')) {
    p.clock.now = Math.max(p.clock.now, timer.dueAt);
    expect(await p.runTimer(JSON.stringify(timer))).toBe('digest-sent');
  }
}

/** The nodes of the notifications folded into the cluster's digests (fold items: one per folded notification). */
async function foldedChecks(cluster: string, state: 'firing' | 'resolved' = 'firing'): Promise<string[]> {
  const out: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :fold)',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
        ExpressionAttributeValues: { ':pk': `cluster#${cluster}`, ':fold': 'fold#' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const folded = item.folded as { node: string; state: string };
      if (folded.state === state) out.push(folded.node);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

const watermark = async (cluster: string) => (await new DynamoScopeStore(doc, TABLE).getScope(cluster, 'consul-checks/checks')).watermark;
const firingNodes = (p: Pipeline) => p.published.filter((a) => a.kind === 'check' && a.state === 'firing').map((a) => a.node);

/** Each of `nodes` alerted exactly once, delivered or folded; nothing else. */
async function expectEachOnce(p: Pipeline, nodes: string[]): Promise<void> {
  const told = [...firingNodes(p), ...(await foldedChecks(p.cluster))].sort();
  expect(told).toEqual([...nodes].sort());
}

describe(`mass outage (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('2,000 checks critical in one request: each alerted once (delivered or in a digest), bounded digests, at most 3 DynamoDB calls per transition', async () => {
    const p = pipeline();
    const N = 2000;
    const nodes = Array.from({ length: N }, (_, i) => `node-${i}`);
    expect((await send(p, nodes.map((_, i) => check(i, 'passing', 10)), 10)).status).toBe(200);

    calls.length = 0;
    const res = await send(p, nodes.map((_, i) => check(i, 'critical', 100 + i)), 100 + N);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ transitions: N });
    const perTransition = calls.length / N;
    expect(perTransition).toBeLessThanOrEqual(3);

    await sendDigests(p);
    await expectEachOnce(p, nodes);
    // One window: threshold criticals one by one, then one digest that counts the rest, critical first.
    const digests = p.published.filter((a) => a.kind === 'digest');
    expect(firingNodes(p)).toHaveLength(20);
    expect(digests).toHaveLength(1);
    expect(digests[0]).toMatchObject({ severity: 'critical', digest: { count: N - 20 } });
    const listed = String(digests[0]!.details?.find(([k]) => k === 'Alerts')?.[1]).split('\n');
    expect(listed.length).toBeLessThanOrEqual(41);
    expect(listed.at(-1)).toMatch(new RegExp(`^\\.\\.\\. and \\d+ more not listed \\(of ${N - 20} folded\\)$`));
    // Counted over every fold, not just the listed ones.
    expect(digests[0]!.details?.find(([k]) => k === 'Folded')?.[1]).toBe(`${N - 20} notifications: ${N - 20} firing, 0 resolved (${N - 20} critical)`);
  }, 120000);

  it('a budget that runs out after a few subjects: 202, the rest continues from the timers queue, exactly once, watermark only at the end', async () => {
    const p = pipeline({ budgetMs: 1000 });
    const N = 120;
    const nodes = Array.from({ length: N }, (_, i) => `node-${i}`);
    expect((await send(p, nodes.map((_, i) => check(i, 'passing', 10)), 10)).status).toBe(200);
    const before = await watermark(p.cluster);

    p.clock.perWrite = 100; // ~10 subjects per 1 s budget, plus those in flight
    calls.length = 0;
    const res = await send(p, nodes.map((_, i) => check(i, 'critical', 100 + i)), 100 + N);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ continued: true });
    const remaining = res.body.remaining as number;
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThan(N);
    expect(p.queued.filter((t) => t.kind === 'continue')).toHaveLength(1);
    expect(await watermark(p.cluster)).toBe(before);

    const watermarks: number[] = [];
    const runs = await runContinuations(p, async () => void watermarks.push(await watermark(p.cluster)));
    expect(runs).toBeGreaterThan(1);
    // Unmoved until the last part, then the snapshot's highest index.
    expect(watermarks.slice(0, -1).every((w) => w === before)).toBe(true);
    expect(watermarks.at(-1)).toBe(100 + N - 1);
    // At most 3 calls per transition, plus a bounded bookkeeping cost per run (claim, the stored
    // rest written and read, the marker handed on, the step indexed and queued): forced tiny runs pay it often.
    expect(calls.length).toBeLessThanOrEqual(3 * N + 12 * (runs + 1));

    await sendDigests(p);
    await expectEachOnce(p, nodes);
    const scope = await new DynamoScopeStore(doc, TABLE).getScope(p.cluster, 'consul-checks/checks');
    expect(scope.active.size).toBe(N);
  }, 120000);

  it('while a continuation is pending: a delta is refused (409, full list wanted), a newer full list is queued behind it (202) and replaces its rest, an older one changes nothing', async () => {
    const p = pipeline({ budgetMs: 1000 });
    const N = 60;
    const nodes = Array.from({ length: N }, (_, i) => `node-${i}`);
    expect((await send(p, nodes.map((_, i) => check(i, 'passing', 10)), 10)).status).toBe(200);

    p.clock.perWrite = 100;
    const s1 = nodes.map((_, i) => check(i, 'critical', 100 + i));
    const first = await send(p, s1, 100 + N);
    expect(first.status).toBe(202);
    const [pending] = p.queued.filter((t) => t.kind === 'continue');
    expect(pending).toBeDefined();

    // The shim's next run: a delta on the base its 202 recorded, above the unmoved watermark.
    const delta = await send(p, [check(1, 'passing', 300)], 300, { delta: true, base: String(100 + N - 1), body: JSON.stringify({ changed: [check(1, 'passing', 300)], removed: [] }) });
    expect(delta.status).toBe(409);

    // The full list instead: node-0 (done by the first part) and node-59 (still pending) recovered.
    const s2 = s1.map((c, i) => (i === 0 || i === N - 1 ? check(i, 'passing', 400 + i) : c));
    const second = await send(p, s2, 400 + N);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ continued: true, queued: true });
    // An older full list than the one continued (a late delivery): nothing.
    const older = await send(p, nodes.map((_, i) => check(i, 'passing', 50)), 60);
    expect(older.status).toBe(200);
    expect(await watermark(p.cluster)).toBe(10);

    const runs = await runContinuations(p);
    expect(runs).toBeGreaterThan(1);
    expect(await watermark(p.cluster)).toBe(400 + N - 1);
    // A second delivery of a step already run: its part is done.
    expect(await p.runTimer(JSON.stringify(pending))).toBe('continuation-gone');

    await sendDigests(p);
    // node-59 went critical and back before anyone was told (its critical observation is older than the stored passing one).
    await expectEachOnce(p, nodes.slice(0, N - 1));
    // node-0's recovery is told once: one by one, or in the digest.
    const resolved = p.published.filter((a) => a.kind === 'check' && a.state === 'resolved').map((a) => a.node);
    expect([...resolved, ...(await foldedChecks(p.cluster, 'resolved'))]).toEqual(['node-0']);
    const scope = await new DynamoScopeStore(doc, TABLE).getScope(p.cluster, 'consul-checks/checks');
    expect([...scope.active].sort()).toEqual(nodes.slice(1, N - 1).map((n) => `check/${n}/serfHealth-${n.slice(5)}`).sort());
  }, 120000);

  it('500 Serf members failing at once, in one invocation and as several from other agents: each member alerted once', async () => {
    const p = pipeline();
    const members = Array.from({ length: 500 }, (_, i) => `member-${i}`);
    calls.length = 0;
    const one = await sendEnvelope(p, failedEnvelope(p, 'agent-a', members));
    expect(one.status).toBe(200);
    // Each failure is two transitions: the member's record and its node's incident (README "Node down as one incident").
    expect(calls.length / (2 * 500)).toBeLessThanOrEqual(3);
    // member-failed runs on every surviving member, each with its own coalescing: the same failures in other slices.
    for (const [reporter, slice] of [['agent-b', members.slice(0, 200)], ['agent-c', members.slice(200)], ['agent-d', members.slice(100, 400)]] as const) {
      expect((await sendEnvelope(p, failedEnvelope(p, reporter, slice))).status).toBe(200);
    }
    await sendDigests(p);
    // Each failure told once: as its node's incident (the member's alert folds into it; README "Node down as one incident").
    const delivered = p.published.filter((a) => (a.source === 'serf' || a.kind === 'node') && a.kind !== 'digest' && a.state === 'firing').map((a) => a.node);
    expect([...delivered, ...(await foldedChecks(p.cluster))].sort()).toEqual([...members].sort());
  }, 120000);

  it('500 Serf members with a budget that runs out: 503 for the rest, the same request again goes on, each member alerted once', async () => {
    const p = pipeline({ budgetMs: 1000 });
    const members = Array.from({ length: 500 }, (_, i) => `member-${i}`);
    const envelope = failedEnvelope(p, 'agent-a', members);
    p.clock.perWrite = 20; // ~50 members per request, plus those in flight
    const answers: number[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      const res = await sendEnvelope(p, envelope); // byte for byte, as the shim's spool resends it
      answers.push(res.status);
      if (res.status === 200) break;
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ error: 'time_budget' });
    }
    expect(answers.at(-1)).toBe(200);
    expect(answers.length).toBeGreaterThan(2);
    await sendDigests(p);
    // Each failure told once: as its node's incident (the member's alert folds into it; README "Node down as one incident").
    const delivered = p.published.filter((a) => (a.source === 'serf' || a.kind === 'node') && a.kind !== 'digest' && a.state === 'firing').map((a) => a.node);
    expect([...delivered, ...(await foldedChecks(p.cluster))].sort()).toEqual([...members].sort());
  }, 120000);

  it('a service watch of 300 instances going critical with a budget that runs out: 503 for the rest, resends go on, each instance alerted once, the scope moved at the end', async () => {
    const p = pipeline({ budgetMs: 1000 });
    const nodes = Array.from({ length: 300 }, (_, i) => `node-${i}`);
    const entries = (status: string, index: number) => nodes.map((n) => serviceEntry(n, 'web', { status, index }));
    const envelope = (status: string, index: number) => ({ ...consulEnvelope('service', entries(status, index), { cluster: p.cluster, index: String(index), scope: 'web', sentAt: new Date(p.clock.now).toISOString() }) });
    expect((await sendEnvelope(p, envelope('passing', 20))).status).toBe(200);
    const scopes = new DynamoScopeStore(doc, TABLE);
    const before = (await scopes.getScope(p.cluster, 'consul-service/web')).watermark;

    p.clock.perWrite = 50; // ~20 instances per request, plus those in flight
    const critical = envelope('critical', 40);
    const answers: number[] = [];
    for (let attempt = 0; attempt < 40; attempt++) {
      const res = await sendEnvelope(p, critical);
      answers.push(res.status);
      if (res.status === 200) break;
      expect(res.body).toMatchObject({ error: 'time_budget' });
      expect((await scopes.getScope(p.cluster, 'consul-service/web')).watermark).toBe(before);
    }
    expect(answers.at(-1)).toBe(200);
    expect(answers.length).toBeGreaterThan(2);
    expect((await scopes.getScope(p.cluster, 'consul-service/web')).watermark).toBeGreaterThan(before);
    await sendDigests(p);
    const delivered = p.published.filter((a) => a.kind !== 'digest' && a.state === 'firing').map((a) => a.node);
    expect([...delivered, ...(await foldedChecks(p.cluster))].sort()).toEqual([...nodes].sort());
  }, 120000);
});
