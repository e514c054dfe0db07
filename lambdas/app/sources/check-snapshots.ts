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
import { mapLimitUntil } from '../concurrency';
import { randomUUID } from 'node:crypto';
import { PROCESSING_BUDGET } from '../../commons/deployment';
import type { ContinuationTimer } from '../../domain/rules/outbox';
import type { TimerQueue } from '../delivery-ports';
import type { ContinuationStore, Continuing, ScopeRecord } from '../ports';
import type { IndexReport } from '../../domain/consul/index-order';
import { indexReport, nextEpoch } from '../../domain/consul/index-order';
import { routeDecision } from './routing';
import { inEpoch, judge, saveScope, stampEpoch, type Delivery } from './consul-snapshot';
import type { SourceResult } from './types';
import type { NodeCatalog } from '../node-ports';
import { impactFacts, impactLine, type ServiceHealth } from '../../domain/consul/service-impact';
import { nodeSubject, readsNodeUpFront, SERF_HEALTH_CHECK, type NodeReport } from '../../domain/nodes/node-incident';
import type { MatchFacts } from '../../domain/rules/types';
import { carriedBy, foldedIntoIncident, mayOpenNodes, nodeIncidentFacts, recordSaysDown, reportNode } from './node-incidents';

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
  /**
   * Where the rest of a snapshot goes when its time is up (`deadlineMs`): the store keeps
   * the work, the (indexed) timers queue runs it. Absent: the whole snapshot is processed
   * in one go, whatever it takes.
   */
  continuations?: { store: ContinuationStore; timers: TimerQueue };
  /** Epoch ms (deps.clock) after which no new subject is started: see PROCESSING_BUDGET. */
  deadlineMs?: number;
  /** Node incidents and service impact (sources/node-incidents.ts); absent: neither. */
  nodes?: NodeCatalog;
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

/**
 * One subject's share of a snapshot: plain data, so that what a run did not reach can be
 * stored and continued later. `observed`: a check the snapshot lists (changed since the
 * watermark); `removed`: a known non-passing check it no longer lists; `released`: a
 * non-passing check whose maintenance ended here (its observation, when listed).
 */
type CheckWork = { kind: 'observed'; obs: CheckObservation } | { kind: 'removed'; subject: string } | { kind: 'released'; subject: string; obs?: CheckObservation };

/**
 * A snapshot's work and what finishing it writes to the scope: everything a later run needs
 * besides the stored records. The scope update is decided when the snapshot is read (as it
 * always was) and written once, by the run that finishes the last subject.
 */
interface CheckPlan {
  cluster: string;
  /** Full scope name (`consul-checks/<scope>`). */
  scope: string;
  at: string;
  /** Its snapshot's place among the scope's (orderOf): what a snapshot queued behind it must reach. */
  order: number;
  epoch: number;
  /** The watermark observations are compared with (0 after a reset). */
  watermark: number;
  snapshotIndex?: number;
  maintenance: Array<{ target: MaintenanceTarget; reason: string }>;
  work: CheckWork[];
  /** Subjects of the whole snapshot (examined), for the answer and the logs. */
  total: number;
  /** Absent: nothing to write (a queued snapshot that turned out to need nothing). */
  finish?: {
    /** The scope as read (what saveScope compares with); `active` only for a reset, which rewrites the whole set. */
    from: { watermark: number; epoch?: number; active: string[] };
    watermark: number;
    addActive: string[];
    removeActive: string[];
    reset?: { epoch: number };
    delivery?: Delivery;
  };
}

/** A run's share: its jobs' outcomes, and the work it did not start (its deadline came). */
interface RunResult {
  outcomes: Outcome[];
  rest: CheckWork[];
}

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
  context: CheckContext = {},
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
  const alert = intent ? checkAlert(t, intent, holdSeconds || undefined) : undefined;
  if (alert && context.service) alert.details.push(['Service health', impactLine(context.service)]);
  const write: Decision<CheckRecordState> = {
    kind: 'write',
    state: stampEpoch({ ...nextCheckState(t, intent, suppressed), facts }, epoch),
    ...(alert ? { alert } : {}),
    ...(t.to === 'removed' ? { ttlSeconds: REMOVED_RETENTION_SECONDS } : {}),
  };
  const subject = checkSubject(t.observation);
  const routed = routeDecision(deps, subject, previous, write, () => ({
    role: 'episode',
    facts: { checkName: t.observation.name, tags: t.observation.serviceTags, ...impactFacts(context.service), ...context.facts },
    ...(holdSeconds > 0 ? { holdSeconds } : {}),
  }));
  // The node's serfHealth while its node is down: the incident's own news (it ends with the incident).
  return context.facts?.nodeIncident && isSerfHealth(subject) ? foldedIntoIncident(routed, previous, t.observation.node, deps.clock.nowMs()) : routed;
}

/** What a check's alert learns besides its own observation: its node's incident, its service's health. */
interface CheckContext {
  facts?: Partial<MatchFacts>;
  service?: ServiceHealth;
}

/** The node of a check subject (`check/<node>/<checkId>`; Consul node names hold no `/`). */
const nodeOfCheckSubject = (subject: string): string => subject.slice('check/'.length, subject.indexOf('/', 'check/'.length));

/**
 * The records a run decides on, batch-read: its checks' and, under `node/<name>`, the
 * incident records of the nodes its changes need (readsNodeUpFront); `nodesRead` names the
 * nodes asked for, found or not (a node not among them is read only if a decision needs it).
 */
interface RunRecords {
  records: Map<string, CheckRecord>;
  nodesRead: Set<string>;
}

/** Reads `subjects` and the records of `nodes` not read yet in one batched read, into `into` (a new one if absent). */
async function readRecords(deps: Pick<SnapshotDeps, 'subjects'>, cluster: string, subjects: Iterable<string>, nodes: Iterable<string>, into?: RunRecords): Promise<RunRecords> {
  const read = into ?? { records: new Map<string, CheckRecord>(), nodesRead: new Set<string>() };
  const newNodes = [...new Set(nodes)].filter((n) => !read.nodesRead.has(n));
  const keys = [...new Set(subjects), ...newNodes.map(nodeSubject)];
  if (keys.length > 0) {
    for (const [s, r] of await deps.subjects.getMany<CheckRecordState>(cluster, keys)) read.records.set(s, r);
  }
  for (const n of newNodes) read.nodesRead.add(n);
  return read;
}

/** The scope's head with readRecords' read, in one batched read (ScopeStore.getScopeWith). */
async function readWithScope(deps: Pick<SnapshotDeps, 'scopes'>, cluster: string, scope: string, subjects: readonly string[], nodes: readonly string[]): Promise<{ scope: ScopeRecord; read: RunRecords }> {
  const nodesRead = new Set(nodes);
  const both = await deps.scopes.getScopeWith!<CheckRecordState>(cluster, scope, [...subjects, ...[...nodesRead].map(nodeSubject)]);
  return { scope: both.scope, read: { records: both.records, nodesRead } };
}

/** Whether a check subject's change to `to` ('removed': it vanished; absent: released from maintenance) reads its node up front. */
const readsNode = (subject: string, to: string | undefined): boolean => readsNodeUpFront({ serfHealth: isSerfHealth(subject), ...(to !== undefined ? { to } : {}) });

/** Whether a decision sends a firing notice (one that an open node incident holds). */
const firesNotice = (d: Decision<CheckRecordState>): boolean => d.kind === 'write' && d.outbox?.alert.state === 'firing';

/** Whether a check's change is a word on its node's liveness (its serfHealth check). */
const isSerfHealth = (subject: string): boolean => subject.endsWith(`/${SERF_HEALTH_CHECK}`) && subject === `check/${nodeOfCheckSubject(subject)}/${SERF_HEALTH_CHECK}`;

/** Whether a channel was told of the subject's current episode (without rules, every alert went out at once). */
function heldAlertHeard(previous: CheckRecordState | undefined, deps: Pick<SnapshotDeps, 'rules'>): boolean {
  if (!deps.rules) return true;
  const routes = (previous as (CheckRecordState & Episodic) | undefined)?.episode?.routes ?? {};
  return Object.values(routes).some((r) => r.notifiedAt !== undefined);
}

export async function processCheckSnapshot(deps: SnapshotDeps, input: SnapshotInput, attempt = 0): Promise<SnapshotResult> {
  const { cluster } = input;
  const scope = `consul-checks/${input.scope}`;
  // A delta holds only changed checks: read their records with the scope, rather than after
  // it (one round trip less per delta; wasted only when the delta is refused). The incident
  // records of the nodes whose changes need them come in the same batched read
  // (node-incidents.ts), and where the store can, the scope's head too (one call, not two).
  const subjects = input.delta ? input.observations.map(checkSubject) : [];
  const nodes = input.delta ? input.observations.filter((o) => readsNode(checkSubject(o), o.status)).map((o) => o.node) : [];
  const both = input.delta && deps.scopes.getScopeWith ? await readWithScope(deps, cluster, scope, subjects, nodes) : undefined;
  const early = both ? Promise.resolve(both.read) : input.delta ? readRecords(deps, cluster, subjects, nodes) : undefined;
  early?.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const scopeRecord = both?.scope ?? (await deps.scopes.getScope(cluster, scope));
  // A snapshot of this scope is being continued: only its runs touch the scope's checks.
  if (scopeRecord.continuing && deps.continuations && attempt < 2) return queueBehind(deps, input, scope, scopeRecord.continuing, attempt);
  const planned = await planSnapshot(deps, input, scope, scopeRecord, early);
  if (planned.kind === 'answer') return planned.result;
  const { plan, read, index } = planned;
  const engine = new TransitionEngine(deps, { overlapClears: true });
  const run = await runPlan(deps, engine, plan, read);
  const result: SnapshotResult = { examined: plan.total, ...engine.tally(run.outcomes), ...(index ? { index } : {}) };
  // Not all settled: the sender retries the whole snapshot (503), which finishes these
  // alerts and goes on where this run stopped (done checks are at their ModifyIndex).
  if (result.unsettled > 0) {
    await engine.cleared();
    return result;
  }
  if (run.rest.length > 0) {
    const began = await settled(engine, beginContinuation(deps, plan, run.rest));
    if (began) return { ...result, continued: { remaining: run.rest.length } };
    // Another delivery of this scope began a continuation meanwhile: the sender retries, and is then queued behind it.
    return { ...result, unsettled: run.rest.length, errors: [...result.errors, `${scope}: another snapshot of this scope is being continued; retry`] };
  }
  await settled(engine, plan.finish ? finishScope(deps, plan.finish, plan) : Promise.resolve());
  return result;
}

/**
 * What planning a snapshot against its scope gave: an answer at once (older delivery,
 * delta without a base), or the plan with the records read for it.
 */
type Planned = { kind: 'answer'; result: SnapshotResult } | { kind: 'plan'; plan: CheckPlan; read: RunRecords; index?: IndexReport };

/** How snapshots of one scope are ordered for queueing behind a continuation: CONSUL_INDEX, else the highest ModifyIndex. */
function orderOf(input: Pick<SnapshotInput, 'snapshotIndex' | 'observations'>): number {
  return input.snapshotIndex ?? input.observations.reduce((m, o) => Math.max(m, o.modifyIndex), 0);
}

/**
 * Compares a snapshot with its scope (as read) and decides the work: which checks to run
 * through the engine, and what finishing the snapshot writes to the scope.
 */
async function planSnapshot(
  deps: SnapshotDeps,
  input: SnapshotInput,
  scope: string,
  scopeRecord: ScopeRecord,
  early: Promise<RunRecords> | undefined,
): Promise<Planned> {
  const { cluster, delta, snapshotIndex } = input;
  const at = new Date(deps.clock.nowMs()).toISOString();
  const present = new Map<string, CheckObservation>();
  for (const obs of input.observations) present.set(checkSubject(obs), obs);
  const verdict = scopeRecord.watermark === 0 ? ({ kind: 'forward' } as const) : judge(scopeRecord, snapshotIndex, input.delivery);
  const index = indexReport(verdict, snapshotIndex, scopeRecord.watermark);
  const nothing: SnapshotResult = { examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [], ...(index ? { index } : {}) };
  // Sent before the scope was reset (by its handler's time): a state of the old index space.
  if (verdict.kind === 'before-reset') return { kind: 'answer', result: nothing };
  const reset = verdict.kind === 'reset' && input.delivery !== undefined;
  // A delta is "everything since base": applying it on top of a watermark >= base leaves
  // nothing out (changes at or below the watermark were processed already, and each
  // check's own ModifyIndex makes re-applying one harmless). Anything else is a gap; and a
  // reset needs the whole list to compare with.
  if (delta && (reset || scopeRecord.watermark === 0 || delta.base > scopeRecord.watermark)) {
    return { kind: 'answer', result: { ...nothing, needFull: true } };
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
  const read = await readRecords(
    deps,
    cluster,
    [...(early ? [] : candidateSubjects), ...vanished],
    [...(early ? [] : candidates.filter((o) => readsNode(checkSubject(o), o.status)).map((o) => o.node)), ...vanished.filter((s) => readsNode(s, 'removed')).map(nodeOfCheckSubject)],
    early ? await early : undefined,
  );
  const { records } = read;
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
  // Maintenance that ended here: the non-passing checks it covered may owe their alert.
  const ended = [...gone].map(maintenanceTargetOfCheckSubject).filter((t): t is MaintenanceTarget => t !== undefined && !maintenance.has(t));
  const released = ended.length
    ? [...scopeRecord.active].filter(
        (s) => !candidateSubjects.has(s) && !gone.has(s) && !maintenanceTargetOfCheckSubject(s) && ended.some((t) => s.startsWith(`check/${t.node}/`)),
      )
    : [];
  if (released.length > 0) await readRecords(deps, cluster, released, released.filter((s) => readsNode(s, undefined)).map(nodeOfCheckSubject), read);

  const maxIndex = input.observations.reduce((m, o) => Math.max(m, o.modifyIndex), watermark);
  const work: CheckWork[] = [
    ...candidates.map((obs): CheckWork => ({ kind: 'observed', obs })),
    ...removedNow.map((subject): CheckWork => ({ kind: 'removed', subject })),
    ...released.map((subject): CheckWork => {
      const obs = present.get(subject);
      return { kind: 'released', subject, ...(obs ? { obs } : {}) };
    }),
  ];
  const plan: CheckPlan = {
    cluster,
    scope,
    at,
    order: orderOf(input),
    epoch,
    watermark,
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
    maintenance: maintenance.entries(),
    work,
    total: work.length,
    finish: {
      from: { watermark: scopeRecord.watermark, ...(scopeRecord.epoch !== undefined ? { epoch: scopeRecord.epoch } : {}), active: reset ? [...scopeRecord.active] : [] },
      watermark: reset ? Math.max(maxIndex, 1) : maxIndex,
      addActive: candidates.filter((o) => o.status !== 'passing').map(checkSubject).filter((s) => !scopeRecord.active.has(s)),
      removeActive: [...candidates.filter((o) => o.status === 'passing').map(checkSubject).filter((s) => scopeRecord.active.has(s)), ...removedNow],
      ...(reset ? { reset: { epoch } } : {}),
      ...(input.delivery ? { delivery: input.delivery } : {}),
    },
  };
  return { kind: 'plan', plan, read, ...(index ? { index } : {}) };
}

/** A full snapshot queued behind a continuation, as stored. */
interface QueuedSnapshot {
  observations: CheckObservation[];
  snapshotIndex?: number;
  delivery?: Delivery;
}

/**
 * A delivery for a scope whose earlier snapshot is still being continued. Processing it
 * now would race the continuation's runs (an older observation written after a newer one
 * was found unchanged), so: a delta is refused (409: the shim sends the whole list); a
 * full list older than the continued snapshot changes nothing; a newer one is stored and
 * queued (the newest wins), and the continuation's next run switches to it (202).
 */
async function queueBehind(deps: SnapshotDeps, input: SnapshotInput, scope: string, continuing: Continuing, attempt: number): Promise<SnapshotResult> {
  const nothing: SnapshotResult = { examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [] };
  if (input.delta) return { ...nothing, needFull: true };
  const order = orderOf(input);
  // Not newer than the continued snapshot (the same index: the same state, from another agent) or the queued one.
  if (order <= continuing.index || (continuing.nextIndex !== undefined && order < continuing.nextIndex)) return nothing;
  const { store } = deps.continuations!;
  const id = randomUUID();
  const queued: QueuedSnapshot = { observations: input.observations, ...(input.snapshotIndex !== undefined ? { snapshotIndex: input.snapshotIndex } : {}), ...(input.delivery ? { delivery: input.delivery } : {}) };
  await store.save(input.cluster, id, queued, PROCESSING_BUDGET.continuationRetentionSeconds);
  const offered = await store.offer(input.cluster, scope, id, order);
  if (offered.kind !== 'queued') await store.remove(input.cluster, id);
  if (offered.kind === 'none') return processCheckSnapshot(deps, input, attempt + 1); // the continuation ended meanwhile
  if (offered.kind === 'older') return nothing;
  if (offered.replaced) await store.remove(input.cluster, offered.replaced);
  return { ...nothing, continued: { remaining: input.observations.length, queued: true } };
}

/**
 * Goes on with a snapshot whose earlier run ran out of time (the timers queue's
 * `continue` step): takes the scope (a lease: one run at a time), switches to the newest
 * full snapshot queued meanwhile if there is one, runs the rest under its own deadline,
 * then hands the scope to the next part or finishes the snapshot. Unsettled alerts throw
 * (the lease is given back): the step is retried, and done checks are then no-ops.
 */
export async function continueCheckSnapshot(deps: SnapshotDeps, timer: ContinuationTimer): Promise<'continued' | 'continuation-done' | 'continuation-gone' | 'continuation-busy'> {
  if (!deps.continuations) throw new Error('no continuation store');
  const { store } = deps.continuations;
  const { cluster, scope } = timer;
  const runner = randomUUID();
  const nowMs = deps.clock.nowMs();
  const marker = await store.claim(cluster, scope, timer.id, runner, nowMs, nowMs + PROCESSING_BUDGET.continuationLeaseMs);
  if (marker === 'gone') return 'continuation-gone'; // done, or superseded, by an earlier delivery of this step
  if (marker === 'busy') return 'continuation-busy';
  try {
    let plan: CheckPlan;
    let read: RunRecords;
    const consumed = marker.next;
    if (consumed) {
      const queued = (await store.load(cluster, consumed)) as QueuedSnapshot | undefined;
      if (!queued) throw new Error(`continuation of ${scope}: the queued snapshot ${consumed} is not stored (expired?)`);
      const input: SnapshotInput = { cluster, scope: scope.replace(/^consul-checks\//, ''), ...queued };
      const planned = await planSnapshot(deps, input, scope, await deps.scopes.getScope(cluster, scope), undefined);
      // Nothing to do for it (sent before a reset of the scope): the continuation ends, or goes on with a newer queued one.
      const nothingLeft: CheckPlan = { cluster, scope, at: new Date(nowMs).toISOString(), order: marker.nextIndex ?? marker.index, epoch: 0, watermark: 0, maintenance: [], work: [], total: 0 };
      ({ plan, read } = planned.kind === 'plan' ? planned : { plan: nothingLeft, read: { records: new Map<string, CheckRecord>(), nodesRead: new Set<string>() } });
    } else {
      const stored = (await store.load(cluster, timer.id)) as CheckPlan | undefined;
      if (!stored) throw new Error(`continuation of ${scope}: part ${timer.id} is not stored (expired?)`);
      plan = stored;
      read = await readRecords(deps, cluster, plan.work.map(workSubject), plan.work.filter(workReadsNode).map((w) => nodeOfCheckSubject(workSubject(w))));
    }
    const engine = new TransitionEngine(deps, { overlapClears: true });
    const run = await runPlan(deps, engine, plan, read);
    const { unsettled, errors } = engine.tally(run.outcomes);
    if (unsettled > 0) {
      await engine.cleared();
      throw new Error(`continuation of ${scope}: ${unsettled} alert(s) not yet published: ${errors.slice(0, 3).join('; ')}`);
    }
    let outcome: 'continued' | 'continuation-done';
    if (run.rest.length > 0) {
      await settled(engine, handOn(deps, plan, run.rest, runner, consumed));
      outcome = 'continued';
    } else {
      if (plan.finish) await settled(engine, finishScope(deps, plan.finish, plan));
      else await engine.cleared();
      // A snapshot queued while this run worked: the next part switches to it.
      outcome = (await store.end(cluster, scope, runner, consumed)) ? 'continuation-done' : (await handOn(deps, plan, [], runner, consumed), 'continued');
    }
    // What the scope's marker no longer names: this part's plan, the queued snapshot it ran.
    await store.remove(cluster, timer.id);
    if (consumed) await store.remove(cluster, consumed);
    return outcome;
  } catch (err) {
    await store.release(cluster, scope, runner).catch(() => undefined);
    throw err;
  }
}
const workSubject = (w: CheckWork): string => (w.kind === 'observed' ? checkSubject(w.obs) : w.subject);
/** Whether a share of the plan reads its node up front (its change's status: observed, 'removed', or none when released). */
const workReadsNode = (w: CheckWork): boolean => readsNode(workSubject(w), w.kind === 'observed' ? w.obs.status : w.kind === 'removed' ? 'removed' : undefined);

/**
 * The plan's serfHealth changes as reports on their nodes' incidents (critical: down; any
 * other status: up; removed: gone; a node in maintenance going down: none), with what the
 * nodes that may go down carried (read once for all of them: a rack failing in one snapshot).
 * `report(subject)` runs a serfHealth check's report, just before that check is written (so
 * its alert finds the incident open); `down(node)` says whether a node is down, by those
 * reports or by the node's record as batch-read with the checks; `known(node)` whether it
 * can say (the node reported on, or its record read, found or not).
 */
async function nodeReports(
  deps: SnapshotDeps,
  engine: TransitionEngine,
  plan: CheckPlan,
  read: RunRecords,
  inMaintenance: (node: string) => boolean,
): Promise<{ down: (node: string) => boolean; known: (node: string) => boolean; report: (subject: string) => Promise<Outcome> }> {
  const { cluster, at, epoch, snapshotIndex } = plan;
  const { records, nodesRead } = read;
  // Not read (none stored: null): reportNode reads it.
  const recordOf = (node: string) => (nodesRead.has(node) ? (records.get(nodeSubject(node)) ?? null) : undefined) as Parameters<typeof reportNode>[5];
  const reports = new Map<string, { node: string; report: NodeReport; record: ReturnType<typeof recordOf> }>();
  for (const w of deps.nodes ? plan.work : []) {
    const subject = workSubject(w);
    if (!isSerfHealth(subject) || w.kind === 'released') continue;
    const node = nodeOfCheckSubject(subject);
    const withEpoch = epoch > 0 ? { epoch } : {};
    let report: NodeReport;
    if (w.kind === 'observed') {
      // A node in maintenance mode going down is the maintenance's business: no incident (its check's alert is withheld too).
      if (w.obs.status === 'critical' && inMaintenance(node)) continue;
      report = { source: 'consul', status: w.obs.status === 'critical' ? 'down' : 'up', order: w.obs.modifyIndex, at, reason: w.obs.output || w.obs.status, ...withEpoch };
    } else {
      const order = snapshotIndex ?? (records.get(subject)?.state.modifyIndex ?? 0) + 1;
      report = { source: 'consul', status: 'gone', order, at, reason: 'deregistered from the catalog (left or reaped)', ...withEpoch };
    }
    reports.set(subject, { node, report, record: recordOf(node) });
  }
  const carried = await carriedBy(deps, cluster, mayOpenNodes([...reports.values()]));
  const reported = new Map<string, boolean>();
  return {
    down: (node) => reported.get(node) ?? recordSaysDown(records.get(nodeSubject(node))),
    known: (node) => reported.has(node) || nodesRead.has(node),
    async report(subject) {
      const r = reports.get(subject);
      if (!r) return 'none';
      const result = await reportNode(deps, engine, cluster, r.node, r.report, r.record, carried.get(r.node) ?? []);
      reported.set(r.node, result.down);
      return result.outcome;
    },
  };
}

/** The health of the services the run's checks belong to, as their `service` watches last counted it (one batched read). */
async function serviceHealthOf(deps: SnapshotDeps, cluster: string, work: readonly CheckWork[], records: Map<string, CheckRecord>): Promise<Map<string, ServiceHealth>> {
  if (!deps.nodes) return new Map();
  const names = new Set<string>();
  for (const w of work) {
    const name = w.kind === 'observed' ? w.obs.serviceName : w.kind === 'released' && w.obs ? w.obs.serviceName : records.get(w.subject)?.state.facts?.serviceName;
    if (name) names.add(name);
  }
  return names.size > 0 ? deps.nodes.serviceHealth(cluster, [...names]) : new Map();
}

/** Outbox clears of the run and `next` at once (one round trip less), failing if either fails. */
async function settled<T>(engine: TransitionEngine, next: Promise<T>): Promise<T> {
  const [clears, after] = await Promise.allSettled([engine.cleared(), next]);
  if (clears.status === 'rejected') throw clears.reason;
  if (after.status === 'rejected') throw after.reason;
  return after.value;
}

/**
 * Runs the plan's work through the engine until its deadline: the jobs started finish,
 * the rest is returned. Without a continuation store, or without a deadline, all of it.
 */
async function runPlan(deps: SnapshotDeps, engine: TransitionEngine, plan: CheckPlan, read: RunRecords): Promise<RunResult> {
  const { cluster, epoch, watermark, at, snapshotIndex } = plan;
  const { records } = read;
  const stored = (r: CheckRecord | undefined): CheckRecordState | undefined => inEpoch(r?.state, epoch, unorderedCheck);
  const maintenance = MaintenanceSet.from(plan.maintenance);
  const covering = (o: CheckObservation): MaintenanceTarget | undefined => maintenance.covering(o.node, o.serviceId || undefined);
  const prefetched = (subject: string): CheckRecord | null => records.get(subject) ?? null;
  // Node incidents first (serfHealth changes), so that the node's own checks below find it open.
  // The services' counts are read while the node reports are prepared (they do not depend on each other).
  const servicesRead = serviceHealthOf(deps, cluster, plan.work, records);
  servicesRead.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  const nodes = await nodeReports(deps, engine, plan, read, (node) => maintenance.covering(node, undefined) !== undefined);
  const { down } = nodes;
  const services = await servicesRead;
  const contextOf = (node: string, service: string | undefined): CheckContext => {
    const health = service ? services.get(service) : undefined;
    return { facts: nodeIncidentFacts(node, down(node)), ...(health ? { service: health } : {}) };
  };
  // A serfHealth change reports on its node first. The node's alert not yet published: the check waits too, so that
  // the retry examines it again and its report finishes that alert.
  const apply = async (w: CheckWork): Promise<Outcome> => ((await nodes.report(workSubject(w))) === 'unsettled' ? 'unsettled' : applyCheck(w));
  /** The check's decision on its record (the engine's decide step). */
  const decision = (w: CheckWork, prev: CheckRecord | undefined): Decision<CheckRecordState> => {
    if (w.kind === 'observed') {
      return toDecision(prev?.state, decideCheck(cluster, stored(prev), w.obs, at, watermark, covering(w.obs)), deps, epoch, contextOf(w.obs.node, w.obs.serviceName || undefined));
    }
    if (w.kind === 'removed') {
      if (!prev) return { kind: 'ignore' };
      const decided = decideCheckRemoval(cluster, stored(prev), { ...prev.state.facts, output: '' }, snapshotIndex, at);
      return toDecision(prev.state, decided, deps, epoch, contextOf(prev.state.facts.node, prev.state.facts.serviceName || undefined));
    }
    const previous = stored(prev);
    if (!prev || !previous) return { kind: 'ignore' };
    const obs = w.obs ?? { ...prev.state.facts, output: '' };
    return toDecision(prev.state, decideCheckRelease(cluster, previous, obs, at, covering(obs)), deps, epoch, contextOf(obs.node, obs.serviceName || undefined));
  };
  const applyCheck = async (w: CheckWork): Promise<Outcome> => {
    const subject = workSubject(w);
    const node = nodeOfCheckSubject(subject);
    if (!deps.nodes || nodes.known(node)) return engine.apply<CheckRecordState>(cluster, subject, (prev) => decision(w, prev), prefetched(subject));
    // Its node was not read (readsNodeUpFront: a change to passing). Should its decision fire after all (a FLAPPING
    // notice), the incident may have to hold it: nothing is written, the node is read, and the check decided again.
    let needsNode = false;
    const outcome = await engine.apply<CheckRecordState>(
      cluster,
      subject,
      (prev) => {
        const d = decision(w, prev);
        needsNode = !nodes.known(node) && firesNotice(d);
        return needsNode ? { kind: 'ignore' } : d;
      },
      prefetched(subject),
    );
    if (!needsNode) return outcome;
    await readRecords(deps, cluster, [], [node], read);
    return engine.apply<CheckRecordState>(cluster, subject, (prev) => decision(w, prev));
  };
  const { deadlineMs } = deps;
  const stop = deps.continuations && deadlineMs !== undefined ? () => deps.clock.nowMs() >= deadlineMs : () => false;
  try {
    const { results, started } = await mapLimitUntil(plan.work, deps.concurrency ?? 16, apply, stop);
    return { outcomes: results, rest: plan.work.slice(started) };
  } catch (err) {
    await engine.cleared().catch(() => undefined); // no clear left running after the answer
    throw err;
  }
}

/**
 * Only a fully settled snapshot may move the watermark: otherwise the next delivery must
 * look at these checks again to finish their alerts. Its alerts are published by now;
 * their outbox entries are cleared while the watermark is written (one round trip less per
 * delta; a crash between the two: ARCHITECTURE.md "Failures").
 */
async function finishScope(deps: SnapshotDeps, finish: NonNullable<CheckPlan['finish']>, plan: Pick<CheckPlan, 'cluster' | 'scope'>): Promise<void> {
  const { from, ...next } = finish;
  const scopeRecord: ScopeRecord = { watermark: from.watermark, active: new Set(from.active), ...(from.epoch !== undefined ? { epoch: from.epoch } : {}) };
  await saveScope(deps.scopes, plan.cluster, plan.scope, scopeRecord, next);
}

/** The first part of a continuation: the rest stored, the scope marked, the step queued (indexed: the sweeper runs it if the message is lost). False: another continuation holds the scope. */
async function beginContinuation(deps: SnapshotDeps, plan: CheckPlan, rest: CheckWork[]): Promise<boolean> {
  const { store, timers } = deps.continuations!;
  const id = randomUUID();
  await store.save(plan.cluster, id, { ...plan, work: rest } satisfies CheckPlan, PROCESSING_BUDGET.continuationRetentionSeconds);
  if (!(await store.begin(plan.cluster, plan.scope, id, plan.order))) {
    await store.remove(plan.cluster, id);
    return false;
  }
  await timers.schedule(continuationTimer(deps, plan, id, rest.length));
  return true;
}

/** The next part: the rest stored, the scope's marker moved to it (the run still holding it), the step queued. */
async function handOn(deps: SnapshotDeps, plan: CheckPlan, rest: CheckWork[], runner: string, consumed: string | undefined): Promise<void> {
  const { store, timers } = deps.continuations!;
  const id = randomUUID();
  if (rest.length > 0) await store.save(plan.cluster, id, { ...plan, work: rest } satisfies CheckPlan, PROCESSING_BUDGET.continuationRetentionSeconds);
  await store.advance(plan.cluster, plan.scope, runner, id, plan.order, consumed);
  await timers.schedule(continuationTimer(deps, plan, id, rest.length));
}

function continuationTimer(deps: SnapshotDeps, plan: CheckPlan, id: string, remaining: number): ContinuationTimer {
  return { kind: 'continue', cluster: plan.cluster, source: 'consul-checks', scope: plan.scope, id, remaining, dueAt: deps.clock.nowMs() };
}
