/**
 * Process one Consul snapshot watch (key, keyprefix, services, nodes, service):
 * compare the snapshot with the scope record and the stored subjects, and run every
 * change through the transition engine.
 *
 * The scope record (`consul-<type>/<scope>`) holds
 * - `watermark`: the highest index fully processed (CONSUL_INDEX and item
 *   ModifyIndexes). A snapshot whose watch index is at or below it is stale or a
 *   repeat and is skipped without reading a subject; with per-item indexes only
 *   items above it are examined. 0 means "no snapshot yet": the next one is the
 *   baseline, and the watermark is then at least 1.
 * - `active`: every subject the scope currently knows, so that subjects missing
 *   from a snapshot (deleted, deregistered) are found without reading the others.
 * - `last` and `epoch`: who moved the watermark last and when, and when the scope's
 *   index space began. A snapshot BELOW the watermark is judged on them
 *   (domain/consul/index-order.ts): an older delivery is skipped as before; a reset
 *   (the index space restarted, or a KV list lost its newest key) re-baselines the
 *   scope: every item and every known subject is compared with its stored state by
 *   content, what really changed alerts, and the watermark moves down to the snapshot's.
 *   Subject records carry the epoch they were written in; a record from an earlier
 *   epoch has its indexes forgotten (compared by content) the next time it is decided on.
 */
import type { Verdict } from '../../domain/consul/decision';
import { deliveryFacts, indexReport, judgeDelivery, nextEpoch, type DeliveryFacts, type OrderVerdict } from '../../domain/consul/index-order';
import { CONSUL_HTTP } from '../../domain/protocol';
import type { Alert, Envelope } from '../../domain/types';
import type { ScopeRecord, ScopeStore, SubjectRecord } from '../ports';
import { mapLimitUntil } from '../concurrency';
import { TransitionEngine, type Outcome } from '../transition-engine';
import { routeDecision, type AlertRouting, type SourceDecision } from './routing';
import type { SourceContext, SourceResult } from './types';

export interface ItemContext {
  cluster: string;
  at: string;
  /** First snapshot of the scope. */
  baseline: boolean;
  /**
   * The scope is being re-baselined after its index went backwards: stored states are
   * compared by content (their indexes belong to the old space), and a known subject
   * without a record is taken as unchanged.
   */
  reset: boolean;
  /** The scope already knew this subject. */
  known: boolean;
  watermark: number;
  snapshotIndex?: number;
}

/** Who sent the envelope and when, for judging a snapshot whose index is behind its scope. */
export interface Delivery {
  facts: DeliveryFacts;
  /** The node name is not one agent's (Consul's http handler without X-Tocsin-Node). */
  sharedNode: boolean;
}

export function deliveryOf(envelope: Envelope, nowMs: number): Delivery {
  return { facts: deliveryFacts(envelope.node, envelope.sentAt, nowMs), sharedNode: envelope.node === CONSUL_HTTP.defaultNode };
}

/** The epoch a subject record's indexes belong to (0: written before any reset of its scope). */
export function recordEpoch(state: unknown): number {
  const epoch = (state as { epoch?: unknown } | undefined)?.epoch;
  return typeof epoch === 'number' ? epoch : 0;
}

/** `state` marked as written in `epoch` (no mark for 0, so scopes never reset store what they always did). */
export function stampEpoch<S>(state: S, epoch: number): S {
  const { epoch: _old, ...rest } = state as S & { epoch?: number };
  return (epoch > 0 ? { ...rest, epoch } : rest) as S;
}

/** How a stored state is compared in `epoch`: as is, or with its indexes forgotten when it is from an earlier epoch. */
export function inEpoch<S>(state: S | undefined, epoch: number, unordered: (s: S) => S): S | undefined {
  return state !== undefined && recordEpoch(state) < epoch ? unordered(state) : state;
}

/** A source decision whose state is stamped with the epoch it is written in. */
export function stamped<S>(decision: SourceDecision<S>, epoch: number): SourceDecision<S> {
  return decision.kind === 'write' ? { ...decision, state: stampEpoch(decision.state, epoch) } : decision;
}

/** The scope's order (watermark, epoch, last) and the verdict on a snapshot at `index` from `delivery`. */
export function judge(scope: ScopeRecord, index: number | undefined, delivery: Delivery | undefined): OrderVerdict {
  return judgeDelivery(scope, index, delivery?.facts, delivery?.sharedNode ?? false);
}

/**
 * Writes what a settled snapshot did to its scope: a forward update (the delivery becomes
 * `last` when it moves the watermark), or after a reset the new watermark, epoch and active set.
 */
export async function saveScope(
  scopes: ScopeStore,
  cluster: string,
  name: string,
  scope: ScopeRecord,
  next: { watermark: number; addActive: string[]; removeActive: string[]; reset?: { epoch: number }; delivery?: Delivery },
): Promise<void> {
  const epoch = scope.epoch ?? 0;
  if (next.reset && next.delivery) {
    const active = new Set(scope.active);
    next.addActive.forEach((s) => active.add(s));
    next.removeActive.forEach((s) => active.delete(s));
    await scopes.resetScope(cluster, name, {
      from: { watermark: scope.watermark, epoch },
      watermark: next.watermark,
      epoch: next.reset.epoch,
      active: [...active],
      last: next.delivery.facts,
    });
    return;
  }
  const forward = next.watermark > scope.watermark;
  if (!forward && next.addActive.length === 0 && next.removeActive.length === 0) return;
  await scopes.updateScope(cluster, name, {
    watermark: next.watermark,
    addActive: next.addActive,
    removeActive: next.removeActive,
    ...(forward && next.delivery ? { last: next.delivery.facts } : {}),
    ...(epoch > 0 ? { epoch } : {}),
  });
}

export interface KeyedSnapshot<I, S> {
  cluster: string;
  /** Full scope name, e.g. `consul-keyprefix/app-config`. */
  scope: string;
  items: readonly I[];
  subjectOf(item: I): string;
  /** Per-item ModifyIndex: only items above the watermark are examined. Absent: all are. */
  indexOf?(item: I): number;
  /** CONSUL_INDEX as a Raft index, when known. */
  snapshotIndex?: number;
  /** Who sent it and when: how a snapshot below the watermark is judged. Absent: never judged a reset. */
  delivery?: Delivery;
  /**
   * Which known subjects count as gone: those missing from the snapshot; none; or
   * 'single': the scope's one known subject (a `key` watch reporting null). With
   * several known subjects 'single' cannot tell which one is meant: nothing goes
   * and the result says `ambiguous`.
   */
  vanish: 'missing' | 'none' | 'single';
  /** Write a record per item on the baseline (needed to describe later changes). */
  recordBaseline: boolean;
  /** A stored state with its index ordering forgotten (indexes 0): how a record of an earlier epoch is compared. */
  unordered(state: S): S;
  present(previous: S | undefined, item: I, ctx: ItemContext): Verdict<S>;
  gone(previous: S | undefined, subject: string, ctx: ItemContext): Verdict<S>;
  /** How the rules see an alert (routing.ts): its role in the episode, its facts. `item` is absent when the subject is gone. */
  routing(alert: Alert, previous: S | undefined, item: I | undefined): AlertRouting;
}

export type KeyedSnapshotResult = Omit<SourceResult, 'accepted' | 'rejected'> & { stale: boolean; baseline: boolean; ambiguous?: boolean };

export async function processKeyedSnapshot<I, S>(ctx: SourceContext, snap: KeyedSnapshot<I, S>): Promise<KeyedSnapshotResult> {
  const { cluster } = snap;
  const at = new Date(ctx.clock.nowMs()).toISOString();
  const scope = await ctx.scopes.getScope(cluster, snap.scope);
  const baseline = scope.watermark === 0 && scope.active.size === 0;
  const verdict = baseline ? ({ kind: 'forward' } as const) : judge(scope, snap.snapshotIndex, snap.delivery);
  const index = indexReport(verdict, snap.snapshotIndex, scope.watermark);
  const nothing = { examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [] as string[], baseline, ...(index ? { index } : {}) };
  if (verdict.kind === 'late' || verdict.kind === 'before-reset') return { ...nothing, stale: true };
  if (!baseline && snap.snapshotIndex !== undefined && snap.snapshotIndex <= scope.watermark && verdict.kind !== 'reset') return { ...nothing, stale: true };
  const reset = verdict.kind === 'reset';
  const epoch = reset && snap.delivery ? nextEpoch(scope, snap.delivery.facts) : (scope.epoch ?? 0);

  const present = new Map<string, I>();
  for (const item of snap.items) present.set(snap.subjectOf(item), item);
  const indexOf = snap.indexOf;
  // A reset compares every item: the watermark belongs to the old index space.
  const candidates = [...present].filter(([, item]) => baseline || reset || !indexOf || indexOf(item) > scope.watermark);
  const missing = snap.vanish === 'none' ? [] : [...scope.active].filter((s) => !present.has(s));
  const ambiguous = snap.vanish === 'single' && missing.length > 1;
  const vanished = ambiguous ? [] : missing;

  const itemCtx = (subject: string): ItemContext => ({
    cluster,
    at,
    baseline,
    reset,
    known: scope.active.has(subject),
    watermark: reset ? 0 : scope.watermark,
    ...(snap.snapshotIndex !== undefined ? { snapshotIndex: snap.snapshotIndex } : {}),
  });
  /** Membership decided per subject (by the last decide call the engine made). */
  const members = new Map<string, boolean | undefined>();
  const engine = new TransitionEngine(ctx);

  let jobs: Array<() => Promise<Outcome>> = [];
  if (!baseline || snap.recordBaseline) {
    const records = await ctx.subjects.getMany<S>(cluster, [...candidates.map(([s]) => s), ...vanished]);
    const prefetched = (subject: string): SubjectRecord<S> | null => records.get(subject) ?? null;
    const run = (subject: string, item: I | undefined, decide: (previous: S | undefined) => Verdict<S>) => () =>
      engine.apply<S>(
        cluster,
        subject,
        (record) => {
          const verdict = decide(inEpoch(record?.state, epoch, snap.unordered));
          members.set(subject, verdict.member);
          return routeDecision(ctx, subject, record?.state, stamped(verdict.decision, epoch), (alert) => snap.routing(alert, record?.state, item));
        },
        prefetched(subject),
      );
    jobs = [
      ...candidates.map(([subject, item]) => run(subject, item, (prev) => snap.present(prev, item, itemCtx(subject)))),
      ...vanished.map((subject) => run(subject, undefined, (prev) => snap.gone(prev, subject, itemCtx(subject)))),
    ];
  }
  // Past the request's time budget no subject is started: the scope stays where it was and
  // the answer is 503 (`deferred`), so the sender's resend goes on; subjects done are no-ops then.
  const { deadlineMs } = ctx;
  const { results: outcomes, started } = await mapLimitUntil(jobs, 16, (job) => job(), deadlineMs !== undefined ? () => ctx.clock.nowMs() >= deadlineMs : () => false);
  const tally = engine.tally(outcomes);
  const { unsettled } = tally;
  const result: KeyedSnapshotResult = {
    examined: started,
    ...tally,
    stale: false,
    baseline,
    ...(ambiguous ? { ambiguous } : {}),
    ...(index ? { index } : {}),
    ...(started < jobs.length ? { deferred: jobs.length - started } : {}),
  };

  // Only a fully settled snapshot moves the scope on: otherwise the next delivery
  // must look at these subjects again to finish their alerts.
  if (unsettled === 0 && started === jobs.length) {
    const highest = indexOf ? snap.items.reduce((m, item) => Math.max(m, indexOf(item)), 0) : 0;
    const watermark = Math.max(reset ? 0 : scope.watermark, snap.snapshotIndex ?? 0, highest, 1);
    const addActive = candidates.map(([s]) => s).filter((s) => members.get(s) !== false && !scope.active.has(s));
    const removeActive = [...candidates.map(([s]) => s), ...vanished].filter((s) => members.get(s) === false && scope.active.has(s));
    await saveScope(ctx.scopes, cluster, snap.scope, scope, {
      watermark,
      addActive,
      removeActive,
      ...(reset ? { reset: { epoch } } : {}),
      ...(snap.delivery ? { delivery: snap.delivery } : {}),
    });
  }
  return result;
}
