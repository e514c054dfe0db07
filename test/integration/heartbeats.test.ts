/**
 * Heartbeats through the composition root (createApplication on the DynamoDB adapters, as
 * the Lambdas wire it) against a DynamoDB-compatible server (DynamoDB Local or dynalite):
 * signed envelopes through the HTTP API, sweeps through the sweeper, alerts through the
 * dispatcher (rules, silences) to a channel publisher that records what it is handed. The
 * clock is ours: durations pass by moving it.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createApplication } from '../../lambdas/app/application';
import { httpApi } from '../../lambdas/app/application-http';
import { heartbeatsOf } from '../../lambdas/app/application-heartbeats';
import { sweeper } from '../../lambdas/app/application-sweeper';
import type { WatcherStore } from '../../lambdas/app/heartbeat-ports';
import type { HttpRequest } from '../../lambdas/app/http';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { StaticConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { DynamoWatcherStore } from '../../lambdas/adapters/dynamo-watcher-store';
import { tokenDigest } from '../../lambdas/domain/consul/tokens';
import { CONSUL_HTTP, HEARTBEAT_ENVELOPE, LIMITS, ROUTES } from '../../lambdas/domain/protocol';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import type { Alert, Envelope } from '../../lambdas/domain/types';
import { runWatchers } from '../../bin/commands/watchers';
import { createHttpServer } from '../../local/http-server';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { consulEnvelope, healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { memberLine, serfEnvelope } from '../support/serf-fixtures';
import { signedEnvelope, signedRaw } from '../support/signed-requests';

const TABLE = 'tocsin-it-heartbeats';
const KEY = 'it-shim-key';
const ADMIN = 'it-admin-key';
const TOKEN = 'it-consul-token';
const EVERY = 60;
const MISSING_AFTER = 300;

let dynamo: TestDynamo;
let endpoint: string;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  endpoint = dynamo.endpoint;
  const { client } = dynamoClients(endpoint);
  await ensureStateTable(client, TABLE);
  client.destroy();
}, 120000);

afterAll(async () => {
  await dynamo?.stop();
});

/**
 * One cluster; `process()` builds another application on the same table and clock (another
 * Lambda container: its own caches), publishing to the same list.
 */
function cluster(opts: { rules?: unknown[]; startMs?: number } = {}) {
  const name = `hb-${randomUUID().slice(0, 8)}`;
  let now = opts.startMs ?? Date.now();
  const clock = { nowMs: () => now };
  const { config, issues } = normalizeConfig({
    clusters: [name],
    channels: { oncall: { type: 'email' }, quiet: { type: 'email' } },
    defaults: { channels: ['oncall'] },
    rules: opts.rules ?? [],
    heartbeats: { every: EVERY, missingAfter: MISSING_AFTER },
  });
  expect(issues).toEqual([]);
  const published: Alert[] = [];
  /** DynamoDB calls on watcher items, by command: what the report path costs. */
  const watcherCalls: string[] = [];
  const process = (overrides: { watchers?: (real: WatcherStore) => WatcherStore; graceFromMs?: number } = {}) => {
    const { doc } = dynamoClients(endpoint);
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: { sk?: string } }).Key;
        if (key?.sk?.startsWith('watcher#')) watcherCalls.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'countWatcherCalls' },
    );
    const real = new DynamoWatcherStore(doc, TABLE);
    const app = createApplication(
      { config, ...(overrides.graceFromMs !== undefined ? { heartbeatGraceFromMs: overrides.graceFromMs } : {}) },
      awsPorts({
        clients: () => ({ doc }),
        tableName: TABLE,
        alertsTopicArn: 'unused',
        timersQueueUrl: 'unused',
        config,
        clock,
        logger: { info: () => undefined, error: () => undefined },
        keys: {
          clusterKeys: new StaticClusterKeys({ [name]: KEY }),
          adminKeys: new StaticClusterKeys({ [name]: ADMIN }),
          consulTokens: new StaticConsulTokens({ [name]: tokenDigest(TOKEN) }),
        },
        overrides: {
          channels: { publish: async (a) => void published.push(a) },
          timers: { schedule: async () => undefined },
          alertsProbe: { reachable: async () => undefined },
          watchers: overrides.watchers ? overrides.watchers(real) : real,
        },
      }),
    );
    const api = httpApi(app);
    const sweep = sweeper(app);
    return {
      app,
      api,
      sweep,
      async send(envelope: Envelope) {
        const res = await api(signedEnvelope(envelope, { key: KEY, cluster: name, timestamp: Math.floor(now / 1000) }));
        expect(res.status).toBe(200);
        return res;
      },
      heartbeat(node: string) {
        return this.send({ v: 1, cluster: name, source: HEARTBEAT_ENVELOPE.source, type: HEARTBEAT_ENVELOPE.type, node, index: null, sentAt: new Date(now).toISOString(), body: '', bodyEncoding: 'utf8' });
      },
    };
  };
  return {
    name,
    published,
    watcherCalls,
    process,
    advance: (seconds: number) => void (now += seconds * 1000),
    now: () => now,
    /** What was published since the last call: "<state> <title>" in order. */
    take(): string[] {
      return published.splice(0).map((a) => `${a.state} ${a.title.replace(/ \(last at [^)]*\)/, '').replace(/ \(silent for [^)]*\)/, '')}`);
    },
  };
}

const checksOf = (c: ReturnType<typeof cluster>, node: string) =>
  consulEnvelope('checks', [healthCheck({ Node: node, CheckID: 'service:web', Status: 'passing', ModifyIndex: 10 })], { cluster: c.name, node, scope: `checks-${node}` });
const joinOf = (c: ReturnType<typeof cluster>, node: string) => serfEnvelope({ cluster: c.name, type: 'member-join', reporter: node, body: memberLine(node, '10.0.0.3', {}) });

describe('heartbeats', () => {
  it('every watcher of a cluster stops: one warning per watcher, then the critical; a report resolves its own and the cluster at once', async () => {
    const c = cluster();
    const p = c.process();
    await p.heartbeat('web-1');
    await p.send(checksOf(c, 'web-2'));
    await p.send(joinOf(c, 'web-3'));
    c.take(); // the member join notice
    c.advance(EVERY);
    expect((await p.sweep()).ok).toBe(true);
    expect(c.take()).toEqual([]);

    c.advance(MISSING_AFTER);
    const swept = await p.sweep();
    expect(swept).toMatchObject({ ok: true, tasks: [{ name: 'heartbeats', ok: true, summary: { watchers: 3, silent: 3, transitions: 4 } }, { name: 'timers', ok: true }, { name: 'silences', ok: true }] });
    const got = c.take();
    expect(got.slice(0, 3).sort()).toEqual(['web-1', 'web-2', 'web-3'].map((n) => `firing WARNING: watcher ${n} of ${c.name} has not reported for 5m`));
    expect(got.slice(3)).toEqual([`firing CRITICAL: cluster ${c.name} is silent: none of its 3 watchers has reported for 5m`]);
    c.advance(60);
    await p.sweep();
    expect(c.take()).toEqual([]);

    // web-2's watch fires again: resolved at once, no sweep needed, and the cluster with it.
    await p.send(checksOf(c, 'web-2'));
    expect(c.take()).toEqual([`resolved RESOLVED: watcher web-2 of ${c.name} reports again`, `resolved RESOLVED: cluster ${c.name} reports again (web-2)`]);
    c.advance(60);
    await p.sweep();
    expect(c.take()).toEqual([]);
    const { watchers } = await heartbeatsOf(p.app).list(c.name);
    expect(watchers.map((w) => [w.node, w.state, w.alertedSince !== undefined, w.via ?? null])).toEqual([
      ['web-1', 'missing', true, null],
      ['web-2', 'reporting', false, 'consul/checks'],
      ['web-3', 'missing', true, 'serf/member-join'],
    ]);
  });

  it('every warning goes out before the critical', async () => {
    const c = cluster();
    const p = c.process();
    for (const n of ['a', 'b', 'c', 'd', 'e']) await p.heartbeat(n);
    c.advance(MISSING_AFTER + 1);
    await p.sweep();
    const order = c.published.map((a) => a.severity);
    expect(order).toEqual(['warning', 'warning', 'warning', 'warning', 'warning', 'critical']);
    c.take();
  });

  it('two sweeps at once (two processes) give no duplicates, nor do a report and sweeps racing', async () => {
    const c = cluster();
    const [a, b, d] = [c.process(), c.process(), c.process()];
    for (const n of ['web-1', 'web-2', 'web-3']) await a.heartbeat(n);
    c.advance(MISSING_AFTER + 1);
    const outs = await Promise.all([a.sweep(), b.sweep(), d.sweep(), a.sweep()]);
    expect(outs.every((o) => o.ok)).toBe(true);
    const got = c.take();
    expect(got.filter((t) => t.startsWith('firing WARNING'))).toHaveLength(3);
    expect(new Set(got).size).toBe(got.length);
    expect(got.filter((t) => t.startsWith('firing CRITICAL'))).toHaveLength(1);
    expect(got).toHaveLength(4);

    c.advance(30);
    await Promise.all([b.heartbeat('web-1'), a.sweep(), d.sweep()]);
    c.advance(1);
    await Promise.all([a.sweep(), b.sweep()]);
    expect(c.take().sort()).toEqual([`resolved RESOLVED: cluster ${c.name} reports again (web-1)`, `resolved RESOLVED: watcher web-1 of ${c.name} reports again`].sort());
  });

  it('a report that lands between the sweep reading the watchers and flagging one is resolved by the sweep', async () => {
    const c = cluster();
    let reportDuringSweep: (() => Promise<void>) | undefined;
    const p = c.process({
      watchers: (real) => ({
        touch: (...a) => real.touch(...a),
        list: (cl) => real.list(cl),
        clearMissing: (...a) => real.clearMissing(...a),
        forget: (...a) => real.forget(...a),
        alertRecords: (cl) => real.alertRecords(cl),
        markMissing: async (cl, node, since) => {
          const report = reportDuringSweep;
          reportDuringSweep = undefined;
          await report?.();
          return real.markMissing(cl, node, since);
        },
      }),
    });
    await p.heartbeat('web-1');
    await p.heartbeat('web-2');
    c.advance(MISSING_AFTER + 1);
    // web-1 reports (from another process: its own cache) after the sweep read the watchers, before the flag.
    const other = c.process();
    reportDuringSweep = async () => void (await other.heartbeat('web-1'));
    await p.sweep();
    const got = c.take();
    expect(got.filter((t) => t.includes('web-1'))).toEqual([`firing WARNING: watcher web-1 of ${c.name} has not reported for 5m`, `resolved RESOLVED: watcher web-1 of ${c.name} reports again`]);
    expect(got.filter((t) => t.includes('web-2'))).toEqual([`firing WARNING: watcher web-2 of ${c.name} has not reported for 5m`]);
    expect(got.some((t) => t.includes('CRITICAL'))).toBe(false);
    const w1 = (await heartbeatsOf(p.app).list(c.name)).watchers.find((w) => w.node === 'web-1');
    expect(w1).toMatchObject({ state: 'reporting' });
    expect(w1?.alertedSince).toBeUndefined();
  });

  it('signs of life cost at most one watcher write per every/2 per process, however many envelopes', async () => {
    const c = cluster();
    const p = c.process();
    for (let i = 0; i < 10; i++) {
      await p.heartbeat('web-1');
      c.advance(2);
    }
    expect(c.watcherCalls).toEqual(['UpdateItemCommand']);
    await p.send(checksOf(c, 'web-1')); // a handler's report is remembered separately (last handler report)
    for (let i = 0; i < 5; i++) await p.send(checksOf(c, 'web-1'));
    expect(c.watcherCalls).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);
    c.advance(EVERY / 2);
    await p.heartbeat('web-1');
    expect(c.watcherCalls).toEqual(['UpdateItemCommand', 'UpdateItemCommand', 'UpdateItemCommand']);
  });

  it("Consul's http route counts as a sign of life only with X-Tocsin-Node", async () => {
    const c = cluster();
    const p = c.process();
    const post = (node?: string) =>
      p.api({
        ...signedRaw(Buffer.from('[]'), { key: 'unused', cluster: c.name, method: 'POST', path: ROUTES.consulHttp.path.replace('{watchType}', 'checks') }),
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', [CONSUL_HTTP.indexHeader]: '12', ...(node ? { [CONSUL_HTTP.nodeHeader]: node } : {}) },
        query: { [CONSUL_HTTP.clusterParam]: c.name },
      } as HttpRequest);
    expect((await post()).status).toBe(200);
    expect((await heartbeatsOf(p.app).list(c.name)).watchers).toEqual([]);
    expect((await post('consul-3')).status).toBe(200);
    expect((await heartbeatsOf(p.app).list(c.name)).watchers.map((w) => [w.node, w.via])).toEqual([['consul-3', 'consul/checks']]);
  });

  it('heartbeats go through rules like any alert: kind heartbeat routes, and a suppress rule keeps them from everyone', async () => {
    const c = cluster({
      rules: [
        { name: 'lab-quiet', match: { kind: 'heartbeat', node: { glob: 'lab-*' } }, suppress: true },
        { name: 'heartbeats', match: { kind: 'heartbeat', source: 'tocsin' }, channels: ['quiet'] },
      ],
    });
    const p = c.process();
    await p.heartbeat('lab-1');
    await p.heartbeat('web-1');
    c.advance(MISSING_AFTER + 1);
    await p.sweep();
    expect(c.published.map((a) => [a.title.split(' (')[0], a.channels, a.rules])).toEqual([
      [`WARNING: watcher web-1 of ${c.name} has not reported for 5m`, ['quiet'], ['heartbeats']],
      [`CRITICAL: cluster ${c.name} is silent: none of its 2 watchers has reported for 5m`, ['quiet'], ['heartbeats']],
    ]);
    c.take();
  });

  it('tocsin watchers lists them and forgets one (its warning resolves), signed with the admin key; the shim key is refused', async () => {
    // Our clock ends up near the real one, which the CLI signs with.
    const c = cluster({ startMs: Date.now() - (MISSING_AFTER + 60) * 1000 });
    const p = c.process();
    await p.heartbeat('web-1');
    await p.send(checksOf(c, 'web-2'));
    c.advance(MISSING_AFTER + 1);
    await p.send(checksOf(c, 'web-2'));
    await p.sweep();
    expect(c.take()).toEqual([`firing WARNING: watcher web-1 of ${c.name} has not reported for 5m`]);

    const server = createHttpServer(p.api, LIMITS.maxWireBytes);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${ROUTES.ingest.path}`;
    try {
      const env = { TOCSIN_URL: url, TOCSIN_CLUSTER: c.name, TOCSIN_ADMIN_KEY: ADMIN };
      const listed = await runWatchers([], env);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^cluster ${c.name}: heartbeats every 1m, missing after 5m; sweeper last ran `));
      expect(listed.stdout).toMatch(/\nweb-1 +MISSING \(alerted\) /);
      expect(listed.stdout).toMatch(/\nweb-2 +REPORTING +\S+ +\S+ +\S+ consul\/checks /);
      const json = JSON.parse((await runWatchers(['--json'], env)).stdout) as { watchers: Array<{ node: string; state: string }> };
      expect(json.watchers.map((w) => [w.node, w.state])).toEqual([
        ['web-1', 'missing'],
        ['web-2', 'reporting'],
      ]);

      expect(await runWatchers(['forget', c.name, 'web-1'], env)).toMatchObject({ code: 0, stdout: `forgot watcher web-1 of ${c.name}; its missing alert is resolved\n` });
      expect(c.take()).toEqual([`resolved RESOLVED: watcher web-1 of ${c.name} retired (no longer expected)`]);
      expect(await runWatchers(['forget', c.name, 'web-1'], env)).toMatchObject({ code: 1, stderr: expect.stringContaining('404 not_found') });
      expect(await runWatchers([], { ...env, TOCSIN_ADMIN_KEY: KEY })).toMatchObject({ code: 77, stderr: expect.stringContaining("sign with the cluster's admin key") });

      // Forgotten: no longer expected, so its silence is no alert; web-2 silent alone is a silent cluster.
      c.advance(MISSING_AFTER + 1);
      await p.sweep();
      expect(c.take()).toEqual([`firing WARNING: watcher web-2 of ${c.name} has not reported for 5m`, `firing CRITICAL: cluster ${c.name} is silent: none of its 1 watcher has reported for 5m`]);
      // A forgotten watcher that reports again is expected again, and its first report ends the cluster's silence.
      await p.heartbeat('web-1');
      expect(c.take()).toEqual([`resolved RESOLVED: cluster ${c.name} reports again (web-1)`]);
      expect((await heartbeatsOf(p.app).list(c.name)).watchers.map((w) => w.node)).toEqual(['web-1', 'web-2']);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('npm start counts silence from its own start: a stopped runner blames no watcher', async () => {
    const c = cluster();
    const p = c.process();
    await p.heartbeat('web-1');
    c.advance(3600); // the runner was stopped for an hour
    const restarted = c.process({ graceFromMs: c.now() });
    await restarted.sweep();
    expect(c.take()).toEqual([]);
    c.advance(MISSING_AFTER);
    await restarted.sweep();
    expect(c.take()).toEqual([`firing WARNING: watcher web-1 of ${c.name} has not reported for 5m`, `firing CRITICAL: cluster ${c.name} is silent: none of its 1 watcher has reported for 5m`]);
  });
});
