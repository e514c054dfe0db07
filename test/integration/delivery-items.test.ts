/**
 * The notification items through a real DynamoDB-compatible server (DynamoDB Local when
 * Java is present, else dynalite): silences (expiry checked on read, conditional expire),
 * the storm counter and folds, digest marks, and episodes written by the timer worker.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDigestStore, DynamoStormGate } from '../../lambdas/adapters/dynamo-storm-store';
import { DynamoSilenceStore } from '../../lambdas/adapters/dynamo-silence-store';
import { DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { handleTimer } from '../../lambdas/app/timer-worker';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { routeAlert } from '../../lambdas/domain/rules/episodes';
import type { OutboxEntry, Timer } from '../../lambdas/domain/rules/outbox';
import type { Silence } from '../../lambdas/domain/rules/silences';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-notify';
let dynamo: TestDynamo;
let doc: ReturnType<typeof dynamoClients>['doc'];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const c = dynamoClients(dynamo.endpoint);
  doc = c.doc;
  await ensureStateTable(c.client, TABLE);
}, 120000);
afterAll(async () => dynamo?.stop());

const cluster = () => `c-${randomUUID().slice(0, 8)}`;
// Window-aligned and recent: the storm items' TTL (a day after NOW) must lie ahead, or DynamoDB Local may sweep them mid-test.
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const alert = (c: string, id: string): Alert => ({ id, cluster: c, source: 'consul', kind: 'check', severity: 'critical', state: 'firing', node: 'n', title: `CRITICAL: ${id}`, to: 'critical', at: new Date(NOW).toISOString(), details: [] });

describe(`notification items (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('silences: create, list, expire once; expired ones stay listed but never apply', async () => {
    const c = cluster();
    const store = new DynamoSilenceStore(doc, TABLE, 0);
    const s: Silence = { id: 'abc', cluster: c, matchers: { service: 'web' }, startsAt: new Date(NOW - 1000).toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), author: 'a', comment: 'c', createdAt: '' };
    await store.create(s);
    await expect(store.create(s)).rejects.toThrow();
    expect((await store.forCluster(c)).map((x) => x.id)).toEqual(['abc']);
    const expired = await store.expire(c, 'abc', Date.now());
    expect(expired.kind).toBe('expired');
    expect((await store.expire(c, 'abc', Date.now())).kind).toBe('already_expired');
    expect((await store.expire(c, 'nope', Date.now())).kind).toBe('not_found');
    const [after] = await store.list(c);
    expect(Date.parse(after!.endsAt)).toBeLessThanOrEqual(Date.now());
  });

  it('storm gate: counts per window and channel, folds past the threshold, schedules the digest once', async () => {
    const c = cluster();
    const grouping = { windowSeconds: 60, threshold: 2 };
    const gate = new DynamoStormGate(doc, TABLE, grouping);
    const verdicts = [];
    for (let i = 0; i < 5; i++) verdicts.push(await gate.admit(c, 'slack', alert(c, `a${i}`), NOW));
    expect(verdicts.map((v) => v.verdict)).toEqual(['deliver', 'deliver', 'fold', 'fold', 'fold']);
    expect(verdicts.filter((v) => v.verdict === 'fold' && v.digest)).toHaveLength(1);
    expect((await gate.admit(c, 'email', alert(c, 'x'), NOW)).verdict).toBe('deliver'); // another channel, its own count
    await gate.admit(c, 'slack', alert(c, 'a4'), NOW); // a retry of a folded alert folds once

    const digests = new DynamoDigestStore(doc, TABLE);
    const timer = (verdicts[2] as { digest: Extract<Timer, { kind: 'digest' }> }).digest;
    const folded = await digests.folded(timer, 10);
    expect(folded.total).toBe(3);
    expect(folded.items.map((f) => f.id).sort()).toEqual(['a2', 'a3', 'a4']);
    expect(await digests.wasSent(timer)).toBe(false);
    await digests.markSent(timer);
    expect(await digests.wasSent(timer)).toBe(true);

    // A failed schedule is undone so that the next fold schedules it.
    const next = NOW + 60_000;
    for (let i = 0; i < 3; i++) await gate.admit(c, 'slack', alert(c, `b${i}`), next);
    const again = await gate.admit(c, 'slack', alert(c, 'b3'), next);
    expect(again).toEqual({ verdict: 'fold' });
    await gate.digestNotScheduled({ kind: 'digest', cluster: c, channel: 'slack', window: next, dueAt: 0 });
    expect(await gate.admit(c, 'slack', alert(c, 'b4'), next)).toMatchObject({ verdict: 'fold', digest: { window: next } });
  });

  it('timer worker: a for timer notifies once through the engine and records it in the episode', async () => {
    const c = cluster();
    const subjects = new DynamoSubjectStore(doc, TABLE);
    const rules = compileRules({ clusters: [c], channels: { slack: { type: 'slack' } }, defaults: { channels: [], resolved: true }, rules: [{ name: 'slow', channels: ['slack'], for: 1 }], grouping: { windowSeconds: 60, threshold: 20 } });
    const opened = routeAlert({ rules, alert: alert(c, 'x1'), subject: 'check/n/x', previous: undefined, nowMs: Date.now() - 2000 });
    await subjects.put(c, 'check/n/x', undefined, { state: { status: 'critical', episode: opened.episode } });
    const published: OutboxEntry[] = [];
    const deps = {
      subjects,
      publisher: { dispatch: async (entry: OutboxEntry) => void published.push(entry) },
      channels: { publish: async () => undefined },
      timers: { schedule: async () => undefined },
      digests: new DynamoDigestStore(doc, TABLE),
      grouping: { windowSeconds: 60, threshold: 20 },
      clock: { nowMs: () => Date.now() },
    };
    const timer = opened.outbox!.routing!.timers[0]!;
    expect(await handleTimer(deps, timer)).toBe('notified');
    expect(await handleTimer(deps, timer)).toBe('stale'); // a duplicate delivery of the same timer
    expect(published.map((entry) => entry.routing!.deliveries.map((d) => d.channels))).toEqual([[['slack']]]);
    const stored = await subjects.get<{ status: string; episode: { routes: Record<string, { notifiedAt?: number }> } }>(c, 'check/n/x');
    expect(stored!.state.status).toBe('critical');
    expect(stored!.state.episode.routes.slow!.notifiedAt).toBeDefined();
  });
});
