/**
 * One `npm start` per data directory: <data dir>/tocsin.lock, created with O_EXCL ('wx'),
 * holds the owner's PID, its start time (/proc/<pid>/stat) and host. A lock whose PID is
 * gone, or now belongs to another process (PID reused: another start time), is stale and
 * recovered with a notice, by one start at a time (the O_EXCL guard tocsin.lock.recovery).
 * The rules are in README.md, "One owner per data directory".
 */
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

export const LOCK_FILE = 'tocsin.lock';
/** Held (O_EXCL) by whoever removes a stale lock, so that only one start at a time does. */
const RECOVERY_SUFFIX = '.recovery';

/** What a lock file says about its owner. */
export interface LockOwner {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks since boot), when the platform has /proc. */
  procStart?: string;
  host: string;
  startedAt: string;
  command: string;
}

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly owner: LockOwner,
  ) {
    const where = owner.host === hostname() ? '' : ` on host ${owner.host}`;
    super(
      `data directory ${dataDir} is in use by another tocsin (PID ${owner.pid}${where}, started ${owner.startedAt}): ` +
        `stop it first, or start this one with another --data-dir. Lock file: ${resolve(dataDir, LOCK_FILE)}`,
    );
  }
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still this process's. Idempotent, synchronous (safe in an 'exit' handler). */
  release(): void;
}

/** /proc/<pid>/stat start time, or undefined (no such process, or no /proc). */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19]; // field 22 of the whole line
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why the lock of `owner` is stale, or undefined when its owner still runs (or cannot be checked: another host). */
export function staleReason(owner: LockOwner): string | undefined {
  if (owner.host !== hostname()) return undefined;
  if (owner.pid === process.pid) return `PID ${owner.pid} is this process`;
  if (!alive(owner.pid)) return `PID ${owner.pid} is gone`;
  if (owner.procStart === undefined) return undefined;
  const now = processStartTime(owner.pid);
  if (now !== undefined && now !== owner.procStart) return `PID ${owner.pid} now belongs to another process (started later)`;
  return undefined;
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0 || typeof o.host !== 'string') return undefined;
    return { pid: o.pid, host: o.host, startedAt: String(o.startedAt ?? '?'), command: String(o.command ?? ''), ...(typeof o.procStart === 'string' ? { procStart: o.procStart } : {}) };
  } catch {
    return undefined;
  }
}

function readLock(path: string): { text: string; owner?: LockOwner; ageMs: number } | undefined {
  try {
    const text = readFileSync(path, 'utf8');
    const owner = parseOwner(text);
    return { text, ageMs: Date.now() - statSync(path).mtimeMs, ...(owner ? { owner } : {}) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A lock file being written by its creator is empty or partial for a moment; after this it is junk. */
const PARTIAL_GRACE_MS = 2000;

/**
 * Takes the data directory's lock, or throws DataDirInUseError naming the owner.
 * `notice`: told when a stale lock is recovered.
 */
export async function acquireDataDirLock(dataDir: string, notice: (line: string) => void): Promise<DataDirLock> {
  const path = resolve(dataDir, LOCK_FILE);
  const procStart = processStartTime(process.pid);
  const me: LockOwner = {
    pid: process.pid,
    ...(procStart !== undefined ? { procStart } : {}),
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: process.argv.join(' ').slice(0, 500),
  };
  const content = `${JSON.stringify(me)}\n`;
  const guard = `${path}${RECOVERY_SUFFIX}`;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (let attempt = 0; attempt < 200; attempt++) {
    if (tryCreate(path, content)) return held(path, content);
    const found = readLock(path);
    if (!found) continue; // released meanwhile: try again
    const verdict = judge(found);
    if (verdict.kind === 'held') throw new DataDirInUseError(dataDir, verdict.owner);
    if (verdict.kind === 'wait') {
      await pause(100); // its creator is still writing it
      continue;
    }
    // Remove the stale lock only while holding the recovery guard, and only if it is still
    // the one judged stale: two starts recovering at once must not remove the lock that the
    // other one has just taken. Nothing else removes a stale lock (its owner is dead).
    if (!tryCreate(guard, content)) {
      removeAbandonedGuard(guard);
      await pause(20 + Math.random() * 30);
      continue;
    }
    try {
      if (readLock(path)?.text === found.text) {
        unlinkSync(path);
        notice(`tocsin: recovered a stale lock on ${dataDir}: ${verdict.reason}${found.owner ? ` (lock taken ${found.owner.startedAt})` : ''}`);
      }
    } finally {
      unlinkSync(guard);
    }
  }
  throw new Error(`could not take the lock ${path}: it keeps changing (several tocsin starting on ${dataDir} at once?)`);
}

type Verdict = { kind: 'held'; owner: LockOwner } | { kind: 'wait' } | { kind: 'stale'; reason: string };

function judge(found: { owner?: LockOwner; ageMs: number }): Verdict {
  if (found.owner) {
    const reason = staleReason(found.owner);
    return reason === undefined ? { kind: 'held', owner: found.owner } : { kind: 'stale', reason };
  }
  return found.ageMs < PARTIAL_GRACE_MS ? { kind: 'wait' } : { kind: 'stale', reason: 'the lock file is unreadable' };
}

/**
 * A guard is held for the few microseconds of a recovery; one left behind means its holder
 * died right then. Removed when its holder is gone. (Two starts removing the same abandoned
 * guard while a third recovers could still collide: a crash inside that window followed by
 * three simultaneous starts. Accepted, and written down in README.md.)
 */
function removeAbandonedGuard(guard: string): void {
  const found = readLock(guard);
  if (found && judge(found).kind === 'stale') {
    try {
      unlinkSync(guard);
    } catch {
      // Removed by another start meanwhile.
    }
  }
}

function held(path: string, content: string): DataDirLock {
  let released = false;
  return {
    path,
    release() {
      if (released) return;
      released = true;
      try {
        if (readFileSync(path, 'utf8') === content) unlinkSync(path);
      } catch {
        // Already gone: nothing to release.
      }
    },
  };
}
