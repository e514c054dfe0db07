/**
 * A big datacenter through the real parts: the built shim, run as Consul runs a watch
 * handler, against `npm start`. 30,000 checks (~18 MB of watch JSON): the first run, a
 * one-change run (a delta, one alert), a forced full resync and a 409 needFull; and
 * keyprefix (10,000 keys), service (5,000 instances) and nodes (6,000 nodes) watches of
 * that size. Every watch result here is over the 6 MiB of plain JSON the API used to take;
 * none lands in rejected/. docs/ARCHITECTURE.md "Big datacenters on the wire".
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir, type RunResult } from '../shim/helpers';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { NotificationLog } from '../support/notifications';
import { LIMITS } from '../../lambdas/domain/protocol';
import { catalogNode, goJsonLine, kvPair, largeSnapshot, serviceEntry } from '../support/consul-fixtures';

let pipeline: LocalPipeline;
let notifications: NotificationLog;

beforeAll(async () => {
  ensureBuilt();
  pipeline = await startLocalPipeline();
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90_000);

afterAll(async () => {
  expect(await pipeline?.stop()).toBe(0);
});

/** One watch handler run of node agent-1; `spool` keeps the shim's state (checks deltas) between runs. */
function watch(target: LocalPipeline, type: string, scope: string, spool: string, body: unknown, index: number, env: Record<string, string> = {}): Promise<RunResult> {
  return runShim({
    args: ['--watch', type, '--scope', scope],
    env: {
      TOCSIN_URL: target.url,
      TOCSIN_CLUSTER: target.cluster,
      TOCSIN_KEY: target.key,
      TOCSIN_NODE: 'agent-1',
      TOCSIN_SPOOL_DIR: spool,
      CONSUL_INDEX: String(index),
      // The machine is shared: the default 5 s bound would make a slow run a spooled (not a failed) one.
      TOCSIN_TIMEOUT_MS: '40000',
      ...env,
    },
    stdin: goJsonLine(body),
    killAfterMs: 50_000,
  });
}

function quiet(run: RunResult, spool: string): void {
  if (process.env.W_TIMING) console.log(`shim run ${run.ms} ms`);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(existsSync(join(spool, 'rejected')) ? readdirSync(join(spool, 'rejected')) : []).toEqual([]);
}

const lastIngested = (target: LocalPipeline) => {
  const lines = target.logs().split('\n').filter((l) => l.includes('"ingested"'));
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
};

describe('a 30,000-check datacenter', () => {
  const spool = tempDir('tocsin-e2e-big-');
  const checks = largeSnapshot(30_000);

  it('the first run is accepted whole', async () => {
    expect(goJsonLine(checks).length).toBeGreaterThan(15_000_000);
    quiet(await watch(pipeline, 'checks', 'dc-checks', spool, checks, 200), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'checks', accepted: 30_000, rejected: 0 });
    expect(await notifications.drain(1000)).toEqual([]);
  }, 60_000);

  it('a later run with one change goes as a delta and alerts once', async () => {
    checks[1234] = { ...checks[1234]!, Status: 'critical', Output: 'HTTP GET: 503 Service Unavailable', ModifyIndex: 300 };
    quiet(await watch(pipeline, 'checks', 'dc-checks', spool, checks, 300), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'checks', accepted: 1, examined: 1, transitions: 1 });
    // The same result again (Consul re-runs handlers after a reload): an empty delta, no alert.
    quiet(await watch(pipeline, 'checks', 'dc-checks', spool, checks, 300), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'checks', accepted: 0 });
    const got = await notifications.drain(1500);
    expect(got.map((n) => [n.alert.node, n.alert.severity, n.alert.state])).toEqual([[checks[1234]!.Node, 'critical', 'firing']]);
  }, 60_000);

  it('a forced full resync is accepted and alerts nothing new', async () => {
    quiet(await watch(pipeline, 'checks', 'dc-checks', spool, checks, 300, { TOCSIN_FULL_EVERY: '1' }), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'checks', accepted: 30_000, rejected: 0, transitions: 0 });
    expect(await notifications.drain(1000)).toEqual([]);
  }, 60_000);

  it('a backend without the baseline answers the delta 409 needFull, and the whole list is accepted at once', async () => {
    const fresh = await startLocalPipeline();
    try {
      checks[99] = { ...checks[99]!, Status: 'warning', ModifyIndex: 400 };
      // The spool's state is relative to the first pipeline: a delta the fresh one cannot place.
      quiet(await watch(fresh, 'checks', 'dc-checks', spool, checks, 400), spool);
      expect(fresh.logs()).toContain('delta needs a full snapshot');
      expect(lastIngested(fresh)).toMatchObject({ type: 'checks', accepted: 30_000, rejected: 0 });
    } finally {
      expect(await fresh.stop()).toBe(0);
    }
  }, 60_000);
});

describe('npm start enforces the limits on what is sent', () => {
  it('a body over LIMITS.maxWireBytes gets 413 naming the limit, before anything else', async () => {
    const res = await fetch(pipeline.url, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }, body: randomBytes(LIMITS.maxWireBytes + 1) });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('body_too_large');
    expect(body.message).toContain(`limit of ${LIMITS.maxWireBytes} bytes on the wire`);
  });
});

describe('keyprefix, service and nodes watches of a big datacenter', () => {
  it('keyprefix: 10,000 keys of 1 KB values; one value changed is one alert', async () => {
    const spool = tempDir('tocsin-e2e-big-');
    const value = (i: number, v: number) => JSON.stringify({ service: `app-${i}`, version: v, replicas: 3, env: 'x'.repeat(900) });
    const keys = Array.from({ length: 10_000 }, (_, i) => kvPair(`config/app-${i}`, value(i, 1), { CreateIndex: 100, ModifyIndex: 100 + (i % 50) }));
    expect(goJsonLine(keys).length).toBeGreaterThan(LEGACY_PLAIN_LIMIT);
    quiet(await watch(pipeline, 'keyprefix', 'dc-kv', spool, keys, 200), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'keyprefix', accepted: 10_000, rejected: 0 });
    keys[77] = kvPair('config/app-77', value(77, 2), { CreateIndex: 100, ModifyIndex: 300 });
    quiet(await watch(pipeline, 'keyprefix', 'dc-kv', spool, keys, 300), spool);
    const got = await notifications.drain(1500);
    expect(got.map((n) => n.alert.title)).toEqual([expect.stringContaining('config/app-77 changed')]);
  }, 60_000);

  it('service: 5,000 instances; one going critical is one alert', async () => {
    const spool = tempDir('tocsin-e2e-big-');
    const entries = Array.from({ length: 5_000 }, (_, i) => serviceEntry(`node-${i}`, `web-${i}`, { index: 20 }));
    expect(goJsonLine(entries).length).toBeGreaterThan(LEGACY_PLAIN_LIMIT);
    quiet(await watch(pipeline, 'service', 'dc-web', spool, entries, 200), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'service', accepted: 5_000, rejected: 0 });
    entries[4321] = serviceEntry('node-4321', 'web-4321', { index: 300, status: 'critical' });
    quiet(await watch(pipeline, 'service', 'dc-web', spool, entries, 300), spool);
    const got = await notifications.drain(1500);
    expect(got.map((n) => [n.alert.node, n.alert.severity])).toEqual([['node-4321', 'critical']]);
  }, 60_000);

  it('nodes: 6,000 nodes; one leaving the catalog is one alert', async () => {
    const spool = tempDir('tocsin-e2e-big-');
    const meta = Object.fromEntries(Array.from({ length: 24 }, (_, k) => [`label-${k}`, `value-${k}-of-this-node`]));
    const nodes = Array.from({ length: 6_000 }, (_, i) => catalogNode(`node-${i}`, { Meta: meta, CreateIndex: 10, ModifyIndex: 10 + (i % 50) }));
    expect(goJsonLine(nodes).length).toBeGreaterThan(LEGACY_PLAIN_LIMIT);
    quiet(await watch(pipeline, 'nodes', 'dc-nodes', spool, nodes, 200), spool);
    expect(lastIngested(pipeline)).toMatchObject({ type: 'nodes', accepted: 6_000, rejected: 0 });
    const gone = nodes.splice(2500, 1)[0]!;
    quiet(await watch(pipeline, 'nodes', 'dc-nodes', spool, nodes, 300), spool);
    const got = await notifications.drain(1500);
    expect(got.map((n) => [n.alert.node, n.alert.title])).toEqual([[gone.Node, expect.stringContaining('left the catalog')]]);
  }, 60_000);
});

/** What the API took before limits applied to what is sent: 6 MiB of plain envelope JSON. */
const LEGACY_PLAIN_LIMIT = 6 * 1024 * 1024;
