/**
 * Turn check snapshots into transitions. Consul's ModifyIndex orders
 * observations of one check: anything at or below the stored index is stale.
 */
import { CHECK_STATUSES, type CheckObservation, type Severity } from '../types';
import { isMaintenanceCheck, type MaintenanceTarget } from './maintenance';
import { awaitingFirstRun } from './first-run';

/** A check's status as stored: Consul's, or `removed` once it left its watch. */
export const STORED_CHECK_STATUSES = [...CHECK_STATUSES, 'removed'] as const;
export type StoredCheckStatus = (typeof STORED_CHECK_STATUSES)[number];
/** Statuses the default policy raises an alert for, at the status's own severity. */
export const ALERTING_CHECK_STATUSES = ['critical', 'warning'] as const;
/** Statuses that resolve such an alert. */
export const RESOLVING_CHECK_STATUSES = ['passing', 'removed'] as const;

/** What the store keeps per (cluster, node, check). */
export interface StoredCheck {
  status: StoredCheckStatus;
  modifyIndex: number;
  /** ISO time the current status was first observed. */
  since: string;
  /** Severity of the last firing alert that has not been resolved yet. */
  alerting?: Severity;
  /** A firing alert for the current status was withheld because of maintenance mode. */
  suppressed?: boolean;
  /** The check was awaiting its first run (first-run.ts) when last seen: its alert is held. */
  awaitingFirstRun?: boolean;
}

/** Stored per check: its state and the facts needed to describe it once it is gone. */
export interface CheckRecordState extends StoredCheck {
  facts: Omit<CheckObservation, 'output'>;
}

export interface CheckTransition {
  cluster: string;
  from?: StoredCheck['status'];
  to: StoredCheck['status'];
  previous?: StoredCheck;
  /** The observation that caused it; for a removal, the last known facts. */
  observation: CheckObservation;
  at: string;
  /** The check's node or service instance is in maintenance mode. */
  maintenance?: MaintenanceTarget;
  /**
   * Maintenance ended for a check whose status did not change (from === to): the
   * alert withheld during maintenance is due now.
   */
  released?: boolean;
  /** The observation awaits the check's first run (first-run.ts): a firing alert is held. */
  awaitingFirstRun?: boolean;
  /**
   * A check held while awaiting its first run has reported (from === to, with a result now):
   * its alert is due at once.
   */
  firstRunReported?: boolean;
}

export type CheckDecision =
  | { kind: 'ignore'; reason: 'stale' | 'unchanged' | 'baseline' }
  | { kind: 'transition'; transition: CheckTransition };

/**
 * `baselineIndex`: the scope's watermark. Only non-passing checks are stored, so a
 * check without state that existed at the baseline was passing then.
 */
export function decideCheck(
  cluster: string,
  previous: StoredCheck | undefined,
  observation: CheckObservation,
  at: string,
  baselineIndex = 0,
  maintenance?: MaintenanceTarget,
): CheckDecision {
  const m = { ...(maintenance ? { maintenance } : {}), ...(awaitingFirstRun(observation) ? { awaitingFirstRun: true } : {}) };
  if (!previous || previous.status === 'removed') {
    // A check seen passing for the first time needs no state: absence means "fine".
    if (observation.status === 'passing') return { kind: 'ignore', reason: 'baseline' };
    const wasPassing = !previous && observation.createIndex > 0 && observation.createIndex <= baselineIndex;
    const from = previous?.status ?? (wasPassing ? 'passing' : undefined);
    return { kind: 'transition', transition: { cluster, from, to: observation.status, previous, observation, at, ...m } };
  }
  if (observation.modifyIndex <= previous.modifyIndex) return { kind: 'ignore', reason: 'stale' };
  if (observation.status === previous.status) {
    if (previous.awaitingFirstRun && !awaitingFirstRun(observation)) {
      // Held while awaiting its first run, and now it has reported: still failing.
      return { kind: 'transition', transition: { cluster, from: previous.status, to: observation.status, previous, observation, at, ...m, firstRunReported: true } };
    }
    return decideCheckRelease(cluster, previous, observation, at, maintenance);
  }
  return { kind: 'transition', transition: { cluster, from: previous.status, to: observation.status, previous, observation, at, ...m } };
}

/**
 * A check whose status has not changed, looked at again because maintenance may have
 * ended for it: the alert withheld during maintenance fires now, unless maintenance
 * (of the node or the instance) still covers the check.
 */
export function decideCheckRelease(
  cluster: string,
  previous: StoredCheck,
  observation: CheckObservation,
  at: string,
  maintenance?: MaintenanceTarget,
): CheckDecision {
  if (!previous.suppressed || maintenance || observation.status !== previous.status) return { kind: 'ignore', reason: 'unchanged' };
  return { kind: 'transition', transition: { cluster, from: previous.status, to: observation.status, previous, observation, at, released: true } };
}

/**
 * A check that was not passing disappeared from its watch: deregistered, or (for a
 * state-filtered watch) no longer in that state. `snapshotIndex` is the watch's
 * CONSUL_INDEX when known; a removal older than the stored state is stale.
 */
export function decideCheckRemoval(
  cluster: string,
  previous: StoredCheck | undefined,
  lastKnown: CheckObservation,
  snapshotIndex: number | undefined,
  at: string,
): CheckDecision {
  if (!previous || previous.status === 'removed' || previous.status === 'passing') return { kind: 'ignore', reason: 'unchanged' };
  if (snapshotIndex !== undefined && snapshotIndex <= previous.modifyIndex) return { kind: 'ignore', reason: 'stale' };
  return {
    kind: 'transition',
    transition: { cluster, from: previous.status, to: 'removed', previous, observation: lastKnown, at },
  };
}

/**
 * The stored state after a transition, given the alert decision taken on it and
 * whether maintenance withheld a firing alert.
 */
export function nextCheckState(t: CheckTransition, intent: AlertIntent | undefined, suppressed = false): StoredCheck {
  const next: StoredCheck = {
    status: t.to,
    modifyIndex: Math.max(t.observation.modifyIndex, t.previous?.modifyIndex ?? 0),
    // A release changes no status: the status began when it began.
    since: t.released && t.previous ? t.previous.since : t.at,
  };
  const alerting = intent ? (intent.state === 'firing' ? intent.severity : undefined) : t.previous?.alerting;
  if (alerting) next.alerting = alerting;
  if (suppressed) next.suppressed = true;
  if (t.awaitingFirstRun) next.awaitingFirstRun = true;
  return next;
}

/** What a policy decides for a transition: notify, and how. */
export interface AlertIntent {
  severity: Severity;
  state: 'firing' | 'resolved';
}

/**
 * The seam the rules engine fills: given a transition, which alert (if any).
 * Policies are pure.
 */
export type CheckAlertPolicy = (transition: CheckTransition) => AlertIntent | undefined;

/**
 * Default until rules exist: critical and warning raise alerts of that severity;
 * leaving them (passing, or the check going away) after an alert resolves it.
 */
const isIn = <T extends string>(list: readonly T[], value: string): value is T => (list as readonly string[]).includes(value);

export const defaultCheckPolicy: CheckAlertPolicy = (t) => {
  if (isIn(ALERTING_CHECK_STATUSES, t.to)) {
    if (t.previous?.alerting === t.to) return undefined; // already alerted at this severity
    return { severity: t.to, state: 'firing' };
  }
  if (isIn(RESOLVING_CHECK_STATUSES, t.to) && t.previous?.alerting) {
    return { severity: 'info', state: 'resolved' };
  }
  return undefined;
};

function withoutAlerting(s: StoredCheck): StoredCheck {
  const { alerting: _alerting, ...rest } = s;
  return rest;
}

/**
 * Maintenance mode around any policy:
 * - the maintenance checks themselves (`_node_maintenance`,
 *   `_service_maintenance:<id>`, critical while present) never raise their status:
 *   entering maintenance is an info notice, leaving it resolves that notice;
 * - a firing alert for a check under maintenance is withheld (`suppressed`), and
 *   fires when maintenance ends if the check is still in that state (a release);
 * - resolutions pass: an alert raised before maintenance may still be closed.
 */
export function evaluateCheckPolicy(policy: CheckAlertPolicy, t: CheckTransition): { intent?: AlertIntent; suppressed: boolean } {
  if (isMaintenanceCheck(t.observation.checkId)) {
    const inMaintenance = t.to !== 'passing' && t.to !== 'removed';
    if (inMaintenance) return t.previous?.alerting ? { suppressed: false } : { intent: { severity: 'info', state: 'firing' }, suppressed: false };
    return t.previous?.alerting ? { intent: { severity: 'info', state: 'resolved' }, suppressed: false } : { suppressed: false };
  }
  // A check held while awaiting its first run has reported and still fails: its alert,
  // recorded when it was held, is raised now (the policy sees no alert raised yet).
  const intent = t.firstRunReported && t.previous ? policy({ ...t, previous: withoutAlerting(t.previous) }) : policy(t);
  if (t.maintenance && intent?.state === 'firing') return { suppressed: true };
  return intent ? { intent, suppressed: false } : { suppressed: false };
}
