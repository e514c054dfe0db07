/**
 * The operator's read model (issue 14): the index of firing alerts per cluster and each
 * subject's history. The transition engine writes it around its compare-and-set (an index
 * entry is put before the episode is written, removed after it ended); the alerts API reads
 * it. The index only points: readers confirm each entry against the subject's record.
 */
import type { CarriedEntry, FiringAlert, HistoryEntry } from '../domain/rules/read-model';

export interface AlertReadModel {
  /** Records (or replaces) a firing alert's index entry. */
  putFiring(cluster: string, alert: FiringAlert): Promise<void>;
  removeFiring(cluster: string, id: string): Promise<void>;
  /** The cluster's index entries (one Query, at most `limit`). */
  listFiring(cluster: string, limit: number): Promise<FiringAlert[]>;
  getFiring(cluster: string, id: string): Promise<FiringAlert | undefined>;
  /** How long history is kept (ms): a record that lives shorter cannot carry it. */
  readonly retentionMs: number;
  /** Appends one history entry of the subject (kept for the retention, then expired by TTL). */
  appendHistory(cluster: string, entry: HistoryEntry): Promise<void>;
  /**
   * Writes entries its record carried as one history item (kept for the retention after the
   * newest); the same entries always make the same item, so a repeat writes nothing new.
   */
  spillHistory(cluster: string, subject: string, entries: readonly CarriedEntry[]): Promise<void>;
  /** The subject's `h#` items, oldest first, at most `limit` entries (the newest ones); none past its retention at `nowMs` (the record's carried entries are not read here: alerts-api merges them). */
  history(cluster: string, subject: string, limit: number, nowMs: number): Promise<HistoryEntry[]>;
}
