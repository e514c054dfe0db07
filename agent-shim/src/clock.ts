/**
 * The API's clock as this node last saw it, the way the AWS SDKs correct clock skew: every
 * answer's `Date` header gives the offset of the API's clock from ours (received at, with
 * no `Age`: not from a cache); requests are signed with our clock plus that offset.
 *
 * Kept in <spool>/state/clock.json so that a node whose clock is off pays one refusal per
 * clock jump, not one per run. Written only when the offset moves by more than
 * TOLERANCE_MS (or on a clock_skew refusal), removed when it falls back under it: a node
 * with a good clock never writes it, and reads a missing file.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Differences this small are left alone (HTTP dates have 1 s resolution; the window is 300 s). */
export const TOLERANCE_MS = 60_000;

const FILE = 'clock.json';

/** Offset (ms) to add to Date.now() to get the API's time; 0 without a usable file. */
export function loadOffset(stateDir: string): number {
  try {
    const v = (JSON.parse(readFileSync(join(stateDir, FILE), 'utf8')) as { offsetMs?: unknown }).offsetMs;
    return typeof v === 'number' && Number.isSafeInteger(v) ? v : 0;
  } catch {
    return 0;
  }
}

/** Write-then-rename, no fsync: a lost file costs one refusal. Never throws. */
export function saveOffset(stateDir: string, offsetMs: number, nowMs: number): string | undefined {
  const file = join(stateDir, FILE);
  try {
    if (offsetMs === 0) {
      rmSync(file, { force: true });
      return undefined;
    }
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ offsetMs, measuredAt: new Date(nowMs).toISOString() }) + '\n', { mode: 0o600 });
    renameSync(tmp, file);
    return file;
  } catch {
    return undefined;
  }
}

/** The API's clock minus ours, from a response's Date header received at `receivedMs`. */
export function offsetFromDate(date: string | undefined, receivedMs: number): number | undefined {
  if (!date) return undefined;
  const t = Date.parse(date);
  return Number.isFinite(t) ? t - receivedMs : undefined;
}
