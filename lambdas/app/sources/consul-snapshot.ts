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
 */
import type { Verdict } from '../../domain/consul/decision';
import type { Alert } from '../../domain/types';
import type { SubjectRecord } from '../ports';
import { mapLimit } from '../concurrency';
import { TransitionEngine, type Outcome } from '../transition-engine';
import { routeDecision, type AlertRouting } from './routing';
import type { SourceContext, SourceResult } from './types';

export interface ItemContext {
  cluster: string;
  at: string;
  /** First snapshot of the scope. */
  baseline: boolean;
  /** The scope already knew this subject. */
  known: boolean;
  watermark: number;
  snapshotIndex?: number;
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
  /**
   * Which known subjects count as gone: those missing from the snapshot; none; or
   * 'single': the scope's one known subject (a `key` watch reporting null). With
   * several known subjects 'single' cannot tell which one is meant: nothing goes
   * and the result says `ambiguous`.
   */
  vanish: 'missing' | 'none' | 'single';
  /** Write a record per item on the baseline (needed to describe later changes). */
  recordBaseline: boolean;
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
  const nothing = { examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [] as string[], baseline };
  if (!baseline && snap.snapshotIndex !== undefined && snap.snapshotIndex <= scope.watermark) return { ...nothing, stale: true };

  const present = new Map<string, I>();
  for (const item of snap.items) present.set(snap.subjectOf(item), item);
  const indexOf = snap.indexOf;
  const candidates = [...present].filter(([, item]) => baseline || !indexOf || indexOf(item) > scope.watermark);
  const missing = snap.vanish === 'none' ? [] : [...scope.active].filter((s) => !present.has(s));
  const ambiguous = snap.vanish === 'single' && missing.length > 1;
  const vanished = ambiguous ? [] : missing;

  const itemCtx = (subject: string): ItemContext => ({
    cluster,
    at,
    baseline,
    known: scope.active.has(subject),
    watermark: scope.watermark,
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
          const verdict = decide(record?.state);
          members.set(subject, verdict.member);
          return routeDecision(ctx, subject, record?.state, verdict.decision, (alert) => snap.routing(alert, record?.state, item));
        },
        prefetched(subject),
      );
    jobs = [
      ...candidates.map(([subject, item]) => run(subject, item, (prev) => snap.present(prev, item, itemCtx(subject)))),
      ...vanished.map((subject) => run(subject, undefined, (prev) => snap.gone(prev, subject, itemCtx(subject)))),
    ];
  }
  const outcomes = await mapLimit(jobs, 16, (job) => job());
  const tally = engine.tally(outcomes);
  const { unsettled } = tally;
  const result: KeyedSnapshotResult = {
    examined: jobs.length,
    ...tally,
    stale: false,
    baseline,
    ...(ambiguous ? { ambiguous } : {}),
  };

  // Only a fully settled snapshot moves the scope on: otherwise the next delivery
  // must look at these subjects again to finish their alerts.
  if (unsettled === 0) {
    const highest = indexOf ? snap.items.reduce((m, item) => Math.max(m, indexOf(item)), 0) : 0;
    const watermark = Math.max(scope.watermark, snap.snapshotIndex ?? 0, highest, 1);
    const addActive = candidates.map(([s]) => s).filter((s) => members.get(s) !== false && !scope.active.has(s));
    const removeActive = [...candidates.map(([s]) => s), ...vanished].filter((s) => members.get(s) === false && scope.active.has(s));
    if (watermark > scope.watermark || addActive.length > 0 || removeActive.length > 0) {
      await ctx.scopes.updateScope(cluster, snap.scope, { watermark, addActive, removeActive });
    }
  }
  return result;
}
