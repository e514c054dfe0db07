/**
 * A check that has not run yet (docs/consul.md "A new check"). Consul registers a check
 * that is given no initial status as critical with empty Output, and keeps it so until its
 * first run reaches the catalog: usually a passing result within one interval. Alerting on
 * that critical at once is noise (an alert, then its resolution seconds later), so:
 *
 * - A check is **awaiting its first run** while it is critical, its Output is empty and its
 *   ModifyIndex is still its CreateIndex (nothing about it changed since registration;
 *   maintenance checks aside, which are critical with empty Output by design).
 * - Its critical alert is **held**: routed like any alert, but no channel hears of it
 *   before the grace has passed (rules/episodes.ts: a `for` of at least the grace).
 * - When the check reports (a new ModifyIndex): passing ends the episode with nothing sent;
 *   a failure with output (or another status) alerts at once, as any change does.
 * - A check that never reports stays held only for the grace: then the alert goes out
 *   ("no result since it was registered"), because a check that never runs, or fails
 *   without a word, is a problem too.
 *
 * The grace is `checks.firstRunGrace` of tocsin.yaml (default 2 minutes), longer when the
 * catalog gives the check's Interval (Consul >= 1.8) and twice that plus 30 s is more: the
 * first run comes within one interval (Consul staggers it), its result syncs at once.
 */
import type { CheckObservation } from '../types';
import { isMaintenanceCheck } from './maintenance';

export const FIRST_RUN_GRACE_DEFAULT_SECONDS = 120;
/** Longest grace an Interval may lead to. */
export const FIRST_RUN_GRACE_MAX_SECONDS = 3600;

export function awaitingFirstRun(o: Pick<CheckObservation, 'checkId' | 'status' | 'output' | 'createIndex' | 'modifyIndex'>): boolean {
  return o.status === 'critical' && o.output === '' && o.createIndex > 0 && o.createIndex === o.modifyIndex && !isMaintenanceCheck(o.checkId);
}

const GO_UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A Go duration string ("10s", "1m30s", "1h0m0s", "1.5s", "0s") in seconds; undefined if it is none. */
export function goDurationSeconds(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^(?:\d+(?:\.\d+)?(?:ns|us|µs|μs|ms|s|m|h))+$/u.test(value)) return undefined;
  let total = 0;
  for (const m of value.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|μs|ms|s|m|h)/gu)) total += Number(m[1]) * GO_UNIT_SECONDS[m[2]!]!;
  return total;
}

/** How long the alert of a check awaiting its first run is held; a configured 0 turns holding off. */
export function firstRunGraceSeconds(o: Pick<CheckObservation, 'definition'>, configured = FIRST_RUN_GRACE_DEFAULT_SECONDS): number {
  if (configured === 0) return 0;
  const interval = goDurationSeconds(o.definition?.Interval);
  const fromInterval = interval && interval > 0 ? Math.min(Math.ceil(2 * interval + 30), FIRST_RUN_GRACE_MAX_SECONDS) : 0;
  return Math.max(configured, fromInterval);
}
