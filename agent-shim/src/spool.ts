/**
 * On-disk queue of envelopes that could not be delivered yet.
 *
 * Layout of the spool directory:
 *   <epoch-ms>-<pid>-<random>.json  queued envelopes (unsigned; re-signed at send time),
 *                                   sent oldest first = lexical filename order
 *   .tmp-*                          writes in progress (atomic write: temp, fsync, rename)
 *   .flush.lock                     one flusher at a time, so concurrent handlers do not
 *                                   send the same file twice
 *   rejected/                       envelopes the API can never accept (4xx but the refusals
 *                                   that can pass, see flush.ts), plus <name>.reason.txt
 *   state/                          checks delta state, clock.json (the API clock's offset)
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Envelope } from '../../lambdas/domain/types';

const QUEUED_RE = /^\d{13}-\d+-[0-9a-f]+\.json$/;
const STALE_TMP_MS = 60 * 60 * 1000;

export class SpoolFullError extends Error {}

export interface SpoolLimits {
  maxBytes: number;
  maxFiles: number;
}

export class Spool {
  readonly rejectedDir: string;

  constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
  ) {
    this.rejectedDir = join(dir, 'rejected');
  }

  /** Queued file names, oldest first. Missing directory = empty spool. */
  list(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names.filter((n) => QUEUED_RE.test(n)).sort();
  }

  /** Parsed content of a queued file, or the reason it cannot be used. */
  read(name: string): { ok: true; value: unknown } | { ok: false; reason: string; gone?: boolean } {
    let text: string;
    try {
      text = readFileSync(join(this.dir, name), 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return { ok: false, reason: err.message, gone: err.code === 'ENOENT' };
    }
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (e) {
      return { ok: false, reason: `not valid JSON: ${(e as Error).message}` };
    }
  }

  remove(name: string): void {
    try {
      unlinkSync(join(this.dir, name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /**
   * Queue an envelope. Throws SpoolFullError when a cap would be exceeded: the
   * oldest files are never deleted to make room, the caller must report the loss.
   */
  write(envelope: Envelope): { file: string; queued: number } {
    const data = Buffer.from(JSON.stringify(envelope) + '\n', 'utf8');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.checkRoom(data.length);
    const file = join(this.dir, newName());
    atomicWrite(file, data);
    return { file, queued: this.list().length };
  }

  private checkRoom(bytes: number): void {
    const usage = this.usage();
    if (usage.files + 1 > this.limits.maxFiles || usage.bytes + bytes > this.limits.maxBytes) {
      throw new SpoolFullError(
        `spool ${this.dir} is full (${usage.files} files, ${usage.bytes} bytes incl. rejected/; limits ` +
          `${this.limits.maxFiles} files / ${this.limits.maxBytes} bytes, set by TOCSIN_SPOOL_MAX_FILES / TOCSIN_SPOOL_MAX_BYTES); ` +
          'nothing was deleted: fix delivery and run `tocsin-shim flush`, or clear rejected/',
      );
    }
  }

  /** Move a queued file into rejected/ (kept for inspection; move it back to resend). */
  reject(name: string, reason: string): string {
    mkdirSync(this.rejectedDir, { recursive: true, mode: 0o700 });
    const dest = join(this.rejectedDir, name);
    renameSync(join(this.dir, name), dest);
    this.writeReason(dest, reason);
    return dest;
  }

  /**
   * Store an envelope that was never queued straight into rejected/. `name`: a fixed file
   * name whose earlier copy this one replaces (main.ts: envelopes refused for their size).
   */
  writeRejected(envelope: Envelope, reason: string, name?: string): string {
    const data = Buffer.from(JSON.stringify(envelope) + '\n', 'utf8');
    mkdirSync(this.rejectedDir, { recursive: true, mode: 0o700 });
    const dest = join(this.rejectedDir, name ?? newName());
    if (name) {
      // The copy it replaces does not count against the caps.
      for (const f of [dest, dest.replace(/\.json$/, '.reason.txt')]) {
        try {
          unlinkSync(f);
        } catch {
          /* none yet */
        }
      }
    }
    this.checkRoom(data.length);
    atomicWrite(dest, data);
    this.writeReason(dest, reason);
    return dest;
  }

  private writeReason(file: string, reason: string): void {
    try {
      writeFileSync(file.replace(/\.json$/, '.reason.txt'), `${new Date().toISOString()} ${reason}\n`, { mode: 0o600 });
    } catch {
      /* the envelope itself is what matters; the reason was also printed */
    }
  }

  /** Files and bytes of queued + rejected envelopes (what the caps bound). */
  private usage(): { files: number; bytes: number } {
    let files = 0;
    let bytes = 0;
    for (const dir of [this.dir, this.rejectedDir]) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (!n.endsWith('.json')) continue;
        try {
          bytes += statSync(join(dir, n)).size;
          files++;
        } catch {
          /* raced with a flusher */
        }
      }
    }
    return { files, bytes };
  }

  /** Leftovers of writers that crashed between create and rename. */
  cleanStaleTemps(now: number): void {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => n.startsWith('.tmp-'));
    } catch {
      return;
    }
    for (const n of names) {
      try {
        const p = join(this.dir, n);
        if (now - statSync(p).mtimeMs > STALE_TMP_MS) unlinkSync(p);
      } catch {
        /* best effort */
      }
    }
  }

  /**
   * Take the flush lock, or return null if another live process holds it.
   * The lock records its holder's pid and deadline, so a crashed or overdue
   * holder does not block flushing forever.
   */
  tryLock(deadline: number): FlushLock | null {
    const lockPath = join(this.dir, '.flush.lock');
    const token = `${process.pid} ${deadline} ${randomBytes(6).toString('hex')}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx', 0o600);
        try {
          writeSync(fd, token);
        } finally {
          closeSync(fd);
        }
        return new FlushLock(lockPath, token);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return null; // no spool dir: nothing to flush
        if (code !== 'EEXIST') throw e;
      }
      if (!lockIsStale(lockPath)) return null;
      try {
        unlinkSync(lockPath);
      } catch {
        /* someone else cleared it */
      }
    }
    return null;
  }
}

export class FlushLock {
  constructor(
    private readonly lockPath: string,
    private readonly token: string,
  ) {}

  release(): void {
    try {
      if (readFileSync(this.lockPath, 'utf8') === this.token) unlinkSync(this.lockPath);
    } catch {
      /* already gone */
    }
  }
}

function lockIsStale(lockPath: string): boolean {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(lockPath, 'utf8');
    mtimeMs = statSync(lockPath).mtimeMs;
  } catch {
    return true;
  }
  const m = /^(\d+) (\d+) /.exec(text);
  // Unparsable: maybe being written right now; stale only once clearly old.
  if (!m) return Date.now() - mtimeMs > 10_000;
  const pid = Number(m[1]);
  const until = Number(m[2]);
  if (Date.now() > until + 2000) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** node:crypto's, loaded when first needed: a run that spools nothing never loads node:crypto (sign.ts). */
function randomBytes(n: number): Buffer {
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(n);
}

/** Lexical order = age order: zero-padded epoch ms first; pid + random keep concurrent writers apart. */
function newName(): string {
  return `${String(Date.now()).padStart(13, '0')}-${process.pid}-${randomBytes(4).toString('hex')}.json`;
}

/**
 * Write to a temp file in the same directory, fsync, rename: readers never see half a file.
 * The fsyncs stay: a spooled envelope is the only copy of what it reports (Consul does not
 * hand the same result again, a Serf event is never repeated), and without them a crash or
 * power loss right after the rename can leave an empty file under the final name, lost.
 * They cost only runs that spool; a delivered run writes no spool file. The state files
 * (checks-delta.ts, clock.ts) are not fsynced: losing one costs a whole list or a refusal.
 */
function atomicWrite(dest: string, data: Buffer): void {
  const dir = dirname(dest);
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* ignore */
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, dest);
  // Make the rename itself durable; not every filesystem allows fsync on a directory.
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    /* best effort */
  }
}
