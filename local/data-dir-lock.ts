/**
 * One `npm start` per data directory: <data dir>/tocsin.lock, created with O_EXCL ('wx'),
 * holds the owner's PID, its start time (/proc/<pid>/stat) and host. A lock whose PID is
 * gone, or now belongs to another process (PID reused: another start time), is stale and
 * recovered with a notice. The rules are in README.md, "One owner per data directory".
 */
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';

export const LOCK_FILE = 'tocsin.lock';

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
  for (let attempt = 0; attempt < 50; attempt++) {
    if (tryCreate(path, content)) return held(path, content);
    const found = readLock(path);
    if (!found) continue; // released meanwhile: try again
    let reason: string | undefined;
    if (found.owner) {
      reason = staleReason(found.owner);
      if (reason === undefined) throw new DataDirInUseError(dataDir, found.owner);
    } else if (found.ageMs < PARTIAL_GRACE_MS) {
      await new Promise((r) => setTimeout(r, 100)); // its creator is still writing it
      continue;
    } else {
      reason = 'the lock file is unreadable';
    }
    // Move the stale file aside under a name of our own, then check it is the one judged
    // stale: two starts recovering at once must not remove the lock the other just took.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = readFileSync(aside, 'utf8');
    if (moved !== found.text) {
      // We moved another start's fresh lock: put it back (link: never over a newer one).
      try {
        linkSync(aside, path);
      } catch {
        // A third start took the place meanwhile (three starts at once on a stale lock): theirs stands.
      }
      unlinkSync(aside);
      continue;
    }
    unlinkSync(aside);
    notice(`tocsin: recovered a stale lock on ${dataDir}: ${reason}${found.owner ? ` (lock taken ${found.owner.startedAt})` : ''}`);
  }
  throw new Error(`could not take the lock ${path}: it keeps changing (several tocsin starting on ${dataDir} at once?)`);
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
