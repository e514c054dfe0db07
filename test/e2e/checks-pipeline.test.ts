/**
 * End to end: the bundled shim, run as Consul would run it, against `npm start`'s
 * pipeline; alerts observed on an SQS queue subscribed to the alerts topic.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { NotificationLog } from '../support/notifications';
import { goJsonLine, healthCheck, type HealthCheckFixture } from '../support/consul-fixtures';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';

let pipeline: LocalPipeline;
let notifications: NotificationLog;

beforeAll(async () => {
  ensureBuilt();
  pipeline = await startLocalPipeline();
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  expect(code).toBe(0); // Ctrl-C stops it cleanly
});

/** One Consul agent's watch handler invocation. */
function consulAgent(node: string, checks: HealthCheckFixture[], index: number) {
  return runShim({
    args: ['--watch', 'checks'],
    env: {
      TOCSIN_URL: pipeline.url,
      TOCSIN_CLUSTER: pipeline.cluster,
      TOCSIN_KEY: pipeline.key,
      TOCSIN_NODE: node,
      TOCSIN_SPOOL_DIR: tempDir('tocsin-e2e-spool-'),
      CONSUL_INDEX: String(index),
    },
    stdin: goJsonLine(checks),
  });
}

async function received(waitMs: number): Promise<Alert[]> {
  return (await notifications.drain(waitMs)).map((n) => alertFromNotification(n.message));
}

const snapshot = (status: string, modifyIndex: number, output: string) => [
  healthCheck({ Node: 'web-1', CheckID: 'service:web', Status: status, Output: output, CreateIndex: 10, ModifyIndex: modifyIndex }),
  healthCheck({ Node: 'web-1', CheckID: 'serfHealth', Name: 'Serf Health Status', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '', CreateIndex: 9, ModifyIndex: 9 }),
];

describe('checks watch, shim to SNS', () => {
  it('baseline: an all-passing snapshot raises nothing', async () => {
    const run = await consulAgent('web-1', snapshot('passing', 10, 'ok'), 10);
    expect(run.code).toBe(0);
    expect(await received(2000)).toEqual([]);
  });

  it('one critical check: the alert reaches the subscribed queue', async () => {
    const run = await consulAgent('web-1', snapshot('critical', 20, 'connection refused'), 20);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const alerts = await received(3000);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      cluster: pipeline.cluster,
      kind: 'check',
      severity: 'critical',
      state: 'firing',
      node: 'web-1',
      service: 'web',
      check: 'service:web',
      from: 'passing',
      to: 'critical',
    });
    expect(alerts[0]?.details).toContainEqual(['Output', 'connection refused']);
  });

  it('the same snapshot again, and from five agents at once: no second alert', async () => {
    const crit = snapshot('critical', 20, 'connection refused');
    expect((await consulAgent('web-1', crit, 20)).code).toBe(0);
    const runs = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map((node) => consulAgent(node, crit, 20)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0]);
    expect(await received(3000)).toEqual([]);
  });

  it('recovery: the resolved notice, printed as the email reads and logged as JSON', async () => {
    expect((await consulAgent('web-1', snapshot('passing', 30, 'ok'), 30)).code).toBe(0);
    const alerts = await received(3000);
    expect(alerts.map((a) => `${a.state} ${a.from}->${a.to}`)).toEqual(['resolved critical->passing']);

    // The runner's own notification log: both alerts, in order, once each.
    const deadline = Date.now() + 10000;
    let lines: Array<{ subject: string; alert: Alert }> = [];
    while (Date.now() < deadline && lines.length < 2) {
      const text = (() => {
        try {
          return readFileSync(join(pipeline.dataDir, 'notifications.jsonl'), 'utf8');
        } catch {
          return '';
        }
      })();
      lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { subject: string; alert: Alert });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(lines.map((l) => l.subject)).toEqual([
      "[tocsin default] CRITICAL: Service 'web' check (service web) on web-1",
      "[tocsin default] RESOLVED: Service 'web' check (service web) on web-1",
    ]);
    expect(pipeline.output()).toContain("Subject: [tocsin default] RESOLVED: Service 'web' check (service web) on web-1");
  });
});

describe('a node whose clock is 400 s ahead (signature window 300 s)', () => {
  const spool = tempDir('tocsin-e2e-skewed-');
  /** The built shim with its clock shifted by a test-only preload (no hook in the shim). */
  const skewedAgent = (status: string, modifyIndex: number) =>
    runShim({
      args: ['--watch', 'checks', '--scope', 'skewed'],
      env: {
        TOCSIN_URL: pipeline.url,
        TOCSIN_CLUSTER: pipeline.cluster,
        TOCSIN_KEY: pipeline.key,
        TOCSIN_NODE: 'db-9',
        TOCSIN_SPOOL_DIR: spool,
        CONSUL_INDEX: String(modifyIndex),
        NODE_OPTIONS: `--require ${join(__dirname, '..', 'support', 'skewed-clock.cjs')}`,
        TOCSIN_TEST_CLOCK_SKEW_MS: '400000',
      },
      stdin: goJsonLine([healthCheck({ Node: 'db-9', CheckID: 'service:db', ServiceID: 'db', ServiceName: 'db', Status: status, Output: status, CreateIndex: 50, ModifyIndex: modifyIndex })]),
    });
  const clockSkewRefusals = () =>
    pipeline
      .logs()
      .split('\n')
      .filter((l) => l.includes('"request rejected"') && l.includes('"clock_skew"')).length;

  it('its critical check is alerted once, then its recovery once, nothing in rejected/, one refusal in all', async () => {
    const baseline = await skewedAgent('passing', 50);
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toMatch(/the API's clock is 40\d s behind this host's/);
    expect(await received(2000)).toEqual([]);

    const critical = await skewedAgent('critical', 51);
    expect(critical).toMatchObject({ code: 0, stderr: '' });
    const alerts = await received(3000);
    expect(alerts.map((a) => [a.node, a.check, a.to])).toEqual([['db-9', 'service:db', 'critical']]);

    expect((await skewedAgent('passing', 52)).code).toBe(0);
    expect((await received(3000)).map((a) => [a.check, a.state])).toEqual([['service:db', 'resolved']]);
    expect(existsSync(join(spool, 'rejected'))).toBe(false);
    expect(clockSkewRefusals()).toBe(1);
  });
});
