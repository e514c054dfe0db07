/**
 * End to end: heartbeats through `npm start` (its sweeper every TOCSIN_LOCAL_SWEEP_SECONDS)
 * with the built shim as the nodes run it: `tocsin-shim heartbeat` from a timer, a Consul
 * `checks` watch and a Serf event handler. Durations in seconds (every 1s, missing after 3s).
 * Alerts are read from an SQS queue subscribed to the alerts topic.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runWatchers } from '../../bin/commands/watchers';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { NotificationLog } from '../support/notifications';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { memberLine } from '../support/serf-fixtures';

const NODES = ['web-1', 'web-2', 'web-3'] as const;

let pipeline: LocalPipeline;
let notifications: NotificationLog;
let adminKey: string;
const spools = Object.fromEntries(NODES.map((n) => [n, tempDir(`tocsin-e2e-hb-${n}-`)])) as Record<(typeof NODES)[number], string>;
/** Every heartbeat alert received so far, in arrival order. */
const alerts: Alert[] = [];

beforeAll(async () => {
  ensureBuilt();
  const file = join(tempDir('tocsin-e2e-hb-'), 'tocsin.yaml');
  writeFileSync(
    file,
    `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  oncall: { type: email }
defaults: { channels: [oncall] }
heartbeats: { every: 1, missingAfter: 3 }
`,
  );
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_SWEEP_SECONDS: '1' } });
  adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  expect(adminKey).not.toBe('');
  expect(pipeline.output()).toContain('# sweeper: every 1 s (TOCSIN_LOCAL_SWEEP_SECONDS)');
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  expect(code).toBe(0);
});

const shimEnv = (node: (typeof NODES)[number], extra: Record<string, string> = {}) => ({
  TOCSIN_URL: pipeline.url,
  TOCSIN_CLUSTER: pipeline.cluster,
  TOCSIN_KEY: pipeline.key,
  TOCSIN_NODE: node,
  TOCSIN_SPOOL_DIR: spools[node],
  ...extra,
});

async function pump(ms: number): Promise<void> {
  for (const n of await notifications.drain(ms)) {
    const alert = alertFromNotification(n.message);
    if (alert.kind === 'heartbeat') alerts.push(alert);
  }
}

async function until(what: string, done: () => boolean, timeoutMs = 60000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; heartbeat alerts so far: ${alerts.map((a) => a.title).join(' | ')}\n${pipeline.logs().slice(-3000)}`);
    await pump(500);
  }
}

const line = (a: Alert) => `${a.state} ${a.severity} ${a.node} ${a.to}`;

describe('heartbeats end to end', () => {
  it('nodes report (heartbeats, a Consul watch, a Serf event): no alert while they do', async () => {
    for (let round = 0; round < 3; round++) {
      const runs = await Promise.all([
        runShim({ args: ['heartbeat'], env: shimEnv('web-1') }),
        runShim({
          args: ['--watch', 'checks'],
          env: shimEnv('web-2', { CONSUL_INDEX: String(10 + round) }),
          stdin: goJsonLine([healthCheck({ Node: 'web-2', CheckID: 'service:web', Status: 'passing', ModifyIndex: 10 + round })]),
        }),
        runShim({ args: [], env: shimEnv('web-3', { SERF_EVENT: 'member-update', SERF_SELF_NAME: 'web-3' }), stdin: memberLine('web-3', '10.0.0.3', { round: String(round) }) }),
      ]);
      expect(runs.map((r) => [r.code, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
        [0, ''],
      ]);
      await pump(700);
    }
    expect(alerts).toEqual([]);
  });

  it('every shim stops: one warning per watcher, then the critical, and nothing more on later sweeps', async () => {
    await until('three warnings and the critical', () => alerts.length >= 4);
    await pump(3000); // several more sweeps
    const warnings = alerts.filter((a) => a.severity === 'warning');
    expect(warnings.map(line).sort()).toEqual(NODES.map((n) => `firing warning ${n} missing`));
    expect(warnings.map((a) => a.title)).toEqual(warnings.map((a) => expect.stringMatching(new RegExp(`^WARNING: watcher ${a.node} of default has not reported for 3s \\(last at `))));
    const critical = alerts.filter((a) => a.severity === 'critical');
    expect(critical.map((a) => a.title)).toEqual(['CRITICAL: cluster default is silent: none of its 3 watchers has reported for 3s']);
    // The critical was decided after every warning.
    expect(critical[0]!.at >= warnings.map((a) => a.at).sort().pop()!).toBe(true);
    expect(alerts).toHaveLength(4);
    alerts.length = 0;
  });

  it('one heartbeat resolves its watcher and the cluster; the others stay missing', async () => {
    const r = await runShim({ args: ['heartbeat'], env: shimEnv('web-1') });
    expect([r.code, r.stderr]).toEqual([0, '']);
    const resolved = () => alerts.filter((a) => a.state === 'resolved');
    await until('two resolutions', () => resolved().length >= 2);
    await pump(500);
    // (web-1 falls silent again 3 s later: a new warning then is right, and not looked at here.)
    expect(resolved().map((a) => a.title).sort()).toEqual([
      'RESOLVED: cluster default reports again (web-1)',
      expect.stringMatching(/^RESOLVED: watcher web-1 of default reports again \(silent for \d+s\)$/),
    ]);
    alerts.length = 0;
  });

  it('tocsin watchers lists them; forgetting a missing one resolves its warning', async () => {
    const env = { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: adminKey };
    const listed = JSON.parse((await runWatchers(['--json'], env)).stdout) as { watchers: Array<{ node: string; via?: string; alertedSince?: string }> };
    expect(listed.watchers.map((w) => [w.node, w.via ?? null, w.alertedSince !== undefined])).toEqual([
      ['web-1', null, expect.any(Boolean)],
      ['web-2', 'consul/checks', true],
      ['web-3', 'serf/member-update', true],
    ]);
    const forgot = await runWatchers(['forget', pipeline.cluster, 'web-2'], env);
    expect(forgot).toMatchObject({ code: 0, stdout: 'forgot watcher web-2 of default; its missing alert is resolved\n' });
    await until('the retired notice', () => alerts.some((a) => a.node === 'web-2'));
    expect(alerts.filter((a) => a.node === 'web-2').map((a) => a.title)).toEqual(['RESOLVED: watcher web-2 of default retired (no longer expected)']);
    const after = JSON.parse((await runWatchers(['--json'], env)).stdout) as { watchers: Array<{ node: string }> };
    expect(after.watchers.map((w) => w.node)).toEqual(['web-1', 'web-3']);
  });
});
