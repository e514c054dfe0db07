/**
 * Process one `checks` watch snapshot: find what changed since the scope's
 * watermark and run each change through the transition engine. A snapshot whose index
 * went below the watermark is judged like every snapshot watch's (consul-snapshot.ts,
 * domain/consul/index-order.ts): an older delivery changes nothing, a reset re-baselines
 * the scope against the stored checks.
 */
import { checkSubject } from '../../domain/consul/checks';
import {
  decideCheck,
  decideCheckRelease,
  decideCheckRemoval,
  evaluateCheckPolicy,
  nextCheckState,
  type CheckAlertPolicy,
  type CheckDecision,
  type CheckRecordState,
} from '../../domain/consul/check-transitions';
import { checkAlert } from '../../domain/consul/check-alerts';
import { firstRunGraceSeconds } from '../../domain/consul/first-run';
import type { Episodic } from '../../domain/rules/episodes';
import type { RuleSet } from '../../domain/rules/evaluate';
import { MaintenanceSet, maintenanceTargetOfCheckSubject, type MaintenanceTarget } from '../../domain/consul/maintenance';
import type { CheckObservation } from '../../domain/types';
import type { OutboxPublisher, ScopeStore, SubjectRecord, SubjectStore } from '../ports';
import type { Clock } from '../runtime';
import { TransitionEngine, type Decision, type Outcome } from '../transition-engine';
import { mapLimit } from '../concurrency';
import { indexReport, nextEpoch } from '../../domain/consul/index-order';
import { routeDecision } from './routing';
import { inEpoch, judge, saveScope, stampEpoch, type Delivery } from './consul-snapshot';
import type { SourceResult } from './types';

/** Items of checks that went away are kept this long, then DynamoDB's TTL removes them. */
const REMOVED_RETENTION_SECONDS = 30 * 24 * 3600;

export interface SnapshotDeps {
  subjects: SubjectStore;
  scopes: ScopeStore;
  publisher: OutboxPublisher;
  policy: CheckAlertPolicy;
  /** Alert rules (tocsin.yaml): routing, `for`, `repeat`, resolved notices. Absent: alerts go out unrouted. */
  rules?: RuleSet;
  clock: Clock;
  leaseMs?: number;
  /** Parallel store calls per snapshot. */
  concurrency?: number;
}

export interface SnapshotInput {
  cluster: string;
  scope: string;
  observations: CheckObservation[];
  /** CONSUL_INDEX of the snapshot, when it is a number. */
  snapshotIndex?: number;
  /**
   * A delta (Envelope.delta): `observations` are only the checks that changed since the
   * sender's base snapshot, whose highest ModifyIndex was `base`; `removed` lists the
   * subjects gone since then. Absent: `observations` is the whole watch result.
   */
  delta?: { base: number; removed: string[] };
  /** Who sent it and when: how a snapshot whose index is below the watermark is judged. Absent: never judged a reset. */
  delivery?: Delivery;
}

/** What a snapshot did: a source's result without the parsing part (accepted, rejected). */
export type SnapshotResult = Omit<SourceResult, 'accepted' | 'rejected'>;

type CheckRecord = SubjectRecord<CheckRecordState>;

/** A stored check from before its scope's reset: its indexes belong to the old space, so any observation is newer. */
const unorderedCheck = (state: CheckRecordState): CheckRecordState => ({ ...state, modifyIndex: 0 });

/**
 * A check's decision for the engine: its next state (stamped with the scope's epoch), and
 * its alert routed like every source's (routing.ts).
 */
function toDecision(
  previous: CheckRecordState | undefined,
  decision: CheckDecision,
  deps: Pick<SnapshotDeps, 'policy' | 'rules' | 'clock'>,
  epoch: number,
): Decision<CheckRecordState> {
  if (decision.kind === 'ignore') return { kind: 'ignore' };
  const t = decision.transition;
  const evaluated = evaluateCheckPolicy(deps.policy, t); // maintenance mode around the policy
  const { suppressed } = evaluated;
  let { intent } = evaluated;
  // A check held while awaiting its first run reported, still failing: its alert goes out now,
  // unless somebody heard of it already (the hold ran out, or no rules held it: unrouted).
  if (t.firstRunReported && intent?.state === 'firing' && heldAlertHeard(previous, deps)) intent = undefined;
  // A check awaiting its first run: its alert is held (consul/first-run.ts).
  const holdSeconds = t.awaitingFirstRun && intent?.state === 'firing' ? firstRunGraceSeconds(t.observation, deps.rules?.config.checks?.firstRunGraceSeconds) : 0;
  const { output: _output, ...facts } = t.observation; // output travels in the alert; keep items small
  const write: Decision<CheckRecordState> = {
    kind: 'write',
    state: stampEpoch({ ...nextCheckState(t, intent, suppressed), facts }, epoch),
    ...(intent ? { alert: checkAlert(t, intent, holdSeconds || undefined) } : {}),
    ...(t.to === 'removed' ? { ttlSeconds: REMOVED_RETENTION_SECONDS } : {}),
  };
  return routeDecision(deps, checkSubject(t.observation), previous, write, () => ({
    role: 'episode',
    facts: { checkName: t.observation.name, tags: t.observation.serviceTags },
    ...(holdSeconds > 0 ? { holdSeconds } : {}),
  }));
}

/** Whether a channel was told of the subject's current episode (without rules, every alert went out at once). */
function heldAlertHeard(previous: CheckRecordState | undefined, deps: Pick<SnapshotDeps, 'rules'>): boolean {
  if (!deps.rules) return true;
  const routes = (previous as (CheckRecordState & Episodic) | undefined)?.episode?.routes ?? {};
  return Object.values(routes).some((r) => r.notifiedAt !== undefined);
}

export async function processCheckSnapshot(deps: SnapshotDeps, input: SnapshotInput): Promise<SnapshotResult> {
  const { cluster } = input;
  const scope = `consul-checks/${input.scope}`;
  const at = new Date(deps.clock.nowMs()).toISOString();
  const engine = new TransitionEngine(deps, { overlapClears: true });

  const { delta, snapshotIndex } = input;
  const present = new Map<string, CheckObservation>();
  for (const obs of input.observations) present.set(checkSubject(obs), obs);
  // A delta holds only changed checks: read their records while the scope is read, rather
  // than after it (one round trip less per delta; wasted only when the delta is refused).
  const early = delta ? deps.subjects.getMany<CheckRecordState>(cluster, [...present.keys()]) : undefined;
  early?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const scopeRecord = await deps.scopes.getScope(cluster, scope);
  const verdict = scopeRecord.watermark === 0 ? ({ kind: 'forward' } as const) : judge(scopeRecord, snapshotIndex, input.delivery);
  const index = indexReport(verdict, snapshotIndex, scopeRecord.watermark);
  const nothing: SnapshotResult = { examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [], ...(index ? { index } : {}) };
  // Sent before the scope was reset (by its handler's time): a state of the old index space.
  if (verdict.kind === 'before-reset') return nothing;
  const reset = verdict.kind === 'reset' && input.delivery !== undefined;
  // A delta is "everything since base": applying it on top of a watermark >= base leaves
  // nothing out (changes at or below the watermark were processed already, and each
  // check's own ModifyIndex makes re-applying one harmless). Anything else is a gap; and a
  // reset needs the whole list to compare with.
  if (delta && (reset || scopeRecord.watermark === 0 || delta.base > scopeRecord.watermark)) {
    return { ...nothing, needFull: true };
  }
  // A reset starts a new epoch: every check is compared with its stored state by content.
  const epoch = reset ? nextEpoch(scopeRecord, input.delivery!.facts) : (scopeRecord.epoch ?? 0);
  const watermark = reset ? 0 : scopeRecord.watermark;
  const stored = (r: CheckRecord | undefined): CheckRecordState | undefined => inEpoch(r?.state, epoch, unorderedCheck);
  const candidates = [...present.values()].filter((o) => o.modifyIndex > watermark);
  // Only checks last seen non-passing can vanish with consequences (passing ones have no state).
  const vanished = delta
    ? [...new Set(delta.removed)].filter((s) => scopeRecord.active.has(s) && !present.has(s))
    : [...scopeRecord.active].filter((s) => !present.has(s));

  const candidateSubjects = new Set(candidates.map(checkSubject));
  const records = early ? await early : new Map<string, CheckRecord>();
  const toRead = [...(early ? [] : candidateSubjects), ...vanished];
  if (toRead.length > 0) {
    for (const [s, r] of await deps.subjects.getMany<CheckRecordState>(cluster, toRead)) records.set(s, r);
  }
  // A removal the stored check is newer than (it came back since) is stale: a late or
  // repeated delivery. It neither removes the check nor ends its maintenance below.
  const removedNow = vanished.filter((s) => snapshotIndex === undefined || snapshotIndex > (stored(records.get(s))?.modifyIndex ?? 0));

  // Maintenance mode: which nodes and instances are in maintenance once this snapshot is
  // applied. A delta carries only what changed, so unchanged maintenance checks count
  // from the scope's active set (they are critical, hence in it).
  const gone = new Set([...removedNow, ...candidates.filter((o) => o.status === 'passing').map(checkSubject)]);
  const maintenance = MaintenanceSet.of(input.observations);
  for (const s of scopeRecord.active) {
    const target = !gone.has(s) && !present.has(s) ? maintenanceTargetOfCheckSubject(s) : undefined;
    if (target) maintenance.add(target, '');
  }
  const covering = (o: CheckObservation): MaintenanceTarget | undefined => maintenance.covering(o.node, o.serviceId || undefined);
  // Maintenance that ended here: the non-passing checks it covered may owe their alert.
  const ended = [...gone].map(maintenanceTargetOfCheckSubject).filter((t): t is MaintenanceTarget => t !== undefined && !maintenance.has(t));
  const released = ended.length
    ? [...scopeRecord.active].filter(
        (s) => !candidateSubjects.has(s) && !gone.has(s) && !maintenanceTargetOfCheckSubject(s) && ended.some((t) => s.startsWith(`check/${t.node}/`)),
      )
    : [];
  if (released.length > 0) {
    for (const [s, r] of await deps.subjects.getMany<CheckRecordState>(cluster, released)) records.set(s, r);
  }
  const prefetched = (subject: string): CheckRecord | null => records.get(subject) ?? null;

  const jobs: Array<() => Promise<Outcome>> = [
    ...candidates.map((obs) => () => {
      const subject = checkSubject(obs);
      return engine.apply<CheckRecordState>(
        cluster,
        subject,
        (prev) => toDecision(prev?.state, decideCheck(cluster, stored(prev), obs, at, watermark, covering(obs)), deps, epoch),
        prefetched(subject),
      );
    }),
    ...removedNow.map((subject) => () =>
      engine.apply<CheckRecordState>(
        cluster,
        subject,
        (prev) =>
          prev
            ? toDecision(prev.state, decideCheckRemoval(cluster, stored(prev), { ...prev.state.facts, output: '' }, input.snapshotIndex, at), deps, epoch)
            : { kind: 'ignore' },
        prefetched(subject),
      ),
    ),
    ...released.map((subject) => () =>
      engine.apply<CheckRecordState>(
        cluster,
        subject,
        (prev) => {
          const previous = stored(prev);
          if (!prev || !previous) return { kind: 'ignore' };
          const obs = present.get(subject) ?? { ...prev.state.facts, output: '' };
          return toDecision(prev.state, decideCheckRelease(cluster, previous, obs, at, covering(obs)), deps, epoch);
        },
        prefetched(subject),
      ),
    ),
  ];
  let outcomes: Outcome[];
  try {
    outcomes = await mapLimit(jobs, deps.concurrency ?? 16, (job) => job());
  } catch (err) {
    await engine.cleared().catch(() => undefined); // no clear left running after the answer
    throw err;
  }
  const result: SnapshotResult = { examined: jobs.length, ...engine.tally(outcomes), ...(index ? { index } : {}) };

  // Only a fully settled snapshot may move the watermark: otherwise the next
  // delivery must look at these checks again to finish their alerts. Its alerts are
  // published by now; their outbox entries are cleared while the watermark is written
  // (one round trip less per delta; a crash between the two: ARCHITECTURE.md "Failures").
  if (result.unsettled > 0) {
    await engine.cleared();
  } else {
    const maxIndex = input.observations.reduce((m, o) => Math.max(m, o.modifyIndex), watermark);
    const addActive = candidates.filter((o) => o.status !== 'passing').map(checkSubject).filter((s) => !scopeRecord.active.has(s));
    const removeActive = [
      ...candidates.filter((o) => o.status === 'passing').map(checkSubject).filter((s) => scopeRecord.active.has(s)),
      ...removedNow,
    ];
    const [clears, saved] = await Promise.allSettled([
      engine.cleared(),
      saveScope(deps.scopes, cluster, scope, scopeRecord, {
        watermark: reset ? Math.max(maxIndex, 1) : maxIndex,
        addActive,
        removeActive,
        ...(reset ? { reset: { epoch } } : {}),
        ...(input.delivery ? { delivery: input.delivery } : {}),
      }),
    ]);
    if (clears.status === 'rejected') throw clears.reason;
    if (saved.status === 'rejected') throw saved.reason;
  }
  return result;
}
