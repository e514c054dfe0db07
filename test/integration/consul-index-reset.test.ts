/**
 * Indexes that go backwards (docs/consul.md), through Consul's own http handler route
 * (POST /v1/consul/{watchType} with X-Consul-Index), DynamoDB (Local or dynalite) and
 * SNS/SQS (fauxqs): a rebuilt cluster under every snapshot watch type, older deliveries
 * that must stay no-ops, and a keyprefix list that lost its newest key.
 */
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { StaticConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { DynamoReplayGuard } from '../../lambdas/adapters/dynamo-replay-guard';
import { createIngestHandler } from '../../lambdas/app/ingest-http';
import type { HttpRequest } from '../../lambdas/app/http';
import { jsonLogger } from '../../lambdas/commons/logger';
import { tokenDigest } from '../../lambdas/domain/consul/tokens';
import { RESET_GAP_MS } from '../../lambdas/domain/consul/index-order';
import { catalogServices, goJsonLine } from '../support/consul-fixtures';
import { newCluster, startConsulIt, titles, type ConsulIt } from '../support/consul-it';
import { check, NEWEST_KEY_DELETED, RESET_SCENARIOS } from '../support/index-reset-scenarios';

let it_: ConsulIt;

beforeAll(async () => {
  it_ = await startConsulIt('tocsin-it-index-reset');
}, 120000);

afterAll(async () => {
  await it_?.stop();
});

const TOKEN = 'c0nsul-watch-token_reset';

/** The API with its own clock, so that "five minutes later" takes no five minutes. */
function api() {
  const cluster = newCluster();
  const logs: string[] = [];
  let now = Date.now();
  const handle = createIngestHandler({
    keys: new StaticClusterKeys({ [cluster]: 'hmac-key-not-used-here' }),
    replay: new DynamoReplayGuard(it_.doc, it_.table),
    sources: { ...it_.ctx, clock: { nowMs: () => now } },
    logger: jsonLogger((line) => logs.push(line)),
    consulTokens: new StaticConsulTokens({ [cluster]: tokenDigest(TOKEN) }),
  });
  /** What Consul's http handler posts; `node` is the X-Tocsin-Node header (none: Consul's default setup). */
  const post = async (type: string, scope: string, body: unknown, index: number, node?: string) => {
    now += 1000;
    const req: HttpRequest = {
      method: 'POST',
      path: `/v1/consul/${type}`,
      headers: { 'content-type': 'application/json', 'x-consul-index': String(index), authorization: `Bearer ${TOKEN}`, ...(node ? { 'x-tocsin-node': node } : {}) },
      query: { cluster, scope },
      body: Buffer.from(goJsonLine(body), 'utf8'),
    };
    const res = await handle(req);
    expect(res.status).toBe(200);
    return res.body as Record<string, unknown> & { index?: { verdict: string; evidence?: string } };
  };
  return { cluster, logs, post, advance: (ms: number) => (now += ms) };
}

describe(`index resets through Consul's http handler (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  describe.each(RESET_SCENARIOS)('$type watch', (s) => {
    it('a rebuilt cluster: the agent that reported the old index reports a small one; what changed alerts once, older views change nothing', async () => {
      const { post, logs } = api();
      for (const h of s.history) {
        await post(s.type, s.scope, h.body, h.index, 'consul-1');
        expect(titles(await it_.alerts())).toEqual(h.alerts);
      }
      // Another agent a few indexes behind, a moment later: an older view.
      const older = await post(s.type, s.scope, s.older.body, s.older.index, 'consul-2');
      expect(older.index).toMatchObject({ verdict: 'late' });
      expect(older).toMatchObject({ examined: 0, alertsPublished: 0 });
      expect(await it_.alerts(800)).toEqual([]);

      // The rebuild: the same agent's next delivery comes from a new index space.
      const reset = await post(s.type, s.scope, s.reset.body, s.reset.index, 'consul-1');
      expect(reset.index).toEqual({ verdict: 'reset', evidence: 'same-agent', index: s.reset.index, watermark: expect.any(Number) });
      expect(titles(await it_.alerts())).toEqual(s.reset.alerts);
      expect(logs.some((l) => l.includes('consul index went backwards'))).toBe(true);

      // Every other agent reports the same new snapshot: nothing more.
      expect(await post(s.type, s.scope, s.reset.body, s.reset.index, 'consul-2')).toMatchObject({ alertsPublished: 0 });
      expect(await it_.alerts(800)).toEqual([]);

      // The new space moves on, far below the old watermark: processed as usual.
      expect((await post(s.type, s.scope, s.next.body, s.next.index, 'consul-2')).index).toBeUndefined();
      expect(titles(await it_.alerts())).toEqual(s.next.alerts);
      // The first agent's reset snapshot, late (behind the second agent's newer one): nothing.
      expect((await post(s.type, s.scope, s.reset.body, s.reset.index, 'consul-1')).index).toMatchObject({ verdict: 'late' });
      expect(await it_.alerts(800)).toEqual([]);
    }, 60000);
  });

  it('without X-Tocsin-Node (every agent is "consul-http"): an older view a moment later is a no-op, a small index more than 5 minutes later is a reset', async () => {
    const { post, advance } = api();
    await post('services', 'services', catalogServices({ consul: [], web: ['v1'], api: [] }), 800_000);
    await post('services', 'services', catalogServices({ consul: [], web: ['v1', 'canary'], api: [] }), 800_100);
    expect(titles(await it_.alerts())).toEqual(['INFO: service web tags changed (+canary)']);

    // Another agent's (indistinguishable) older view, seconds later.
    advance(10_000);
    expect((await post('services', 'services', catalogServices({ consul: [], web: ['v1'], api: [] }), 800_050)).index).toMatchObject({ verdict: 'late' });
    // A small index, still within the tolerated clock skew of the last delivery: not enough evidence.
    advance(RESET_GAP_MS - 60_000);
    expect((await post('services', 'services', catalogServices({ consul: [], web: ['v1'] }), 9)).index).toMatchObject({ verdict: 'late' });
    expect(await it_.alerts(800)).toEqual([]);

    // The cluster came back from its rebuild more than five minutes after the last delivery.
    advance(120_000);
    const reset = await post('services', 'services', catalogServices({ consul: [], web: ['v1'] }), 9);
    expect(reset.index).toMatchObject({ verdict: 'reset', evidence: 'later-run' });
    expect(titles(await it_.alerts())).toEqual(['INFO: service api deregistered', 'INFO: service web tags changed (-canary)']);
    await post('services', 'services', catalogServices({ consul: [], web: ['v1'], api: [] }), 15);
    expect(titles(await it_.alerts())).toEqual(['INFO: service api registered']);
  });

  it('a Raft snapshot restore: same items and CreateIndexes, the index back by a little; the restored state is compared like a rebuild', async () => {
    const { post } = api();
    await post('checks', 'checks', [check('a', 'passing', 100, 100), check('b', 'passing', 101, 101)], 500, 'consul-1');
    await post('checks', 'checks', [check('a', 'critical', 100, 880), check('b', 'passing', 101, 101)], 880, 'consul-1');
    await post('checks', 'checks', [check('a', 'critical', 100, 880), check('b', 'warning', 101, 900)], 900, 'consul-1');
    expect(titles(await it_.alerts())).toEqual(['CRITICAL: check a on web-1', 'WARNING: check b on web-1']);
    // Restored from a snapshot taken at 700, then the agents' anti-entropy re-syncs: a is
    // passing now (ModifyIndex 705, below the stored 880); b is still warning (re-synced at 710).
    const restored = await post('checks', 'checks', [check('a', 'passing', 100, 705), check('b', 'warning', 101, 710)], 712, 'consul-1');
    expect(restored.index).toMatchObject({ verdict: 'reset', evidence: 'same-agent' });
    expect(titles(await it_.alerts())).toEqual(['RESOLVED: check a on web-1']);
    // Then a goes critical again at 720: below the old watermark (900), heard at once.
    await post('checks', 'checks', [check('a', 'critical', 100, 720), check('b', 'warning', 101, 710)], 720, 'consul-2');
    expect(titles(await it_.alerts())).toEqual(['CRITICAL: check a on web-1']);
  });

  it('five agents report the new index space at once, more than 5 minutes after the last delivery: each change alerts once', async () => {
    const { post, advance } = api();
    const s = RESET_SCENARIOS.find((x) => x.type === 'checks')!;
    await post('checks', 'checks', s.history[0]!.body, s.history[0]!.index, 'consul-1');
    expect(titles(await it_.alerts())).toEqual(s.history[0]!.alerts);
    advance(RESET_GAP_MS + 30_000);
    const results = await Promise.all(['consul-2', 'consul-3', 'consul-4', 'consul-5', 'consul-6'].map((node) => post('checks', 'checks', s.reset.body, s.reset.index, node)));
    expect(results.every((r) => r.index?.verdict === 'reset' || r.index === undefined)).toBe(true);
    expect(results.reduce((n, r) => n + (r.alertsPublished as number), 0)).toBe(s.reset.alerts.length);
    expect(titles(await it_.alerts())).toEqual(s.reset.alerts);
    await post('checks', 'checks', s.next.body, s.next.index, 'consul-1');
    expect(titles(await it_.alerts())).toEqual(s.next.alerts);
  });

  it('a keyprefix list whose newest key was deleted (its index drops): one "deleted", nothing re-alerted', async () => {
    const { post } = api();
    const k = NEWEST_KEY_DELETED;
    await post('keyprefix', k.scope, k.baseline.body, k.baseline.index, 'consul-1');
    await post('keyprefix', k.scope, k.created.body, k.created.index, 'consul-1');
    await post('keyprefix', k.scope, k.created.body, k.created.index, 'consul-2');
    expect(titles(await it_.alerts())).toEqual(k.created.alerts);

    // The second agent sees the deletion first: a lower index from another agent at once is
    // no evidence of a newer state (it could be its older view); the agent that reported
    // the key then reports the list without it.
    expect((await post('keyprefix', k.scope, k.deleted.body, k.deleted.index, 'consul-2')).index).toMatchObject({ verdict: 'late' });
    expect(await it_.alerts(800)).toEqual([]);
    const deleted = await post('keyprefix', k.scope, k.deleted.body, k.deleted.index, 'consul-1');
    expect(deleted).toMatchObject({ index: { verdict: 'reset' }, alertsPublished: 1 });
    const [alert, ...rest] = await it_.alerts();
    expect(rest).toEqual([]);
    expect(alert?.title).toBe(k.deleted.alerts[0]);
    expect(Object.fromEntries(alert!.details)['Last value']).toBe('3');

    await post('keyprefix', k.scope, k.next.body, k.next.index, 'consul-2');
    expect(titles(await it_.alerts())).toEqual(k.next.alerts);
  });
});
