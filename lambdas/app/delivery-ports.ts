/**
 * Ports of delivery (the dispatcher, the timer worker, the silence API), by what they keep:
 * timers, silences, storm windows. DynamoDB and SQS implement them in lambdas/adapters.
 */
import type { FiringSource } from '../domain/rules/inhibit';
import type { DigestTimer, Timer } from '../domain/rules/outbox';
import type { Silence } from '../domain/rules/silences';
import type { FoldedAlert, FoldTally } from '../domain/rules/storm';
import type { Alert } from '../domain/types';

/** Delivers a timer at (or shortly after) its dueAt. */
export interface TimerQueue {
  schedule(timer: Timer): Promise<void>;
}

/**
 * The index of pending timer steps (domain/rules/pending.ts), kept where the episodes are:
 * a step is added before its queue message is sent and removed once the worker (or the
 * sweeper) has handled it, so the sweeper finds a step whose message was lost.
 */
export interface PendingTimers {
  add(timer: Timer): Promise<void>;
  remove(timer: Timer): Promise<void>;
  /** Steps of `cluster` due at or before `upToMs`, oldest first, at most `limit`. */
  due(cluster: string, upToMs: number, limit: number): Promise<Timer[]>;
}

/** Silences of a cluster, expired ones included or not: the dispatcher checks the end time. */
export interface SilenceReader {
  forCluster(cluster: string): Promise<Silence[]>;
}

/**
 * Which subjects each silence muted (a firing episode's notification held back), kept per
 * cluster and per silence so that the sweeper finds, for a silence that ended, exactly
 * those subjects, never scanning the subjects of a cluster.
 */
export interface MuteLedger {
  /** Remembers that `silenceId` muted `subject` (before the muted episode is written). */
  recordMute(cluster: string, silenceId: string, subject: string): Promise<void>;
  /** Silences of the cluster with muted subjects not yet handled (a small per-cluster index). */
  mutingSilences(cluster: string): Promise<string[]>;
  mutedSubjects(cluster: string, silenceId: string): Promise<string[]>;
  /** Handled: forgets these subjects of the silence; the silence leaves the index once none are left. */
  forgetMutes(cluster: string, silenceId: string, subjects: string[]): Promise<void>;
}

/** What the silence API keeps. */
export interface SilenceStore {
  create(s: Silence): Promise<void>;
  list(cluster: string): Promise<Silence[]>;
  expire(cluster: string, id: string, nowMs: number): Promise<{ kind: 'expired' | 'already_expired'; silence: Silence } | { kind: 'not_found' }>;
}

/** Storm grouping: may this notification go out on its own, or is it folded into the window's digest? */
export interface StormGate {
  /** 'deliver', or 'fold' (kept for the digest; `digest` is the timer to schedule once per window). */
  admit(cluster: string, channel: string, alert: Alert, nowMs: number): Promise<{ verdict: 'deliver' } | { verdict: 'fold'; digest?: DigestTimer }>;
  /** Undo the "digest scheduled" mark when scheduling failed, so a retry schedules it. */
  digestNotScheduled?(timer: DigestTimer): Promise<void>;
  /** Whether `admit` would fold this alert into a digest already scheduled, as far as this process knows for sure (no call). */
  foldsForSure?(cluster: string, channel: string, alert: Alert, nowMs: number): boolean;
  /** Folds it (what `admit` does once it knows): the fold item only, keyed by the alert's id. */
  foldAhead?(cluster: string, channel: string, alert: Alert, nowMs: number): Promise<void>;
}

/** The notifications a storm window folded, for its digest, and whether the digest went out. */
export interface DigestStore {
  /** The `limit` worst folds, how many there are, and (when the store counts them) their tally. */
  folded(timer: DigestTimer, limit: number): Promise<{ items: FoldedAlert[]; total: number; tally?: FoldTally }>;
  wasSent(timer: DigestTimer): Promise<boolean>;
  /**
   * Take the right to send the digest until `nowMs + leaseMs`: false when it was sent, or
   * another worker holds an unexpired claim (two sweeps, or a sweep and the queue, at once).
   */
  claim(timer: DigestTimer, nowMs: number, leaseMs: number): Promise<boolean>;
  markSent(timer: DigestTimer): Promise<void>;
}

/**
 * The firing alerts that can inhibit others (domain/rules/inhibit.ts): per cluster, one entry
 * per subject whose episode is firing and matches some inhibit rule's `source`, kept by the
 * transition engine as episodes open and end. The dispatcher reads one cluster's entries
 * (a bounded set: inhibiting alerts only), never the subjects.
 */
export interface FiringSources {
  /** Records (or replaces) the subject's firing source entry. */
  add(cluster: string, source: FiringSource): Promise<void>;
  remove(cluster: string, subject: string): Promise<void>;
  /** The cluster's entries, at most `limit`. */
  list(cluster: string, limit: number): Promise<FiringSource[]>;
}
