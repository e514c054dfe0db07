/**
 * `npx tocsin service-unit` as an operator calls it, and the unit's ExecStart run the way
 * systemd runs it (in its WorkingDirectory, stopped with SIGTERM): it is the pipeline.
 * (systemd itself is not running here; test/unit/service-unit.test.ts has the unit's
 * contents and systemd-analyze verify.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/local-pipeline';
import { freePort } from '../support/ports';

const values = (text: string, key: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

it('npx tocsin service-unit prints it, and its ExecStart, run in its WorkingDirectory, is the pipeline (ready, then a clean stop on SIGTERM)', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tocsin-unit-data-'));
  const port = await freePort();
  const cli = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bin', 'tocsin-cli.ts'), 'service-unit', '--data-dir', dataDir, '--port', String(port)], { cwd: tmpdir(), encoding: 'utf8' });
  expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: '' });
  const [execStart] = values(cli.stdout, 'ExecStart');
  const [cwd] = values(cli.stdout, 'WorkingDirectory');
  const [command, ...args] = (execStart as string).split(' ');
  const child = spawn(command as string, args, { cwd: cwd as string, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  try {
    const deadline = Date.now() + 60000;
    while (!stdout.includes('export TOCSIN_KEY=') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(stdout).toContain(`tocsin local pipeline ready: http://127.0.0.1:${port}/v1/ingest`);
    expect(stdout).toContain('# --quiet: notification bodies are not printed');
    expect(existsSync(join(dataDir, 'tocsin.lock'))).toBe(true);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(existsSync(join(dataDir, 'tocsin.lock'))).toBe(false);
}, 90000);
