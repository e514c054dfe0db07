/**
 * The delayed worker: a timer (SQS delay queue message) fired. Subject timers re-check
 * the stored episode through the transition engine (so a `for` notification or a
 * reminder goes out exactly when the condition still holds, once); digest timers send
 * the storm digest of a (cluster, channel, window). A timer more than a second early
 * (SQS delays stop at 900 s) is put back for the rest of its delay. A handled timer leaves
 * the index of pending steps (`pending`); the sweeper runs this same code for a step whose
 * message was lost (application-sweeper.ts `timersTask`), so each step fires once: a subject
 * step through the episode's re-check under compare-and-set, a digest through its claim.
 */
import type { ContinuationTimer, DigestTimer, FlapTimer, SubjectTimer, Timer } from '../domain/rules/outbox';
import type { Episodic } from '../domain/rules/episodes';
import { alertFacts, fireTimer, routeAlert, type TimeMutes } from '../domain/rules/episodes';
import { flapEnd, keepHeardRoutes, type Flappy } from '../domain/rules/flapping';
import type { RuleSet } from '../domain/rules/evaluate';
import { digestAlert, DIGEST_MAX_LINES } from '../domain/rules/storm';
import type { GroupingSpec } from '../domain/rules/types';
import type { OutboxEntry } from '../domain/rules/outbox';
import type { ChannelPublisher } from './dispatcher';
import type { DigestStore, PendingTimers, TimerQueue } from './delivery-ports';
import type { OutboxPublisher, SubjectStore } from './ports';
import type { Clock } from './runtime';
import { TransitionEngine, type FiringMark } from './transition-engine';
import { isInhibitSource } from '../domain/rules/inhibit';
import { processingDeadline } from './time-budget';

/**
 * What a continuation run did: queued the next part, finished the snapshot, found its part
 * done or superseded already, or found another run holding the scope (its step then stays
 * indexed: should that run have died, the sweeper runs it once the lease is over).
 */
export type ContinuationOutcome = 'continued' | 'continuation-done' | 'continuation-gone' | 'continuation-busy';

export interface TimerWorkerDeps {
  subjects: SubjectStore;
  /** The dispatcher: silences and storm grouping apply to delayed notifications too. */
  publisher: OutboxPublisher;
  /** Digests go straight to their channel. */
  channels: ChannelPublisher;
  timers: TimerQueue;
  /** The index of pending steps: a handled step is removed from it. */
  pending?: PendingTimers;
  digests: DigestStore;
  grouping: GroupingSpec;
  clock: Clock;
  leaseMs?: number;
  /** The rules' time intervals: a step due inside its route's mute waits for the mute's end. */
  mutes?: TimeMutes;
  /** The rules: the notice that ends a subject's flapping is routed like any alert of its episode. */
  rules?: RuleSet;
  /** Goes on with a snapshot whose request ran out of time, until `deadlineMs` (check-snapshots.ts). */
  continueSnapshot?: (timer: ContinuationTimer, deadlineMs: number) => Promise<ContinuationOutcome>;
  /** PROCESSING_BUDGET.stopStartingAfterMs unless given (tests, npm start's TOCSIN_LOCAL_PROCESSING_BUDGET_MS). */
  processingBudgetMs?: number;
}

/**
 * `deferred`: the route is muted by a time interval; the step was put back for the mute's end.
 * `flapping-ended`: the subject's flapping is over and its final notice was handled (sent, or routed nowhere).
 */
export type TimerOutcome = 'rescheduled' | 'notified' | 'deferred' | 'stale' | 'flapping-ended' | 'digest-sent' | 'digest-empty' | 'digest-claimed' | ContinuationOutcome;

/** Early by more than this: back on the queue. */
const EARLY_TOLERANCE_MS = 1000;
/** How long a digest sender's claim holds: past it (the sender died), the next sweep sends it. */
export const DIGEST_CLAIM_MS = 60_000;

export class TimerNotSettled extends Error {}

export function parseTimer(body: string): Timer {
  const t = JSON.parse(body) as Timer;
  if (!t || typeof t !== 'object' || !['for', 'repeat', 'digest', 'continue', 'flapping'].includes(t.kind) || typeof t.dueAt !== 'number' || typeof t.cluster !== 'string') {
    throw new Error('not a tocsin timer message');
  }
  return t;
}

/** `remainingMs`: what the runtime leaves this timer (a Lambda's remaining time), when it says. */
export async function handleTimer(deps: TimerWorkerDeps, timer: Timer, remainingMs?: number): Promise<TimerOutcome> {
  if (timer.dueAt - deps.clock.nowMs() > EARLY_TOLERANCE_MS) {
    await deps.timers.schedule(timer);
    return 'rescheduled';
  }
  const outcome =
    timer.kind === 'digest'
      ? await sendDigest(deps, timer)
      : timer.kind === 'continue'
        ? await continueSnapshot(deps, timer, remainingMs)
        : timer.kind === 'flapping'
          ? await endFlapping(deps, timer)
          : await fireSubjectTimer(deps, timer);
  // Another worker holds the digest's claim (the scope's lease): its step stays pending until that one is done.
  if (outcome !== 'digest-claimed' && outcome !== 'continuation-busy') await deps.pending?.remove(timer);
  return outcome;
}

async function fireSubjectTimer(deps: TimerWorkerDeps, timer: SubjectTimer): Promise<TimerOutcome> {
  const engine = new TransitionEngine(deps);
  let fired: OutboxEntry | undefined;
  const outcome = await engine.apply<Episodic & Record<string, unknown>>(timer.cluster, timer.subject, (prev) => {
    fired = undefined;
    if (!prev) return { kind: 'ignore' };
    const out = fireTimer(timer, prev.state.episode, deps.clock.nowMs(), deps.mutes);
    if (!out.outbox) return { kind: 'ignore' };
    fired = out.outbox;
    return { kind: 'write', state: { ...prev.state, episode: out.episode }, outbox: out.outbox };
  });
  if (outcome === 'unsettled') throw new TimerNotSettled(`timer ${timer.kind} ${timer.subject}: ${engine.errors.join('; ')}`);
  if (!fired || outcome !== 'published') return 'stale';
  return fired.routing?.deliveries.length ? 'notified' : 'deferred';
}

/**
 * A subject's flapping may be over (rules/flapping.ts): a change since the step was queued
 * moved its end, so the step goes back on the queue for it; otherwise the final notice is
 * routed against the stored episode (a RESOLVED to the routes that heard it, or a firing
 * alert "now critical"), once, under the subject's compare-and-set.
 */
async function endFlapping(deps: TimerWorkerDeps, timer: FlapTimer): Promise<TimerOutcome> {
  if (!deps.rules) throw new Error('flapping timer: no rules here');
  const rules = deps.rules;
  const engine = new TransitionEngine(deps);
  let later: number | undefined;
  let ended = false;
  const outcome = await engine.apply<Episodic & Flappy & Record<string, unknown>>(timer.cluster, timer.subject, (prev) => {
    later = undefined;
    ended = false;
    if (!prev) return { kind: 'ignore' };
    const nowMs = deps.clock.nowMs();
    const end = flapEnd(prev.state.flap, timer.flap, nowMs);
    if (end.kind === 'none') return { kind: 'ignore' };
    if (end.kind === 'not-yet') {
      later = end.dueAt;
      return { kind: 'ignore' };
    }
    ended = true;
    const before = prev.state.episode;
    const routed = keepHeardRoutes(before, routeAlert({ rules, alert: end.notice, subject: timer.subject, previous: before, ...(end.facts ? { facts: end.facts } : {}), nowMs }), end.notice, alertFacts(end.notice, end.facts), true);
    let episode = routed.episode;
    let firing: FiringMark | undefined;
    // Still failing and an inhibit rule's source: recorded again under the episode's new id (as routing.ts does).
    const facts = alertFacts(end.notice, end.facts);
    if (episode && end.notice.state === 'firing' && rules.inhibit.length > 0 && isInhibitSource(rules.inhibit, facts)) {
      episode = { ...episode, inhibits: true };
      firing = { kind: 'source', source: { subject: timer.subject, episode: episode.id, facts, recordedAt: nowMs } };
    } else if (before?.inhibits) {
      firing = { kind: 'ended' };
    }
    const { episode: _episode, flap: _flap, ...rest } = prev.state;
    const state = { ...rest, ...(episode ? { episode } : {}), ...(end.flap.changes.length ? { flap: end.flap } : {}) };
    return { kind: 'write', state, ...(routed.outbox ? { outbox: routed.outbox } : {}), ...(firing ? { firing } : {}) };
  });
  if (outcome === 'unsettled') throw new TimerNotSettled(`timer flapping ${timer.subject}: ${engine.errors.join('; ')}`);
  if (later !== undefined) {
    await deps.timers.schedule({ ...timer, dueAt: later });
    return 'rescheduled';
  }
  return ended && (outcome === 'published' || outcome === 'written') ? 'flapping-ended' : 'stale';
}

async function continueSnapshot(deps: TimerWorkerDeps, timer: ContinuationTimer, remainingMs: number | undefined): Promise<ContinuationOutcome> {
  if (!deps.continueSnapshot) throw new Error(`no worker for ${timer.source} continuations here`);
  const deadlineMs = processingDeadline(deps.clock.nowMs(), { ...(deps.processingBudgetMs !== undefined ? { budgetMs: deps.processingBudgetMs } : {}), ...(remainingMs !== undefined ? { remainingMs } : {}) });
  return deps.continueSnapshot(timer, deadlineMs);
}

async function sendDigest(deps: TimerWorkerDeps, timer: DigestTimer): Promise<TimerOutcome> {
  if (await deps.digests.wasSent(timer)) return 'digest-sent';
  const { items, total, tally } = await deps.digests.folded(timer, DIGEST_MAX_LINES + 1);
  if (total === 0) return 'digest-empty';
  if (!(await deps.digests.claim(timer, deps.clock.nowMs(), DIGEST_CLAIM_MS))) return (await deps.digests.wasSent(timer)) ? 'digest-sent' : 'digest-claimed';
  await deps.channels.publish(digestAlert(timer, items, total, deps.grouping, tally));
  await deps.digests.markSent(timer);
  return 'digest-sent';
}
