/**
 * Ports of the transition engine and the sources: subject state, snapshot scopes and the
 * outbox's publisher. Adapters implement them. The other ports sit with what they serve:
 * runtime.ts (clock, logger), credentials.ts, signed-request.ts (replay guard),
 * delivery-ports.ts (timers, silences, storm windows).
 */
import type { OutboxEntry } from '../domain/rules/outbox';
import type { FiringSources } from './delivery-ports';
import type { AlertReadModel } from './read-model-ports';
import type { Silence } from '../domain/rules/silences';
import type { MatchFacts } from '../domain/rules/types';
import type { LastDelivery } from '../domain/consul/index-order';

/** An outbox entry recorded with its transition but not yet known to be dispatched. */
export interface PendingEntry {
  entry: OutboxEntry;
  /** Epoch ms until which the writer that claimed it is dispatching it. */
  leaseUntil: number;
}

/**
 * The stored state of one subject (a check, a member, an event ...) within a cluster.
 * `rev` increases with every write: writers compare-and-set on it.
 */
export interface SubjectRecord<S> {
  state: S;
  rev: number;
  pending?: PendingEntry;
}

export interface SubjectWrite<S> {
  state: S;
  pending?: PendingEntry;
  /** Let DynamoDB's TTL delete the item after this many seconds. */
  ttlSeconds?: number;
}

/**
 * Subjects are strings like `check/<node>/<id>` or `member/<name>`, unique per cluster.
 */
export interface SubjectStore {
  get<S>(cluster: string, subject: string): Promise<SubjectRecord<S> | undefined>;
  getMany<S>(cluster: string, subjects: string[]): Promise<Map<string, SubjectRecord<S>>>;
  /**
   * Writes `next` if the stored revision is still `expectedRev` (undefined: no item
   * yet) and no alert is pending. Returns false when someone else wrote first.
   */
  put<S>(cluster: string, subject: string, expectedRev: number | undefined, next: SubjectWrite<S>): Promise<boolean>;
  /** Takes over publishing a pending alert whose lease expired. */
  claimPending(cluster: string, subject: string, alertId: string, nowMs: number, leaseUntil: number): Promise<boolean>;
  /** Marks the pending alert published. */
  clearPending(cluster: string, subject: string, alertId: string): Promise<void>;
}

/** Per (cluster, snapshot watch scope): how far snapshots have been processed. */
export interface ScopeRecord {
  /** Highest index fully processed; entries at or below it are unchanged. */
  watermark: number;
  /** Subjects last seen non-passing in this scope, to notice them disappearing. */
  active: Set<string>;
  /**
   * When the scope's current index space began (epoch ms): set when a snapshot with a
   * lower index was taken as a reset (domain/consul/index-order.ts). Subject records
   * written before it hold indexes of the old space. Absent: never reset.
   */
  epoch?: number;
  /** The delivery that last moved the watermark (who, when): the evidence a reset is judged on. */
  last?: LastDelivery;
  /** A snapshot of this scope is being continued from the timers queue (check-snapshots.ts): only its runs touch the scope's subjects. */
  continuing?: Continuing;
}

/**
 * The scope's continuation, on its head item: the part to run next (`part`, the stored
 * plan's id) of the snapshot at `index`; the newest full snapshot that arrived meanwhile
 * (`next`, stored input, at `nextIndex`), which the next run switches to; and the run
 * holding the scope (`runner`, until `lease`).
 */
export interface Continuing {
  part: string;
  index: number;
  next?: string;
  nextIndex?: number;
  runner?: string;
  lease?: number;
}

export interface ScopeUpdate {
  watermark: number;
  addActive: string[];
  removeActive: string[];
  /** The delivery this update comes from, when it moves the watermark: kept as the scope's `last`. */
  last?: LastDelivery;
  /** The epoch the update was computed in (absent: 0): dropped if the scope was reset since. */
  epoch?: number;
}

/** A scope re-baselined after its index went backwards: replaces watermark, epoch, last and the active set. */
export interface ScopeReset {
  /** The scope as read when the reset was decided: nothing is written if it moved since. */
  from: { watermark: number; epoch: number };
  watermark: number;
  epoch: number;
  active: string[];
  last: LastDelivery;
}

export interface ScopeStore {
  getScope(cluster: string, scope: string): Promise<ScopeRecord>;
  /**
   * getScope and SubjectStore.getMany of `subjects` (the same table) in one batched read: a
   * checks delta reads both at once, one call fewer. Absent: the two reads side by side.
   */
  getScopeWith?<S>(cluster: string, scope: string, subjects: readonly string[]): Promise<{ scope: ScopeRecord; records: Map<string, SubjectRecord<S>> }>;
  /** Advances the watermark only forward; an older update (or one from before a reset) changes nothing. */
  updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void>;
  /** Lowers the watermark to a reset's; false (nothing written) when the scope moved since it was read. */
  resetScope(cluster: string, scope: string, reset: ScopeReset): Promise<boolean>;
}

/**
 * The transition engine's publisher: carries out an outbox entry (the Dispatcher: rules,
 * silences, storm grouping, timers). Not a ChannelPublisher, on purpose: one of those in
 * its place would publish every alert unrouted and unsilenced.
 */
export interface OutboxPublisher {
  /** `subject`: the entry's subject, when known (an alert never inhibits itself). */
  dispatch(entry: OutboxEntry, subject?: string): Promise<void>;
  /**
   * Carries the entry out before its transition is written, when that is known to be safe
   * to repeat: in a storm, every delivery folds into a digest already scheduled (the fold
   * item is keyed by the alert's id). True: done, the transition is written without an
   * outbox entry (one write instead of a write and a clear). False: nothing done.
   * `subject` as for dispatch.
   */
  settleAhead?(entry: OutboxEntry, subject?: string): Promise<boolean>;
  /** Silences the transition engine checks before it writes a firing episode (absent: none). */
  readonly silencer?: Silencer;
  /** The operator's read model the engine keeps with each episode write (absent: none). */
  readonly readModel?: AlertReadModel;
  /** Where the engine records episodes that can inhibit others (absent: no inhibit rules). */
  readonly firingSources?: FiringSources;
}

/**
 * The active silence matching an alert's facts (or the inhibition holding it, as a
 * pseudo-silence: domain/rules/inhibit.ts inhibitionId), and the record of what it muted.
 */
export interface Silencer {
  /** `episode`: the alert's (Alert.episode), for silences bound to one episode ("until resolved"). */
  active(facts: MatchFacts, nowMs: number, subject?: string, episode?: string): Promise<Silence | undefined>;
  recordMute(cluster: string, silenceId: string, subject: string): Promise<void>;
}


/**
 * The rest of a snapshot's work, kept while a continuation is pending (check-snapshots.ts):
 * stored compressed in bounded items with a TTL. `value` is plain JSON.
 */
export interface ContinuationStore {
  save(cluster: string, id: string, value: unknown, ttlSeconds: number): Promise<void>;
  /** undefined: not stored (finished and removed already, or expired). */
  load(cluster: string, id: string): Promise<unknown>;
  remove(cluster: string, id: string): Promise<void>;
  /** Marks the scope as continuing with `part`; false when another continuation holds it. */
  begin(cluster: string, scope: string, part: string, index: number): Promise<boolean>;
  /**
   * Queues a full snapshot (stored input `next`, at `index`) behind the scope's continuation,
   * replacing an older queued one (returned, to be removed). 'older': the continuation (or the
   * queued one) is as new or newer; 'none': no continuation any more (process it now).
   */
  offer(cluster: string, scope: string, next: string, index: number): Promise<{ kind: 'queued'; replaced?: string } | { kind: 'older' } | { kind: 'none' }>;
  /** Takes the scope for a run of `part` until `leaseUntil`: the marker, 'busy' (another run holds it) or 'gone' (not the scope's part: done or superseded). */
  claim(cluster: string, scope: string, part: string, runner: string, nowMs: number, leaseUntil: number): Promise<Continuing | 'busy' | 'gone'>;
  /** Hands the scope to the next part (at `index`); `consumed`: the queued snapshot the run switched to, dropped unless a newer one came. */
  advance(cluster: string, scope: string, runner: string, part: string, index: number, consumed?: string): Promise<void>;
  /** The snapshot is done: removes the marker unless a snapshot was queued meanwhile (false: go on with it). */
  end(cluster: string, scope: string, runner: string, consumed?: string): Promise<boolean>;
  /** Gives the lease back after a failed run, so that a retry need not wait for it. */
  release(cluster: string, scope: string, runner: string): Promise<void>;
}
