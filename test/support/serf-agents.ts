/**
 * Real `serf agent` processes on 127.0.0.x loopback, each with the bundled shim as its
 * event handler, reporting to a local pipeline (`npm start`). The same recipe as
 * test/e2e/serf.test.ts, shared for suites that restart agents.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../bin/cli/agent-config';
import { SHIM } from '../shim/helpers';
import type { LocalPipeline } from './local-pipeline';
import { freePort } from './ports';

export const SERF = process.env.TOCSIN_SERF_BIN ?? 'serf';
const version = spawnSync(SERF, ['version'], { encoding: 'utf8' });
export const SERF_MISSING = version.error !== undefined || version.status !== 0;
export const SERF_VERSION = version.stdout?.split('\n')[0] ?? 'serf';

export interface SerfAgent {
  name: string;
  /** ip:port of its gossip listener, what `serf join` takes. */
  bind: string;
  rpc: string;
  spool: string;
  child: ChildProcess;
  log: () => string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function serfCli(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(SERF, args, { encoding: 'utf8', timeout: 15000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** Handler invocations Serf finished for `event` (its debug log line after every run). */
export function handled(agent: SerfAgent, event: string): number {
  return agent.log().split(`Event '${event}' script output`).length - 1;
}

/**
 * Starts `serf agent` as `name` on `ip` (a fresh port), the shim as its handler with the
 * pipeline's settings in its environment; resolves once its RPC answers.
 */
export async function startSerfAgent(opts: { name: string; ip: string; pipeline: LocalPipeline; workDir: string; args?: string[]; port?: number }): Promise<SerfAgent> {
  const { name, ip, pipeline: p } = opts;
  const port = opts.port ?? (await freePort());
  const rpc = `127.0.0.1:${await freePort()}`;
  const spool = mkdtempSync(join(opts.workDir, `spool-${name}-`));
  // Serf runs the handler with /bin/sh -c and splits the flag at its first "=": keep it free of "=".
  const handler = `${shellQuote(process.execPath)} ${shellQuote(SHIM)}`;
  if (handler.includes('=')) throw new Error(`handler command must not contain "=": ${handler}`);
  const child = spawn(
    SERF,
    ['agent', `-node=${name}`, `-bind=${ip}:${port}`, `-rpc-addr=${rpc}`, '-profile=lan', '-log-level=debug', `-event-handler=${handler}`, ...(opts.args ?? [])],
    {
      // Handlers inherit the agent's environment: this is how the shim gets its settings.
      env: { ...process.env, TOCSIN_URL: p.url, TOCSIN_CLUSTER: p.cluster, TOCSIN_KEY: p.key, TOCSIN_SPOOL_DIR: spool, TOCSIN_TIMEOUT_MS: '10000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout?.on('data', (c: Buffer) => (log += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (log += c.toString('utf8')));
  const agent: SerfAgent = { name, bind: `${ip}:${port}`, rpc, spool, child, log: () => log };
  const deadline = Date.now() + 20000;
  while (!serfCli(['members', `-rpc-addr=${rpc}`]).ok) {
    if (child.exitCode !== null || Date.now() > deadline) {
      if (child.exitCode === null) child.kill('SIGKILL');
      throw new Error(`serf agent ${name} did not start:\n${log}`);
    }
    await sleep(200);
  }
  return agent;
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Number of members `agent` sees with status alive. */
export function aliveMembers(agent: SerfAgent): number {
  return (serfCli(['members', `-rpc-addr=${agent.rpc}`, '-status=alive']).out.match(/\balive\b/g) ?? []).length;
}
