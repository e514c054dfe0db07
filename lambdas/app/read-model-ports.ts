/**
 * The operator's read model (issue 14): the index of firing alerts per cluster and each
 * subject's history. The transition engine writes it around its compare-and-set (an index
 * entry is put before the episode is written, removed after it ended); the alerts API reads
 * it. The index only points: readers confirm each entry against the subject's record.
 */
import type { FiringAlert, FiringUpdate, HistoryEntry } from '../domain/rules/read-model';

export interface AlertReadModel {
  /** Records (or replaces) a firing alert's index entry. */
  putFiring(cluster: string, alert: FiringAlert): Promise<void>;
  /** Updates an entry's channels, silence and acknowledgement; nothing when it has no entry. */
  updateFiring(cluster: string, id: string, update: FiringUpdate): Promise<void>;
  removeFiring(cluster: string, id: string): Promise<void>;
  /** The cluster's index entries (one Query, at most `limit`). */
  listFiring(cluster: string, limit: number): Promise<FiringAlert[]>;
  getFiring(cluster: string, id: string): Promise<FiringAlert | undefined>;
  /** Appends one history entry of the subject (kept for the retention, then expired by TTL). */
  appendHistory(cluster: string, entry: HistoryEntry): Promise<void>;
  /** The subject's history, oldest first, at most `limit` entries (the newest ones); none past its retention at `nowMs`. */
  history(cluster: string, subject: string, limit: number, nowMs: number): Promise<HistoryEntry[]>;
}
