/** Ports: what the application needs from the outside world. Adapters implement them. */
import type { StoredCheck } from '../domain/check-transitions';
import type { Alert, CheckObservation } from '../domain/types';

/** An alert recorded with its transition but not yet known to be published. */
export interface PendingAlert {
  alert: Alert;
  /** Epoch ms until which the writer that claimed it is publishing it. */
  leaseUntil: number;
}

export interface CheckRecord {
  state: StoredCheck;
  /** The last observation, kept to describe the check if it disappears. */
  facts: CheckObservation;
  pending?: PendingAlert;
}

/** Per (cluster, watch scope): how far snapshots have been processed. */
export interface ScopeRecord {
  /** Highest ModifyIndex fully processed; checks at or below it are unchanged. */
  watermark: number;
  /** Checks last seen non-passing in this scope, to notice them disappearing. */
  active: Set<string>;
}

export interface ScopeUpdate {
  watermark: number;
  addActive: string[];
  removeActive: string[];
}

export interface CheckStateStore {
  getScope(cluster: string, scope: string): Promise<ScopeRecord>;
  /** Advances the watermark only forward; a stale update changes nothing. */
  updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void>;
  getChecks(cluster: string, subjects: string[]): Promise<Map<string, CheckRecord>>;
  getCheck(cluster: string, subject: string): Promise<CheckRecord | undefined>;
  /**
   * Records a transition if the stored state is still `expected` (undefined: no item).
   * Returns false when someone else changed it first.
   */
  writeTransition(
    cluster: string,
    subject: string,
    expected: StoredCheck | undefined,
    next: CheckRecord,
  ): Promise<boolean>;
  /** Takes over publishing a pending alert whose lease expired. */
  claimPending(cluster: string, subject: string, alertId: string, nowMs: number, leaseUntil: number): Promise<boolean>;
  /** Marks the pending alert published. */
  clearPending(cluster: string, subject: string, alertId: string): Promise<void>;
}

export interface AlertPublisher {
  publish(alert: Alert): Promise<void>;
}

/** HMAC key per cluster; undefined for an unknown cluster. */
export interface ClusterKeys {
  keyFor(cluster: string): Promise<string | undefined>;
}

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };
