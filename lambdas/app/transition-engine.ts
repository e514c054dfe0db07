/**
 * Exactly-once alerts for any subject: the decision is pure (domain), the write is a
 * compare-and-set on the subject's revision, and the alert travels with the write as
 * a pending outbox entry until it was dispatched. Concurrent or repeated deliveries of
 * one change converge on one write, hence one alert; a failed publish is retried by
 * the next delivery, under a lease so that two retries do not both publish.
 */
import { alertFacts, muteEntry, type Episodic } from '../domain/rules/episodes';
import type { FiringSource } from '../domain/rules/inhibit';
import { alertRef, CARRIED_HISTORY_FIELD, carriedHistory, placeHistory, readModelChange, type HistoryEvent, type HistoryPlacement, type IndexChange, type ReadModelChange } from '../domain/rules/read-model';
import type { AlertReadModel } from './read-model-ports';
import type { OutboxEntry } from '../domain/rules/outbox';
import type { OutboxPublisher, PendingEntry, SubjectRecord, SubjectStore, SubjectWrite } from './ports';
import type { Clock } from './runtime';
import { sleep } from './concurrency';

export type Decision<S> = { kind: 'ignore' } | { kind: 'write'; state: S; outbox?: OutboxEntry; ttlSeconds?: number; firing?: FiringMark };

/**
 * The subject's episode became (or still is, changed) a firing inhibition source, or stopped
 * being one (sources/routing.ts): the engine records it before the write, removes it after.
 */
export type FiringMark = { kind: 'source'; source: FiringSource } | { kind: 'ended' };

/** An outbox entry that delivers nothing, schedules nothing and logs nothing when dispatched. */
export function isInert(entry: OutboxEntry): boolean {
  const r = entry.routing;
  return r !== undefined && entry.silencedBy === undefined && r.deliveries.length === 0 && r.timers.length === 0 && r.flapTimer === undefined && (r.muted?.length ?? 0) === 0;
}

/** none: nothing to do; written: state changed, no alert; published; unsettled: retry later. */
export type Outcome = 'none' | 'written' | 'published' | 'unsettled';

export interface EngineDeps {
  subjects: SubjectStore;
  publisher: OutboxPublisher;
  clock: Clock;
  /** How long a writer may hold a pending alert before another takes over. */
  leaseMs?: number;
}

export interface EngineOptions {
  /**
   * `apply` answers 'published' once the alert is published, and clears the outbox entry
   * in the background; the caller must await `cleared()` before it answers. For sources
   * that write their scope's watermark after a snapshot: the watermark write then runs
   * while the outbox entries are cleared, not after (docs/ARCHITECTURE.md, "Failures").
   */
  overlapClears?: boolean;
}

const MAX_WRITE_ATTEMPTS = 4;
const MAX_SETTLE_WAITS = 5;
/**
 * Once SNS has accepted an alert, clearing it from the outbox is retried this often:
 * a pending entry left behind would be published again when its lease runs out.
 */
const CLEAR_ATTEMPTS = 5;

/** Waits for all of `steps` (none left running), then throws the first failure, else answers their values. */
async function allBefore<T extends readonly unknown[]>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(steps);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}

export class TransitionEngine {
  readonly errors: string[] = [];
  /** Alerts this engine published, including earlier ones it finished. */
  published = 0;
  private readonly leaseMs: number;
  /** Outbox clears still under way (overlapClears), each settled: `cleared()` reports their failures. */
  private readonly clears: Array<Promise<Error | undefined>> = [];

  constructor(
    private readonly deps: EngineDeps,
    private readonly options: EngineOptions = {},
  ) {
    this.leaseMs = deps.leaseMs ?? 30_000;
  }

  /**
   * Waits for every outbox clear started so far (overlapClears) and throws the first
   * failure: an entry left pending would be published again when its lease runs out.
   */
  async cleared(): Promise<void> {
    const failures = (await Promise.all(this.clears.splice(0))).filter((e): e is Error => e !== undefined);
    if (failures.length > 0) throw failures[0];
  }

  /** The counters every source reports, from the outcomes of its `apply` calls. */
  tally(outcomes: readonly Outcome[]): { transitions: number; alertsPublished: number; unsettled: number; errors: string[] } {
    return {
      transitions: outcomes.filter((o) => o !== 'none').length,
      alertsPublished: this.published,
      unsettled: outcomes.filter((o) => o === 'unsettled').length,
      errors: this.errors,
    };
  }

  /**
   * Applies `decide` to the subject's current record. `prefetched` saves a read when
   * the caller batch-read the record (or knows there is none: pass null).
   */
  async apply<S>(
    cluster: string,
    subject: string,
    decide: (previous: SubjectRecord<S> | undefined) => Decision<S>,
    prefetched?: SubjectRecord<S> | null,
  ): Promise<Outcome> {
    const { subjects: store } = this.deps;
    let record = prefetched === undefined ? await store.get<S>(cluster, subject) : (prefetched ?? undefined);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      if (record?.pending) {
        const settled = await this.settle(cluster, subject, record);
        if (settled === 'unsettled') return 'unsettled';
        record = settled;
      }
      const decided = decide(record);
      if (decided.kind === 'ignore') return 'none';
      const decision = await this.mute(cluster, subject, record, decided);
      const model = this.readModelChange(cluster, subject, record, decision);
      const history = this.placeHistory(record, decision, model?.change.history ?? []);
      const next: SubjectWrite<S> = { state: history ? history.state : decision.state };
      if (decision.ttlSeconds !== undefined) next.ttlSeconds = decision.ttlSeconds;
      // Nothing to carry out (a notice held in its episode, e.g. folded into its node's incident): kept for the read model only.
      const inert = decision.outbox !== undefined && isInert(decision.outbox);
      const firing = this.deps.publisher.firingSources;
      // What must stand before the write goes out at once, so that the adapters' batched
      // writes (the storm's fold, the index entry) can share one call, and all of it has
      // landed before the compare-and-set; none of it depends on another:
      // - a storm's fold carried out already (repeatable): the write then needs no outbox entry;
      // - a firing inhibition source is recorded before its episode is written and forgotten
      //   after it ended, so a crash in between leaves an entry too many (confirmed against
      //   the episode when read), never one too few;
      // - same discipline for the index of firing alerts: put before, removed after (readers confirm);
      // - history entries the record carried and the new one no longer holds: they happened, so
      //   they are written before the record that drops them (a repeat rewrites the same item).
      // A failure of any of them fails the apply before the write, as when they ran one by one.
      const [ahead] = await allBefore([
        decision.outbox !== undefined && !inert ? this.settleAhead(decision.outbox, subject) : Promise.resolve(false),
        firing && decision.firing?.kind === 'source' ? firing.add(cluster, decision.firing.source) : undefined,
        model?.change.index?.kind === 'put' ? model.store.putFiring(cluster, model.change.index.alert) : undefined,
        history && history.placement.spillBefore.length > 0 ? history.store.spillHistory(cluster, subject, history.placement.spillBefore) : undefined,
      ] as const);
      if (decision.outbox && !ahead && !inert) next.pending = { entry: decision.outbox, leaseUntil: this.deps.clock.nowMs() + this.leaseMs };
      if (await store.put(cluster, subject, record?.rev, next)) {
        if (firing && decision.firing?.kind === 'ended') await firing.remove(cluster, subject);
        const recorded = model || history?.placement.spillAfter ? this.recordAfterWrite(cluster, subject, model?.change.index, history) : undefined;
        let outcome: Outcome;
        if (ahead) {
          this.published++;
          outcome = 'published';
        } else {
          outcome = next.pending ? await this.publish(cluster, subject, next.pending, this.options.overlapClears === true) : 'written';
        }
        await recorded;
        return outcome;
      }
      record = await store.get<S>(cluster, subject); // lost a race: look at what the winner wrote
    }
    this.errors.push(`${subject}: too much contention`);
    return 'unsettled';
  }

  /**
   * A firing episode's notification (not a reminder) that an active silence matches is
   * muted here, before the write, so that the stored episode says which routes did not
   * hear it (episodes.ts muteEntry) and the silence's ledger names the subject for the
   * sweeper (application-sweeper.ts silenceEndsTask). The ledger is written first: a lost
   * race leaves an extra entry, which the sweeper finds with nothing to announce.
   */
  private async mute<S>(cluster: string, subject: string, record: SubjectRecord<S> | undefined, decision: Extract<Decision<S>, { kind: 'write' }>): Promise<Extract<Decision<S>, { kind: 'write' }>> {
    const silencer = this.deps.publisher.silencer;
    const entry = decision.outbox;
    const episode = (decision.state as Episodic | undefined)?.episode;
    if (!silencer || !entry?.routing || !episode || entry.alert.state !== 'firing' || entry.alert.reminder !== undefined || entry.routing.deliveries.length === 0) return decision;
    const silence = await silencer.active(entry.facts ?? alertFacts(entry.alert), this.deps.clock.nowMs(), subject, entry.alert.episode);
    if (!silence) return decision;
    await silencer.recordMute(cluster, silence.id, subject);
    const previous = (record?.state as Episodic | undefined)?.episode;
    const muted = muteEntry(previous, episode, entry, silence);
    return { ...decision, state: { ...decision.state, episode: muted.episode }, outbox: muted.entry };
  }

  /** What this write changes in the operator's read model (absent: no read model kept). */
  private readModelChange<S>(cluster: string, subject: string, record: SubjectRecord<S> | undefined, decision: Extract<Decision<S>, { kind: 'write' }>): { store: AlertReadModel; change: ReadModelChange } | undefined {
    const store = this.deps.publisher.readModel;
    if (!store) return undefined;
    const previous = (record?.state as Episodic | undefined)?.episode;
    const next = (decision.state as Episodic | undefined)?.episode;
    const change = readModelChange(cluster, subject, previous, next, decision.outbox, this.deps.clock.nowMs());
    return change.index || change.history.length > 0 ? { store, change } : undefined;
  }

  /**
   * Where this write's history entry goes (domain/rules/read-model.ts placeHistory): carried
   * by the record (the state's CARRIED_HISTORY_FIELD, written by the compare-and-set itself)
   * or, for a record that expires before the retention, an `h#` item after the write. The
   * previous record's carried entries go on with the new state whatever the source decided.
   */
  private placeHistory<S>(record: SubjectRecord<S> | undefined, decision: Extract<Decision<S>, { kind: 'write' }>, events: HistoryEvent[]): { state: S; placement: HistoryPlacement; store: AlertReadModel } | undefined {
    const store = this.deps.publisher.readModel;
    if (!store || typeof decision.state !== 'object' || decision.state === null) return undefined;
    const nowMs = this.deps.clock.nowMs();
    const previous = carriedHistory(record?.state);
    const placement = placeHistory(previous, events.length > 0 ? { at: nowMs, events } : undefined, {
      nowMs,
      retentionMs: store.retentionMs,
      ...(decision.ttlSeconds !== undefined ? { recordTtlMs: decision.ttlSeconds * 1000 } : {}),
    });
    const { [CARRIED_HISTORY_FIELD]: _before, ...rest } = decision.state as Record<string, unknown>;
    const state = (placement.carried.length > 0 ? { ...rest, [CARRIED_HISTORY_FIELD]: placement.carried } : rest) as S;
    return { state, placement, store };
  }

  /**
   * The read model's part after the write: the index entry's removal, and the history entry
   * when the record cannot carry it. The transition stands whatever happens here: a failure is
   * reported in `errors` (the sources log them), a stale index entry is removed by the reader
   * that finds it.
   */
  private async recordAfterWrite(cluster: string, subject: string, index: IndexChange | undefined, history: { placement: HistoryPlacement; store: AlertReadModel } | undefined): Promise<void> {
    const store = this.deps.publisher.readModel;
    if (!store) return;
    const after = history?.placement.spillAfter;
    const steps = [
      index?.kind === 'remove' ? store.removeFiring(cluster, alertRef(subject)) : undefined,
      after ? store.appendHistory(cluster, { at: after.at, subject, events: after.events }) : undefined,
    ];
    const failed = (await Promise.allSettled(steps)).filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const f of failed) this.errors.push(`read model ${subject}: ${(f.reason as Error).message}`);
  }

  /** The publisher's settleAhead; a failure there only means the outbox's way (dispatch retries it). */
  private async settleAhead(entry: OutboxEntry, subject: string): Promise<boolean> {
    try {
      return (await this.deps.publisher.settleAhead?.(entry, subject)) === true;
    } catch {
      return false;
    }
  }

  /**
   * Publishes the pending entry this engine holds the lease of, then clears it from the
   * outbox: before answering, or (`background`) while the caller goes on, until `cleared()`.
   */
  private async publish(cluster: string, subject: string, held: PendingEntry, background = false): Promise<'published' | 'unsettled'> {
    const { alert } = held.entry;
    try {
      await this.deps.publisher.dispatch(held.entry, subject);
    } catch (err) {
      this.errors.push(`publish ${alert.id}: ${(err as Error).message}`);
      await this.releaseLease(cluster, subject, held);
      return 'unsettled';
    }
    this.published++;
    const clearing = this.clearPending(cluster, subject, alert.id);
    if (!background) {
      await clearing;
      return 'published';
    }
    this.clears.push(clearing.then(() => undefined, (err: Error) => err));
    return 'published';
  }

  private async clearPending(cluster: string, subject: string, alertId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deps.subjects.clearPending(cluster, subject, alertId);
        return;
      } catch (err) {
        if (attempt >= CLEAR_ATTEMPTS) throw err;
        await sleep(50 * 2 ** attempt);
      }
    }
  }

  /**
   * Hands the lease back after a failed publish so that the sender's retry can take over
   * at once rather than after the lease: a claim whose "now" is our own lease end succeeds
   * only while nobody else has claimed the alert since, and sets the lease to now.
   */
  private async releaseLease(cluster: string, subject: string, held: PendingEntry): Promise<void> {
    try {
      await this.deps.subjects.claimPending(cluster, subject, held.entry.alert.id, held.leaseUntil, this.deps.clock.nowMs());
    } catch {
      // The lease then simply runs out.
    }
  }

  /** Publishes an earlier pending alert, or waits briefly for the writer holding it. */
  private async settle<S>(cluster: string, subject: string, record: SubjectRecord<S>): Promise<SubjectRecord<S> | 'unsettled'> {
    let current: SubjectRecord<S> | undefined = record;
    for (let wait = 0; current?.pending; wait++) {
      const { entry, leaseUntil } = current.pending;
      const now = this.deps.clock.nowMs();
      const lease = now + this.leaseMs;
      if (leaseUntil <= now && (await this.deps.subjects.claimPending(cluster, subject, entry.alert.id, now, lease))) {
        if ((await this.publish(cluster, subject, { entry, leaseUntil: lease })) === 'unsettled') return 'unsettled';
        const { pending: _published, ...rest } = current;
        return rest;
      }
      if (wait >= MAX_SETTLE_WAITS) return 'unsettled';
      await sleep(100 * 2 ** wait); // the holder is normally done within one SNS call
      current = await this.deps.subjects.get<S>(cluster, subject);
    }
    return current ?? 'unsettled';
  }
}
