/**
 * The data directory lock's judgement of an existing lock file (local/data-dir-lock.ts):
 * a live owner refuses, a reused PID or junk is recovered, another host's lock stands.
 * The process-level story (second npm start, kill -9) is test/e2e/data-dir-lock.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ROOT } from '../support/local-pipeline';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDataDirLock, DataDirInUseError, LOCK_FILE, processStartTime } from '../../local/data-dir-lock';

const hasProc = existsSync('/proc/self/stat');
let sleeper: ChildProcess;

beforeAll(() => {
  sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
});
afterAll(() => {
  sleeper.kill('SIGKILL');
});

function dirWithLock(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-lockunit-'));
  writeFileSync(join(dir, LOCK_FILE), content);
  return dir;
}

const owner = (o: Record<string, unknown>) => JSON.stringify({ host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', command: 'npm start', ...o });

describe('acquireDataDirLock', () => {
  it('takes a free directory, writes its PID, and releases only its own lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-lockunit-'));
    const lock = await acquireDataDirLock(dir, () => undefined);
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    lock.release();
    writeFileSync(lock.path, owner({ pid: sleeper.pid }));
    lock.release(); // not ours any more: left alone
    expect(existsSync(lock.path)).toBe(true);
  });

  (hasProc ? it : it.skip)('a live owner (same PID and start time) refuses, naming the PID', async () => {
    const dir = dirWithLock(owner({ pid: sleeper.pid, procStart: processStartTime(sleeper.pid as number) }));
    const err = await acquireDataDirLock(dir, () => undefined).catch((e: Error) => e);
    expect(err).toBeInstanceOf(DataDirInUseError);
    expect((err as Error).message).toBe(
      `data directory ${dir} is in use by another tocsin (PID ${sleeper.pid}, started 2026-01-01T00:00:00.000Z): stop it first, or start this one with another --data-dir. Lock file: ${join(dir, LOCK_FILE)}`,
    );
  });

  (hasProc ? it : it.skip)('a PID now used by another process (another start time) is stale: recovered with a notice', async () => {
    const dir = dirWithLock(owner({ pid: sleeper.pid, procStart: '1' }));
    const notices: string[] = [];
    const lock = await acquireDataDirLock(dir, (l) => notices.push(l));
    expect(notices).toEqual([`tocsin: recovered a stale lock on ${dir}: PID ${sleeper.pid} now belongs to another process (started later) (lock taken 2026-01-01T00:00:00.000Z)`]);
    expect(JSON.parse(readFileSync(lock.path, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('a lock of another host stands (its PID cannot be checked from here)', async () => {
    const dir = dirWithLock(owner({ pid: 1, host: 'elsewhere.example' }));
    await expect(acquireDataDirLock(dir, () => undefined)).rejects.toThrow(`is in use by another tocsin (PID 1 on host elsewhere.example, started `);
  });

  it('an unreadable lock file: waited for while fresh (its writer may be at work), recovered once old', async () => {
    const dir = dirWithLock('');
    const old = Date.now() / 1000 - 1;
    utimesSync(join(dir, LOCK_FILE), old, old); // 1 s old: still within the grace
    setTimeout(() => writeFileSync(join(dir, LOCK_FILE), owner({ pid: 1, host: 'elsewhere.example' })), 300);
    await expect(acquireDataDirLock(dir, () => undefined)).rejects.toThrow('PID 1 on host elsewhere.example');

    const junk = dirWithLock('{not json');
    utimesSync(join(junk, LOCK_FILE), old - 60, old - 60);
    const notices: string[] = [];
    const lock = await acquireDataDirLock(junk, (l) => notices.push(l));
    expect(notices).toEqual([`tocsin: recovered a stale lock on ${junk}: the lock file is unreadable`]);
    lock.release();
  });

  it('a recovery guard left by a start that died while recovering is removed: the stale lock is still recovered', async () => {
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const dir = dirWithLock(owner({ pid: dead.pid }));
    writeFileSync(join(dir, `${LOCK_FILE}.recovery`), owner({ pid: dead.pid }));
    const notices: string[] = [];
    const lock = await acquireDataDirLock(dir, (l) => notices.push(l));
    expect(notices).toEqual([expect.stringContaining(`recovered a stale lock on ${dir}: PID ${dead.pid} is gone`)]);
    expect(existsSync(join(dir, `${LOCK_FILE}.recovery`))).toBe(false);
    lock.release();
  });

  it('several processes at once on a stale lock, slowed where they could collide: exactly one takes it, the others are refused naming it', async () => {
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const dir = dirWithLock(owner({ pid: dead.pid }));
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'support', 'lock-holder.ts'), dir, '300'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] }),
    );
    const outputs = children.map(() => '');
    const errors = children.map(() => '');
    children.forEach((child, i) => {
      child.stdout.on('data', (c: Buffer) => (outputs[i] += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (errors[i] += c.toString('utf8')));
    });
    const exited = children.map((child) => new Promise((r) => child.once('exit', r)));
    /** The first `count` lines child i printed (or what it said before exiting). */
    const lines = (i: number, count: number) =>
      new Promise<string[]>((resolve) => {
        const check = () => {
          const got = (outputs[i] as string).split('\n').filter(Boolean);
          if (got.length >= count) resolve(got);
          else if (children[i]?.exitCode !== null) resolve([...got, `exited ${children[i]?.exitCode}: ${errors[i]}`]);
          else setTimeout(check, 20);
        };
        check();
      });
    try {
      await Promise.all(children.map((_, i) => lines(i, 1))); // all ready
      for (const child of children) child.stdin.write('go\n'); // all at once
      const answers = (await Promise.all(children.map((_, i) => lines(i, 2)))).map((l) => l[1] as string);
      const winner = answers.findIndex((a) => a === 'held');
      expect(answers.filter((a) => a === 'held')).toHaveLength(1);
      for (const a of answers.filter((_, i) => i !== winner)) expect(a).toContain(`refused: data directory ${dir} is in use by another tocsin (PID ${children[winner]?.pid},`);
    } finally {
      for (const child of children) child.stdin.end(); // the winner releases
      await Promise.all(exited);
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, 60000);
});
