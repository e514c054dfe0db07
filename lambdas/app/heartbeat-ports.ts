/**
 * Ports of heartbeats and the sweeper: the watchers' signs of life, the sweeper's own
 * record, the alerts topic's reachability and the external dead-man's switch. DynamoDB,
 * SNS and HTTPS implement them in lambdas/adapters.
 */
import type { WatcherSigns } from '../domain/heartbeats';
import type { SubjectRecord } from './ports';

/** One item per watcher (cluster, node); no scan: a cluster's watchers are one query. */
export interface WatcherStore {
  /**
   * Records a sign of life at `atMs` (and, for a handler's envelope, `report.via`); creates
   * the watcher on its first report. Returns what was stored before, if anything.
   */
  touch(cluster: string, node: string, atMs: number, report?: { via: string }): Promise<WatcherSigns | undefined>;
  list(cluster: string): Promise<WatcherSigns[]>;
  /**
   * Flags a watcher declared missing (kept if already set) and returns it as it now is;
   * undefined when it no longer exists (forgotten meanwhile: it is not re-created).
   */
  markMissing(cluster: string, node: string, sinceMs: number): Promise<WatcherSigns | undefined>;
  /** Clears the flag if it still is `sinceMs`. */
  clearMissing(cluster: string, node: string, sinceMs: number): Promise<void>;
  /** Deletes the watcher; what it was, if it existed. */
  forget(cluster: string, node: string): Promise<WatcherSigns | undefined>;
  /** The heartbeat subjects of a cluster (`watcher/<node>` and `watchers`) with their alert state, read at once. */
  alertRecords<S>(cluster: string): Promise<Map<string, SubjectRecord<S>>>;
}

/** The sweeper's own record: proves the table takes a write, and says when the last sweep ran. */
export interface SweepLedger {
  /** Records a sweep at `atMs`; returns when the one before ran, if ever. */
  record(atMs: number, summary: { ok: boolean; tasks: string[] }): Promise<{ previousAt?: number }>;
  lastSweep(): Promise<{ at: number; ok: boolean } | undefined>;
}

/** Whether alerts can be published right now (SNS: the topic answers), without publishing one. */
export interface AlertsProbe {
  reachable(): Promise<void>;
}

/** An external dead-man's switch (healthchecks.io style): a request after each successful sweep. */
export interface Watchdog {
  /** Rejects when the request failed or was not answered 2xx in time. */
  ping(): Promise<void>;
  /** The host, for log lines (never the whole URL: its path is the check's secret). */
  readonly target: string;
}
