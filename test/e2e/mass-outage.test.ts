/**
 * End to end, a mass outage: 2,000 checks going critical in one snapshot, through the built
 * shim into `npm start`, with a processing budget small enough (TOCSIN_LOCAL_PROCESSING_BUDGET_MS)
 * that the request is answered before the work is done and the rest continues from the
 * timers queue (the durable bus). Every check is told once: one by one (the storm threshold)
 * or counted in its window's digest, as recorded in notifications.jsonl.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { NotificationLog, type ReceivedNotification } from '../support/notifications';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { until } from '../support/e2e-steps';

const N = 2000;
let pipeline: LocalPipeline;
let notifications: NotificationLog;

beforeAll(async () => {
  ensureBuilt();
  const dir = tempDir('tocsin-e2e-mass-outage-');
  const config = join(dir, 'tocsin.yaml');
  writeFileSync(config, 'clusters: [default]\nchannels:\n  oncall: { type: email }\ndefaults: { channels: [oncall], resolved: true }\ngrouping: { windowSeconds: 10, threshold: 20 }\n');
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: config, TOCSIN_LOCAL_PROCESSING_BUDGET_MS: '300' } });
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90000);

afterAll(async () => {
  expect(await pipeline?.stop()).toBe(0);
});

const checks = (status: string, index: (i: number) => number) =>
  Array.from({ length: N }, (_, i) =>
    healthCheck({ Node: `node-${i}`, CheckID: 'serfHealth', Name: 'Serf Health Status', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '', Status: status, Output: status === 'critical' ? 'Agent not live or unreachable' : 'Agent alive and reachable', CreateIndex: 5, ModifyIndex: index(i) }),
  );

async function shim(spool: string, body: unknown[], index: number) {
  const run = await runShim({
    args: ['--watch', 'checks'],
    env: { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_NODE: 'agent-1', TOCSIN_SPOOL_DIR: spool, CONSUL_INDEX: String(index), TOCSIN_TIMEOUT_MS: '30000' },
    stdin: goJsonLine(body),
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

describe('mass outage through npm start', () => {
  it(`${N} checks critical in one snapshot: answered within the budget (202), the rest continues, each check told once`, async () => {
    const spool = tempDir('tocsin-e2e-spool-');
    await shim(spool, checks('passing', () => 10), 10);
    await shim(spool, checks('critical', (i) => 100 + i), 100 + N);
    // The request was answered before its work was done: the rest went on without the shim.
    expect(pipeline.logs()).toContain('snapshot continues in the background');

    const got: ReceivedNotification[] = [];
    const told = () => {
      // Each node's serfHealth going critical is its node's incident (README "Node down as one incident"): told as that.
      const one = got.filter((n) => n.alert.kind === 'node' && n.alert.state === 'firing').length;
      const folded = got.filter((n) => n.alert.kind === 'digest').reduce((sum, n) => sum + (n.alert.digest?.count ?? 0), 0);
      return one + folded;
    };
    await until(`${N} checks told`, () => (got.push(...notifications.readNew()), told() >= N), 120000, () => `${told()} told so far`);
    got.push(...(await notifications.drain(1500)));
    expect(told()).toBe(N);
    expect(got.filter((n) => n.alert.kind === 'check')).toEqual([]); // folded into the incidents
    const oneByOne = got.filter((n) => n.alert.kind === 'node').map((n) => n.alert.node);
    expect(new Set(oneByOne).size).toBe(oneByOne.length); // nobody twice
    // Bounded: per 10 s window at most the threshold one by one, and one digest.
    const digests = got.filter((n) => n.alert.kind === 'digest');
    expect(digests.length).toBeGreaterThan(0);
    expect(oneByOne.length).toBeLessThanOrEqual(20 * digests.length + 20);
    for (const d of digests) expect(d.alert.severity).toBe('critical');
  }, 180000);
});
