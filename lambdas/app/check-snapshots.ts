/**
 * Process one `checks` watch snapshot: find what changed since the scope's
 * watermark, record each transition with a conditional write, and publish its
 * alert through the outbox (pending -> published). Safe under concurrent and
 * repeated deliveries: each change yields exactly one alert.
 */
import { checkSubject } from '../domain/consul-checks';
import {
  decideCheck,
  decideCheckRemoval,
  nextCheckState,
  type CheckAlertPolicy,
  type CheckDecision,
} from '../domain/check-transitions';
import { checkAlert } from '../domain/check-alerts';
import type { CheckObservation } from '../domain/types';
import type { AlertPublisher, CheckRecord, CheckStateStore, Clock } from './ports';
import { mapLimit, sleep } from './concurrency';

export interface SnapshotDeps {
  store: CheckStateStore;
  publisher: AlertPublisher;
  policy: CheckAlertPolicy;
  clock: Clock;
  /** How long a writer may hold a pending alert before another takes over. */
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
}

export interface SnapshotResult {
  /** Checks compared with stored state (changed since the watermark, or gone). */
  examined: number;
  transitions: number;
  alertsPublished: number;
  /** Alerts recorded but not (yet) published: the caller must retry. */
  unsettled: number;
  errors: string[];
}

type Outcome = 'none' | 'transition' | 'published' | 'unsettled';

const MAX_WRITE_ATTEMPTS = 4;

export async function processCheckSnapshot(deps: SnapshotDeps, input: SnapshotInput): Promise<SnapshotResult> {
  const { store } = deps;
  const { cluster, scope } = input;
  const leaseMs = deps.leaseMs ?? 30_000;
  const at = new Date(deps.clock.nowMs()).toISOString();
  const result: SnapshotResult = { examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [] };

  const scopeRecord = await store.getScope(cluster, scope);
  const present = new Map<string, CheckObservation>();
  for (const obs of input.observations) present.set(checkSubject(obs), obs);

  const candidates = [...present.values()].filter((o) => o.modifyIndex > scopeRecord.watermark);
  const vanished = [...scopeRecord.active].filter((s) => !present.has(s));
  result.examined = candidates.length + vanished.length;

  const records = await store.getChecks(cluster, [...candidates.map(checkSubject), ...vanished]);

  const publish = async (subject: string, record: CheckRecord, claimed: boolean): Promise<Outcome> => {
    const pending = record.pending;
    if (!pending) return 'none';
    if (!claimed) {
      const now = deps.clock.nowMs();
      if (pending.leaseUntil > now) return 'unsettled';
      if (!(await store.claimPending(cluster, subject, pending.alert.id, now, now + leaseMs))) return 'unsettled';
    }
    try {
      await deps.publisher.publish(pending.alert);
    } catch (err) {
      result.errors.push(`publish ${pending.alert.id}: ${(err as Error).message}`);
      return 'unsettled';
    }
    await store.clearPending(cluster, subject, pending.alert.id);
    return 'published';
  };

  /** Settles an earlier pending alert, waiting briefly if another writer holds it. */
  const settle = async (subject: string, record: CheckRecord): Promise<CheckRecord | 'unsettled'> => {
    let current: CheckRecord | undefined = record;
    for (let attempt = 0; current?.pending; attempt++) {
      const outcome = await publish(subject, current, false);
      if (outcome === 'published') {
        result.alertsPublished++;
        const { pending: _published, ...rest } = current;
        return rest;
      }
      if (attempt >= 5) return 'unsettled';
      await sleep(100 * 2 ** attempt); // the holder is normally done within one SNS call
      current = await store.getCheck(cluster, subject);
    }
    return current ?? 'unsettled';
  };

  const apply = async (subject: string, decide: (prev: CheckRecord | undefined) => CheckDecision): Promise<Outcome> => {
    let record = records.get(subject);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      if (record?.pending) {
        const settled = await settle(subject, record);
        if (settled === 'unsettled') return 'unsettled';
        record = settled;
      }
      const decision = decide(record);
      if (decision.kind === 'ignore') return 'none';
      const t = decision.transition;
      const intent = deps.policy(t);
      const next: CheckRecord = { state: nextCheckState(t, intent), facts: t.observation };
      if (intent) next.pending = { alert: checkAlert(t, intent), leaseUntil: deps.clock.nowMs() + leaseMs };
      if (await store.writeTransition(cluster, subject, record?.state, next)) {
        result.transitions++;
        if (!next.pending) return 'transition';
        const outcome = await publish(subject, next, true);
        if (outcome === 'published') result.alertsPublished++;
        return outcome;
      }
      // Lost a race: look again at what the winner wrote.
      record = await store.getCheck(cluster, subject);
    }
    result.errors.push(`${subject}: too much contention`);
    return 'unsettled';
  };

  const work: Array<() => Promise<Outcome>> = [
    ...candidates.map((obs) => () => apply(checkSubject(obs), (prev) => decideCheck(cluster, prev?.state, obs, at, scopeRecord.watermark))),
    ...vanished.map((subject) => () => {
      const facts = records.get(subject)?.facts;
      if (!facts) return Promise.resolve<Outcome>('none'); // already gone
      return apply(subject, (prev) =>
        decideCheckRemoval(cluster, prev?.state, prev?.facts ?? facts, input.snapshotIndex, at),
      );
    }),
  ];
  const outcomes = await mapLimit(work, deps.concurrency ?? 16, (job) => job());
  result.unsettled = outcomes.filter((o) => o === 'unsettled').length;

  // Only a fully settled snapshot may move the watermark: otherwise the next
  // delivery must look at these checks again to finish their alerts.
  if (result.unsettled === 0) {
    const maxIndex = input.observations.reduce((m, o) => Math.max(m, o.modifyIndex), scopeRecord.watermark);
    const addActive = candidates.filter((o) => o.status !== 'passing').map(checkSubject).filter((s) => !scopeRecord.active.has(s));
    const removeActive = [
      ...candidates.filter((o) => o.status === 'passing').map(checkSubject).filter((s) => scopeRecord.active.has(s)),
      ...vanished,
    ];
    if (maxIndex > scopeRecord.watermark || addActive.length > 0 || removeActive.length > 0) {
      await store.updateScope(cluster, scope, { watermark: maxIndex, addActive, removeActive });
    }
  }
  return result;
}
