/**
 * What Serf accepts, tocsin accepts: query and user event names as long as Serf lets them
 * be (docs/serf.md "Names"), through the built shim as a child process and through real
 * Serf agents on loopback, against `npm start`. A refused query would cost Serf its
 * acknowledgement (the shim exits non-zero) and tocsin the notice.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '../../bin/cli/agent-config';
import { LIMITS } from '../../lambdas/domain/protocol';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { ensureBuilt, queued, runShim, SHIM } from '../shim/helpers';
import { NotificationLog } from '../support/notifications';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { freePort, waitFor } from '../support/ports';

const SERF = process.env.TOCSIN_SERF_BIN ?? 'serf';
const serfVersion = spawnSync(SERF, ['version'], { encoding: 'utf8' });
const SERF_MISSING = serfVersion.error !== undefined || serfVersion.status !== 0;
if (SERF_MISSING) console.warn(`SKIPPING the real Serf part of test/e2e/serf-long-names.test.ts: "${SERF}" not found (apt-get install -y serf, or set TOCSIN_SERF_BIN)`);

let pipeline: LocalPipeline;
let notifications: NotificationLog;
let workDir: string;
const agents: Array<{ name: string; bind: string; rpc: string; spool: string; child: ChildProcess; log: () => string }> = [];
const alerts: Alert[] = [];

beforeAll(async () => {
  ensureBuilt();
  workDir = mkdtempSync(join(tmpdir(), 'tocsin-e2e-serf-names-'));
  pipeline = await startLocalPipeline({ dataDir: join(workDir, 'data') });
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90000);

afterAll(async () => {
  await Promise.all(agents.map((a) => stop(a.child)));
  expect(await pipeline?.stop()).toBe(0);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
}, 60000);

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** The alert whose details name `name`, once it has arrived. */
async function alertNamed(kind: string, name: string): Promise<Alert> {
  return waitFor(`the ${kind} alert`, async () => {
    for (const n of await notifications.drain(1000)) alerts.push(alertFromNotification(n.message));
    return alerts.find((a) => a.kind === kind && a.details.some(([, v]) => v === name));
  }, 30000);
}

/** Serf's handler environment for one invocation, plus the shim's settings. */
function serfInvocation(spool: string, vars: Record<string, string>): Record<string, string> {
  return { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_SPOOL_DIR: spool, SERF_SELF_NAME: 'serf-x', SERF_SELF_ROLE: '', ...vars };
}

/** A name of exactly `bytes` UTF-8 bytes, with multi-byte characters in it. */
const nameOf = (bytes: number, stem: string) => {
  const head = `${stem}-é-`;
  return head + 'n'.repeat(bytes - Buffer.byteLength(head));
};

describe('the built shim against npm start', () => {
  it('a query named with 1,000 bytes (Serf default limit: 1,024 for the whole query): acknowledged, exit 0, one alert', async () => {
    const spool = mkdtempSync(join(workDir, 'spool-'));
    const name = nameOf(1000, 'q1k');
    const r = await runShim({ env: serfInvocation(spool, { SERF_EVENT: 'query', SERF_QUERY_NAME: name, SERF_QUERY_LTIME: '12' }), stdin: 'uptime please' });
    expect(r.code).toBe(0); // otherwise Serf drops the acknowledgement
    expect(r.stdout).toMatch(/^tocsin: ack q1k-é-n+ ltime=12\n$/);
    expect(queued(join(spool, 'rejected'))).toEqual([]);
    const alert = await alertNamed('query', name);
    expect(alert).toMatchObject({ source: 'serf', kind: 'query', severity: 'info', to: 'received' });
    expect(alert.title).toBe(`INFO: Serf query "${name.slice(0, 59)}…" (LTime 12)`);
  }, 60000);

  it(`a user event named with ${LIMITS.maxSerfEventNameBytes} bytes (Serf's hard cap for name + payload): delivered, one alert`, async () => {
    const spool = mkdtempSync(join(workDir, 'spool-'));
    const name = nameOf(LIMITS.maxSerfEventNameBytes, 'u9k');
    const r = await runShim({ env: serfInvocation(spool, { SERF_EVENT: 'user', SERF_USER_EVENT: name, SERF_USER_LTIME: '40' }), stdin: '' });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect((await alertNamed('user-event', name)).kind).toBe('user-event');
  }, 60000);

  it('a name longer than anything Serf can send is refused with the reason, loudly (exit 65, rejected/)', async () => {
    const spool = mkdtempSync(join(workDir, 'spool-'));
    const r = await runShim({ env: serfInvocation(spool, { SERF_EVENT: 'user', SERF_USER_EVENT: nameOf(LIMITS.maxSerfEventNameBytes + 1, 'too-long'), SERF_USER_LTIME: '41' }), stdin: '' });
    expect(r.code).toBe(65);
    const [rejected] = readdirSync(join(spool, 'rejected')).filter((f) => f.endsWith('.reason') || f.endsWith('.json'));
    expect(rejected).toBeDefined();
    expect(`${r.stderr}${readdirSync(join(spool, 'rejected')).map((f) => readFileSync(join(spool, 'rejected', f), 'utf8')).join('')}`).toContain(`longer than ${LIMITS.maxSerfEventNameBytes} bytes`);
  }, 60000);
});

(SERF_MISSING ? describe.skip : describe)(`real Serf agents (${serfVersion.stdout?.split('\n')[0] ?? 'serf'})`, () => {
  const serfCli = (args: string[]) => {
    const r = spawnSync(SERF, args, { encoding: 'utf8', timeout: 20000 });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };

  async function startAgent(name: string, ip: string) {
    const port = await freePort();
    const rpc = `127.0.0.1:${await freePort()}`;
    const spool = mkdtempSync(join(workDir, `spool-${name}-`));
    const handler = `${shellQuote(process.execPath)} ${shellQuote(SHIM)}`;
    if (handler.includes('=')) throw new Error(`handler command must not contain "=": ${handler}`);
    const child = spawn(SERF, ['agent', `-node=${name}`, `-bind=${ip}:${port}`, `-rpc-addr=${rpc}`, '-profile=lan', '-log-level=debug', `-event-handler=${handler}`], {
      env: { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_SPOOL_DIR: spool, TOCSIN_TIMEOUT_MS: '10000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout?.on('data', (c: Buffer) => (log += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (log += c.toString('utf8')));
    const agent = { name, bind: `${ip}:${port}`, rpc, spool, child, log: () => log };
    agents.push(agent);
    await waitFor(`serf agent ${name}`, async () => (serfCli(['members', `-rpc-addr=${rpc}`]).ok ? true : child.exitCode !== null ? Promise.reject(new Error(log)) : undefined), 20000, 200);
    return agent;
  }

  it('`serf query` with a 900-byte name: every agent answers (the shim acknowledged, exit 0), one alert', async () => {
    const [a, b] = [await startAgent('serf-n1', '127.0.0.31'), await startAgent('serf-n2', '127.0.0.32')];
    expect(serfCli(['join', `-rpc-addr=${b!.rpc}`, a!.bind])).toMatchObject({ ok: true });
    await waitFor('2 members alive', async () => ((serfCli(['members', `-rpc-addr=${a!.rpc}`, '-status=alive']).out.match(/\balive\b/g) ?? []).length === 2 ? true : undefined), 30000, 300);
    const name = nameOf(900, 'long-query');
    const q = serfCli(['query', `-rpc-addr=${a!.rpc}`, '-timeout=8s', name, 'hello']);
    expect(q.ok).toBe(true);
    // Serf prints "Response from 'node': <handler output>" for each answer.
    expect(q.out).toContain("Response from 'serf-n1': tocsin: ack long-query-é-");
    expect(q.out).toContain("Response from 'serf-n2': tocsin: ack long-query-é-");
    const alert = await alertNamed('query', name);
    expect(alert).toMatchObject({ kind: 'query', source: 'serf' });
    for (const x of agents) {
      expect(queued(join(x.spool, 'rejected'))).toEqual([]);
      expect(x.log()).not.toContain('Error invoking script');
    }
    await new Promise((r) => setTimeout(r, 2000));
    for (const n of await notifications.drain(1000)) alerts.push(alertFromNotification(n.message));
    expect(alerts.filter((x) => x.kind === 'query' && x.details.some(([, v]) => v === name))).toHaveLength(1);
  }, 120000);
});
