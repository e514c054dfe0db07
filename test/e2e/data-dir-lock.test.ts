/**
 * One `npm start` per data directory, with real processes: a second start on the same
 * --data-dir exits naming the running one and harms nothing; after a kill -9 the next
 * start recovers the stale lock; a clean stop releases it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { ROOT, startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';

const LOCK = 'tocsin.lock';

/** The shim delivers one checks envelope; exit 0 and nothing said: accepted. */
async function accepts(p: LocalPipeline, index: number): Promise<{ code: number | null; stderr: string }> {
  const r = await runShim({
    args: ['--watch', 'checks'],
    env: { TOCSIN_URL: p.url, TOCSIN_CLUSTER: p.cluster, TOCSIN_KEY: p.key, TOCSIN_NODE: 'web-1', TOCSIN_SPOOL_DIR: tempDir(), CONSUL_INDEX: String(index) },
    stdin: goJsonLine([healthCheck({ Node: 'web-1', CheckID: 'service:web', Status: 'passing', CreateIndex: 10, ModifyIndex: index })]),
  });
  return { code: r.code, stderr: r.stderr };
}

beforeAll(() => ensureBuilt(), 60000);

it('a second start on the same data dir exits 1 naming the running one, which keeps serving; kill -9, then a new start recovers the lock; a clean stop releases it', async () => {
  const dataDir = tempDir('tocsin-lock-');
  const first = await startLocalPipeline({ dataDir, inProcess: true });
  let next: LocalPipeline | undefined;
  try {
    expect(JSON.parse(readFileSync(join(dataDir, LOCK), 'utf8'))).toMatchObject({ pid: first.pid });

    const second = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'local', 'main.ts'), '--port', '0', '--data-dir', dataDir], { cwd: ROOT, encoding: 'utf8', timeout: 30000 });
    expect(second.status).toBe(1);
    expect(second.stderr).toContain(`tocsin: data directory ${dataDir} is in use by another tocsin (PID ${first.pid}, started `);
    expect(second.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(second.stdout).not.toContain('ready');

    // Nothing of the first is harmed: same lock, still serving.
    expect(JSON.parse(readFileSync(join(dataDir, LOCK), 'utf8'))).toMatchObject({ pid: first.pid });
    expect(await accepts(first, 10)).toEqual({ code: 0, stderr: '' });

    expect(await first.stop('SIGKILL')).toBeNull();
    expect(existsSync(join(dataDir, LOCK))).toBe(true); // nobody removed it: stale

    next = await startLocalPipeline({ dataDir, inProcess: true });
    expect(next.logs()).toContain(`tocsin: recovered a stale lock on ${dataDir}: PID ${first.pid} is gone (lock taken `);
    expect(JSON.parse(readFileSync(join(dataDir, LOCK), 'utf8'))).toMatchObject({ pid: next.pid });
    expect(await accepts(next, 11)).toEqual({ code: 0, stderr: '' });
  } finally {
    await first.stop('SIGKILL');
    if (next) expect(await next.stop()).toBe(0);
  }
  expect(existsSync(join(dataDir, LOCK))).toBe(false);
}, 120000);
