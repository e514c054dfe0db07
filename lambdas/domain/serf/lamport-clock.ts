/**
 * Serf's Lamport clocks as tocsin sees them (SERF_USER_LTIME, SERF_QUERY_LTIME), and the
 * rule that tells a clock RESTART from an old replay. docs/serf.md "Lamport clocks" is the
 * operator's version of this comment.
 *
 * Facts (hashicorp/serf serf/serf.go, delegate.go, snapshot.go):
 * - One event clock per cluster, shared by every event name; queries have their own. A
 *   new agent starts at 1 and catches up with the cluster on join (push-pull witnesses
 *   the peers' clock). Only a snapshot (`-snapshot`) carries a clock over a restart, so
 *   when EVERY agent restarts without one, the cluster's clock starts again at 1.
 * - An agent hands its handler an event only if it is at most 512 LTimes behind its own
 *   clock (EventBuffer / QueryBuffer, `received old event`), and it dedupes by
 *   (LTime, name, payload) in a 512-slot buffer that lives in memory. Replays (a join
 *   with `-replay`, the periodic push-pull merge) come from a live peer's buffer, so they
 *   stay within 512 of the cluster's clock; a restarted cluster has no old buffer left.
 *   Queries are never replayed (push-pull carries no query buffer).
 *
 * So within one clock lineage a report handled after the lineage reached LTime H never
 * carries an LTime <= H - 512 (up to a handler backlog of a few events and gossip lag,
 * which a 5 s clock-skew allowance covers). Such a report reveals a NEW lineage: the
 * clock restarted. A report handled before (or around when) H was handled is a late
 * delivery of the old lineage (the shim's spool, a slow agent): it is deduplicated in
 * that lineage and never starts a new one.
 *
 * tocsin keeps per (cluster, clock) a small record of the lineages seen (at most
 * MAX_LINEAGES: the current one and the one before, for reports spooled before a restart
 * and for a falsely suspected restart, whose events must still deduplicate), and per
 * lineage a ring of RING_SLOTS dedupe records keyed by LTime mod RING_SLOTS, like
 * Serf's own buffer but twice as deep. Nothing expires: the ring bounds the storage
 * (MAX_LINEAGES x RING_SLOTS items per cluster and clock), and an LTime whose slot was
 * reused by a newer one is older than any replay Serf can make.
 */

/** Serf's default EventBuffer and QueryBuffer: how far behind its clock an agent still delivers. */
export const SERF_BUFFER = 512n;
/** Dedupe records per lineage: twice Serf's buffer, so lagging agents still find theirs. */
export const RING_SLOTS = 1024n;
/** Clock lineages remembered per cluster and clock. */
export const MAX_LINEAGES = 2;
/** Clock skew allowed between agents (as for member events). */
export const CLOCK_SKEW_MS = 5_000;

/** One run of a cluster's Lamport clock: from the first report seen to the newest. */
export interface ClockLineage {
  /** Identifies the lineage in its dedupe records; 0 for the first one tocsin saw. */
  epoch: number;
  /** Which dedupe ring it uses (0 .. MAX_LINEAGES-1); a new lineage takes the ring of the one it evicts. */
  ring: number;
  /** Highest LTime seen in the lineage (decimal, may exceed 2^53). */
  high: string;
  /** Handler time (`at`) of the report that brought `high`. */
  highAt: string;
  /**
   * Earliest handler time seen in the lineage; set only for lineages revealed by a
   * restart (a report handled before it cannot belong to it). The first lineage has no
   * lower bound: it may have run long before tocsin saw it.
   */
  since?: string;
  /** For a lineage revealed by a restart: the LTime that revealed it, and the high it fell behind. */
  revealedBy?: { ltime: string; after: string };
}

export interface LamportClockState {
  /** Most recently revealed first. */
  lineages: ClockLineage[];
  /** When tocsin started tracking this clock (the first lineage may still have records from before). */
  createdAt: string;
  /** Clock restarts seen. */
  restarts: number;
}

export interface ClockReport {
  /** Canonical decimal LTime. */
  ltime: string;
  /** When the reporting agent ran its handler (sentAt, clamped to the server clock). */
  at: string;
}

export type ClockAttribution =
  /**
   * The report belongs to `lineage` (as it is after the report). `late`: its LTime is
   * beyond the lineage's window but it was handled before the lineage got there.
   * `next`: the clock record to write first (the lineage advanced), if any.
   */
  | { kind: 'lineage'; lineage: ClockLineage; late: boolean; next?: LamportClockState }
  /** The clock restarted: `lineage` is new; `after` is the lineage whose high it fell behind. */
  | { kind: 'restart'; lineage: ClockLineage; after: ClockLineage; next: LamportClockState };

const ms = (iso: string): number => Date.parse(iso);

function distance(l: bigint, lineage: ClockLineage): bigint {
  const d = l - BigInt(lineage.high);
  return d < 0n ? -d : d;
}

function nearest(pool: ClockLineage[], l: bigint): ClockLineage {
  return pool.reduce((best, x) => (distance(l, x) < distance(l, best) ? x : best));
}

/** Within the lineage's window: at most SERF_BUFFER-1 behind its high, or ahead of it. */
function inWindow(l: bigint, lineage: ClockLineage): boolean {
  return l + SERF_BUFFER > BigInt(lineage.high);
}

/** Handled at or after the lineage's first report (with the skew allowance). */
function eligible(at: number, lineage: ClockLineage): boolean {
  return lineage.since === undefined || at + CLOCK_SKEW_MS >= ms(lineage.since);
}

function withLineage(clock: LamportClockState, updated: ClockLineage): LamportClockState {
  return { ...clock, lineages: clock.lineages.map((x) => (x.epoch === updated.epoch ? updated : x)) };
}

/** `lineage` after a report of it: a higher LTime moves `high`, an earlier handler time moves `since`. */
function advanced(lineage: ClockLineage, l: bigint, report: ClockReport): ClockLineage {
  let next = lineage;
  if (l > BigInt(lineage.high)) next = { ...next, high: report.ltime, highAt: report.at };
  if (lineage.since !== undefined && ms(report.at) < ms(lineage.since)) next = { ...next, since: report.at };
  return next;
}

/**
 * Which clock lineage a report belongs to, or that it reveals a restart. Pure; the
 * caller writes `next` (compare-and-set) before deduplicating in the lineage's ring.
 *
 * 1. A lineage the report may belong to by time (`eligible`) and whose window holds its
 *    LTime; several: the one whose high is nearest.
 * 2. Else a lineage it may belong to by time that reached beyond it only after the report
 *    was handled (+ skew): a late delivery of that lineage.
 * 3. Else a lineage that began after the report was handled, but whose window holds it
 *    within SERF_BUFFER either way: an early report of that lineage that arrived late.
 * 4. Else the clock restarted: a new lineage, which evicts the least recently advanced
 *    one when MAX_LINEAGES are kept.
 */
export function attributeReport(clock: LamportClockState | undefined, report: ClockReport, nowIso: string): ClockAttribution {
  const l = BigInt(report.ltime);
  const at = ms(report.at);
  if (!clock || clock.lineages.length === 0) {
    const lineage: ClockLineage = { epoch: 0, ring: 0, high: report.ltime, highAt: report.at };
    return { kind: 'lineage', lineage, late: false, next: { lineages: [lineage], createdAt: clock?.createdAt ?? nowIso, restarts: clock?.restarts ?? 0 } };
  }
  const settle = (lineage: ClockLineage, late: boolean): ClockAttribution => {
    const next = late ? lineage : advanced(lineage, l, report);
    return next === lineage ? { kind: 'lineage', lineage, late } : { kind: 'lineage', lineage: next, late, next: withLineage(clock, next) };
  };
  const byTime = clock.lineages.filter((x) => eligible(at, x));
  const windowed = byTime.filter((x) => inWindow(l, x));
  if (windowed.length > 0) return settle(nearest(windowed, l), false);
  const late = byTime.filter((x) => at <= ms(x.highAt) + CLOCK_SKEW_MS);
  if (late.length > 0) return settle(nearest(late, l), true);
  const early = clock.lineages.filter((x) => !eligible(at, x) && distance(l, x) < SERF_BUFFER);
  if (early.length > 0) return settle(nearest(early, l), false);

  const after = clock.lineages.reduce((a, b) => (ms(b.highAt) > ms(a.highAt) ? b : a));
  const kept = [...clock.lineages].sort((a, b) => ms(b.highAt) - ms(a.highAt)).slice(0, MAX_LINEAGES - 1);
  const ring = [...Array(MAX_LINEAGES).keys()].find((r) => !kept.some((x) => x.ring === r)) ?? 0;
  const epoch = Math.max(...clock.lineages.map((x) => x.epoch)) + 1;
  const lineage: ClockLineage = { epoch, ring, high: report.ltime, highAt: report.at, since: report.at, revealedBy: { ltime: report.ltime, after: after.high } };
  return { kind: 'restart', lineage, after, next: { ...clock, lineages: [lineage, ...kept], restarts: clock.restarts + 1 } };
}

/** The ring slot an LTime's dedupe record lives in. */
export function ringSlot(ltime: string): string {
  return (BigInt(ltime) % RING_SLOTS).toString();
}
