/**
 * Turn check snapshots into transitions. Consul's ModifyIndex orders
 * observations of one check: anything at or below the stored index is stale.
 */
import type { CheckObservation, CheckStatus, Severity } from './types';

/** What the store keeps per (cluster, node, check). */
export interface StoredCheck {
  status: CheckStatus | 'removed';
  modifyIndex: number;
  /** ISO time the current status was first observed. */
  since: string;
  /** Severity of the last firing alert that has not been resolved yet. */
  alerting?: Severity;
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
): CheckDecision {
  if (!previous || previous.status === 'removed') {
    // A check seen passing for the first time needs no state: absence means "fine".
    if (observation.status === 'passing') return { kind: 'ignore', reason: 'baseline' };
    const wasPassing = !previous && observation.createIndex > 0 && observation.createIndex <= baselineIndex;
    const from = previous?.status ?? (wasPassing ? 'passing' : undefined);
    return { kind: 'transition', transition: { cluster, from, to: observation.status, previous, observation, at } };
  }
  if (observation.modifyIndex <= previous.modifyIndex) return { kind: 'ignore', reason: 'stale' };
  if (observation.status === previous.status) return { kind: 'ignore', reason: 'unchanged' };
  return { kind: 'transition', transition: { cluster, from: previous.status, to: observation.status, previous, observation, at } };
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

/** The stored state after a transition, given the alert decision taken on it. */
export function nextCheckState(t: CheckTransition, intent: AlertIntent | undefined): StoredCheck {
  const next: StoredCheck = {
    status: t.to,
    modifyIndex: Math.max(t.observation.modifyIndex, t.previous?.modifyIndex ?? 0),
    since: t.at,
  };
  const alerting = intent ? (intent.state === 'firing' ? intent.severity : undefined) : t.previous?.alerting;
  if (alerting) next.alerting = alerting;
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
export const defaultCheckPolicy: CheckAlertPolicy = (t) => {
  if (t.to === 'critical' || t.to === 'warning') {
    if (t.previous?.alerting === t.to) return undefined; // already alerted at this severity
    return { severity: t.to, state: 'firing' };
  }
  if ((t.to === 'passing' || t.to === 'removed') && t.previous?.alerting) {
    return { severity: 'info', state: 'resolved' };
  }
  return undefined;
};
