/**
 * Indexes that go backwards (docs/consul.md), end to end: the bundled shim run as Consul
 * runs it (CONSUL_INDEX in the environment, the watch result on stdin), several agents,
 * spools, against `npm start`; alerts read from a queue subscribed to the alerts topic.
 * A rebuilt cluster under every snapshot watch type; older deliveries (another agent a few
 * indexes behind, a spool flushed after the rebuild) that must stay no-ops; a keyprefix
 * list that lost its newest key.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deadPort, ensureBuilt, queued, runShim, tempDir } from '../shim/helpers';
import { NotificationLog } from '../support/notifications';
import { goJsonLine } from '../support/consul-fixtures';
import { check, NEWEST_KEY_DELETED, RESET_SCENARIOS, type ResetScenario } from '../support/index-reset-scenarios';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';

let pipeline: LocalPipeline;
let notifications: NotificationLog;

beforeAll(async () => {
  ensureBuilt();
  const configFile = join(tempDir('tocsin-reset-config-'), 'tocsin.yaml');
  // No storm grouping in the way: every alert arrives as itself.
  writeFileSync(configFile, ['clusters: [default]', 'channels:', '  oncall: { type: email, addresses: [] }', 'defaults:', '  channels: [oncall]', '  resolved: true', 'grouping:', '  windowSeconds: 60', '  threshold: 5000', ''].join('\n'));
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: configFile } });
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90000);

afterAll(async () => {
  expect(await pipeline?.stop()).toBe(0);
});

/** Titles of the alerts received until `count` arrived (or 15 s), listening 1 s more for extras; sorted. */
async function alerts(count: number): Promise<string[]> {
  const got = (await notifications.collect(count, 15000, count === 0 ? 1500 : 1000)).map((n) => n.alert.title);
  return got.sort();
}

/** One Consul agent running `tocsin-shim --watch <type>` as its watch handler, with its own spool (and checks delta state). */
function agent(node: string, type: string, scope: string, url = () => pipeline.url) {
  const spool = tempDir(`tocsin-reset-${node}-`);
  const env = (index?: number) => ({
    TOCSIN_URL: url(),
    TOCSIN_CLUSTER: pipeline.cluster,
    TOCSIN_KEY: pipeline.key,
    TOCSIN_NODE: node,
    TOCSIN_SCOPE: scope,
    TOCSIN_SPOOL_DIR: spool,
    ...(index !== undefined ? { CONSUL_INDEX: String(index) } : {}),
  });
  return {
    spool,
    deliver: async (body: unknown, index: number) => {
      const run = await runShim({ args: ['--watch', type], env: env(index), stdin: goJsonLine(body) });
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      return run;
    },
    /** A delivery the API cannot take now: kept in the spool (exit 0, a note on stderr). */
    deliverSpooled: async (body: unknown, index: number) => {
      const run = await runShim({ args: ['--watch', type], env: env(index), stdin: goJsonLine(body) });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('spooled as');
      expect(queued(spool)).toHaveLength(1);
    },
    /** Resend its spool (`tocsin-shim flush`, as from a cron job once the API is back). */
    flush: (to: string) => runShim({ args: ['flush'], env: { ...env(), TOCSIN_URL: to } }),
  };
}

/** A checks scenario with every check on `node` (and the titles saying so). */
function onNode(s: ResetScenario, node: string): ResetScenario {
  const move = (body: unknown) => (body as Array<Record<string, unknown>>).map((c) => ({ ...c, Node: node }));
  const said = (titles: string[]) => titles.map((t) => t.replace(' on web-1', ` on ${node}`)).sort();
  return {
    ...s,
    history: s.history.map((h) => ({ ...h, body: move(h.body), alerts: said(h.alerts) })),
    older: { ...s.older, body: move(s.older.body) },
    reset: { ...s.reset, body: move(s.reset.body), alerts: said(s.reset.alerts) },
    next: { ...s.next, body: move(s.next.body), alerts: said(s.next.alerts) },
  };
}

describe('index resets, shim to SNS', () => {
  describe.each(RESET_SCENARIOS)('$type watch', (s) => {
    it('a rebuilt cluster: what changed relative to the stored state alerts once; an older view from another agent changes nothing', async () => {
      const a = agent('agent-a', s.type, s.scope);
      const b = agent('agent-b', s.type, s.scope);
      for (const h of s.history) {
        await a.deliver(h.body, h.index);
        expect(await alerts(h.alerts.length)).toEqual(h.alerts);
      }
      // agent-b, a few indexes behind, delivers its older view after agent-a's.
      await b.deliver(s.older.body, s.older.index);
      expect(await alerts(0)).toEqual([]);

      // The cluster is rebuilt; agent-a's watch fires with the new index space.
      await a.deliver(s.reset.body, s.reset.index);
      expect(await alerts(s.reset.alerts.length)).toEqual(s.reset.alerts);
      await b.deliver(s.reset.body, s.reset.index);
      expect(await alerts(0)).toEqual([]);

      // The new space moves on, far below the old watermark.
      await b.deliver(s.next.body, s.next.index);
      expect(await alerts(s.next.alerts.length)).toEqual(s.next.alerts);
    }, 90000);
  });

  it('checks: a snapshot spooled before the rebuild and flushed after it changes nothing', async () => {
    const dead = `http://127.0.0.1:${await deadPort()}/v1/ingest`;
    // The checks scenario on a node of its own (check subjects are per cluster, whatever the scope).
    const s = onNode(RESET_SCENARIOS.find((x) => x.type === 'checks')!, 'web-9');
    const a = agent('agent-a', 'checks', 'checks-spooled');
    const b = agent('agent-b', 'checks', 'checks-spooled', () => dead);
    await a.deliver(s.history[0]!.body, s.history[0]!.index);
    expect(await alerts(s.history[0]!.alerts.length)).toEqual(s.history[0]!.alerts);

    // agent-b cannot reach the API just before the rebuild: its view (b recovered, e still
    // warning, a new critical g) waits in its spool.
    const beforeRebuild = [check('a', 'passing', 4_000_000, 4_000_000), check('b', 'passing', 4_000_001, 5_000_020), check('d', 'critical', 4_000_003, 5_000_005), check('e', 'warning', 4_000_004, 5_000_010), check('g', 'critical', 5_000_021, 5_000_021)].map((c) => ({ ...c, Node: 'web-9' }));
    await b.deliverSpooled(beforeRebuild, 5_000_021);

    await a.deliver(s.reset.body, s.reset.index);
    expect(await alerts(s.reset.alerts.length)).toEqual(s.reset.alerts);

    // The API is reachable again for agent-b: its spool goes out, oldest first, with the
    // index of the old space, far above the new watermark. Its handler ran before the reset.
    const flushed = await b.flush(pipeline.url);
    expect(flushed.code).toBe(0);
    expect(queued(b.spool)).toEqual([]);
    expect(await alerts(0)).toEqual([]);

    // The new space was not pushed back to the old one: its next change is heard.
    await a.deliver(s.next.body, s.next.index);
    expect(await alerts(s.next.alerts.length)).toEqual(s.next.alerts);
  }, 90000);

  it('keyprefix: the newest key deleted (the index drops) is one "deleted"; the list from before, flushed late from a spool, changes nothing', async () => {
    const k = NEWEST_KEY_DELETED;
    const dead = `http://127.0.0.1:${await deadPort()}/v1/ingest`;
    const a = agent('agent-a', 'keyprefix', k.scope);
    const b = agent('agent-b', 'keyprefix', k.scope, () => dead);
    await a.deliver(k.baseline.body, k.baseline.index);
    await a.deliver(k.created.body, k.created.index);
    expect(await alerts(1)).toEqual(k.created.alerts);
    await b.deliverSpooled(k.created.body, k.created.index); // agent-b cannot reach the API

    await a.deliver(k.deleted.body, k.deleted.index);
    expect(await alerts(1)).toEqual(k.deleted.alerts);

    expect((await b.flush(pipeline.url)).code).toBe(0);
    expect(queued(b.spool)).toEqual([]);
    expect(await alerts(0)).toEqual([]);

    await a.deliver(k.next.body, k.next.index);
    expect(await alerts(1)).toEqual(k.next.alerts);
  }, 90000);
});
