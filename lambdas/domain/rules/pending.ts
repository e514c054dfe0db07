/**
 * The index of pending timer steps (docs/ARCHITECTURE.md, "Episodes"): every `for`,
 * `repeat` and storm digest timer is also kept as one item per step under its cluster,
 * sorted by when it is due, until it is done. The sweeper reads what is overdue (due up to
 * now minus a grace, so a timer the queue is about to deliver is not raced) and fires it
 * through the timer worker. Pure: keys and the cut-off.
 */
import type { Timer } from './outbox';

export const PENDING_PREFIX = 'due#';

/** Epoch ms as a fixed-width string, so that keys sort by time (good until the year 5138). */
function at(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(14, '0');
}

/** The step's sort key: its due time, then what identifies the step (one key per step). */
export function pendingSortKey(timer: Timer): string {
  if (timer.kind === 'digest') return `${PENDING_PREFIX}${at(timer.dueAt)}#digest#${timer.channel}#${timer.window}`;
  if (timer.kind === 'continue') return `${PENDING_PREFIX}${at(timer.dueAt)}#continue#${timer.id}`;
  if (timer.kind === 'flapping') return `${PENDING_PREFIX}${at(timer.dueAt)}#flapping#${timer.flap}#${timer.subject}`;
  return `${PENDING_PREFIX}${at(timer.dueAt)}#${timer.kind}#${timer.seq}#${timer.rule}#${timer.episode}#${timer.subject}`;
}

/** The greatest sort key of a step due at or before `nowMs - graceMs` ('~' sorts after '#' and every digit). */
export function overdueUpToKey(nowMs: number, graceMs: number): string {
  return `${PENDING_PREFIX}${at(nowMs - graceMs)}~`;
}

/** Whether the sweep fires this step now: it is due, and the queue had `graceMs` to deliver it. */
export function isOverdue(timer: Timer, nowMs: number, graceMs: number): boolean {
  return pendingSortKey(timer) <= overdueUpToKey(nowMs, graceMs);
}
