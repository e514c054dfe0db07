/**
 * The rules glue every source shares (docs/ARCHITECTURE.md "Rules and delivery"): the
 * alert a source decided on is routed with `routeAlert`, the routed alert (with its
 * facts, deliveries and timers) becomes the decision's outbox entry, and the subject's episode
 * travels in its stored state, so `for`, `repeat` and resolved-only-if-notified hold for
 * every source. Pure: runs inside the engine's decide step, so a lost compare-and-set race
 * routes again against what the winner stored.
 */
import { alertFacts, routeAlert, variant, type Episodic } from '../../domain/rules/episodes';
import { isInhibitSource } from '../../domain/rules/inhibit';
import { FLAP_DEFAULTS, FLAP_MAX_CHANGES, flapEndsAt, flapSpecFor, keepHeardRoutes, observeChange, type FlapSpec, type FlapState, type Flappy } from '../../domain/rules/flapping';
import type { RuleSet } from '../../domain/rules/evaluate';
import type { FlapTimer, OutboxEntry } from '../../domain/rules/outbox';
import type { MatchFacts } from '../../domain/rules/types';
import type { Alert } from '../../domain/types';
import type { Decision, FiringMark } from '../transition-engine';
import type { SourceContext } from './types';

/** What a source decides before routing: the next state and the alert it proposes, if any. */
export type SourceDecision<S> = { kind: 'ignore' } | { kind: 'write'; state: S; alert?: Alert; ttlSeconds?: number };

/**
 * What an alert is to its subject's episode:
 * - `episode`: about the subject's problem state. A firing alert opens or changes the
 *   episode (`for`, `repeat`); a resolved one ends it, heard by the routes that were notified.
 * - `resolves`: a notice that the problem is over (a deregistered service registered
 *   again, a deleted key created again): routed as the episode's resolved alert.
 * - `notice`: momentary (events, joins, changes): every route hears it now; the episode
 *   is left as it is.
 * - `final`: a notice after which the subject has no problem to remind of (a reaped
 *   member): momentary, and the episode ends without a resolved notice.
 */
export type AlertRole = 'episode' | 'resolves' | 'notice' | 'final';

export interface AlertRouting {
  role: AlertRole;
  /** What rules and silences match on beyond the alert's own fields: tags, meta, event name, payload. */
  facts?: Partial<MatchFacts>;
  /**
   * `episode` firing alerts: no route is notified before this many seconds from the episode's
   * start, as if every route's `for` were at least this (a check awaiting its first run).
   */
  holdSeconds?: number;
}

/**
 * Routes `decision`'s alert against the episode stored in `previous` and stores the
 * resulting episode with the new state (also when there is no alert: a state built
 * afresh must not drop the episode). Without rules the alert goes out unrouted (the
 * dispatcher routes it momentarily) and the episode is carried as it is.
 */
export function routeDecision<S>(
  ctx: Pick<SourceContext, 'rules' | 'clock'>,
  subject: string,
  previous: S | undefined,
  decision: SourceDecision<S>,
  routing: (alert: Alert) => AlertRouting,
): Decision<S> {
  if (decision.kind !== 'write') return decision;
  let episode = (previous as Episodic | undefined)?.episode;
  let flap = (previous as Flappy | undefined)?.flap;
  const { alert: proposed, ...write } = decision;
  let alert = proposed;
  let outbox: OutboxEntry | undefined = alert ? { alert } : undefined;
  let firing: FiringMark | undefined;
  if (alert && ctx.rules) {
    const { role, facts: sourceFacts, holdSeconds } = routing(alert);
    let facts = sourceFacts;
    let flapTimer: FlapTimer | undefined;
    if (role === 'final') flap = undefined;
    if (role === 'resolves') alert = resolvedNotice(alert);
    // A notice that resolves (a deregistered service registered again) counts for a subject
    // with a change history (its problem's firing side began one).
    if (role === 'episode' || (role === 'resolves' && flap)) {
      // Flap detection (rules/flapping.ts): a change while flapping is recorded, not sent; the
      // change that makes the subject flapping sends the FLAPPING notice instead.
      const nowMs = ctx.clock.nowMs();
      const spec = flapSpecOf(ctx.rules, alert, facts, flap);
      const observed = spec ? observeChange({ state: flap, alert, facts: facts ?? {}, subject, spec, nowMs }) : undefined;
      flap = observed?.flap;
      if (observed?.verdict.kind === 'during') return withState(write, decision.state, episode, flap);
      if (observed?.verdict.kind === 'start') {
        alert = observed.verdict.notice;
        facts = observed.verdict.facts;
        const flapping = observed.flap.flapping!;
        flapTimer = { kind: 'flapping', cluster: alert.cluster, subject, flap: flapping.id, dueAt: flapEndsAt(flapping) };
      }
    }
    let routed = routeAlert({
      rules: ctx.rules,
      alert,
      subject,
      previous: episode,
      ...(facts ? { facts } : {}),
      ...(holdSeconds ? { holdSeconds } : {}),
      ...(role === 'notice' || role === 'final' ? { momentary: true } : {}),
      nowMs: ctx.clock.nowMs(),
    });
    // The routes that heard the episode before it flapped hear how it ends.
    if (flapTimer) routed = keepHeardRoutes(episode, routed, alert, alertFacts(alert, facts), false);
    outbox = withFlapTimer(routed.outbox, alert, facts, flapTimer);
    const before = episode;
    episode = role === 'final' ? undefined : routed.episode;
    if (role !== 'notice') {
      // Firing and matching an inhibit rule's source: recorded as a firing source while it lasts
      // (and forgotten when it ends even if the rule was removed since).
      const inhibit = ctx.rules.inhibit ?? [];
      const sourceFacts = alertFacts(alert, facts);
      if (inhibit.length > 0 && episode && alert.state === 'firing' && role === 'episode' && isInhibitSource(inhibit, sourceFacts)) {
        episode = { ...episode, inhibits: true };
        firing = { kind: 'source', source: { subject, episode: episode.id, facts: sourceFacts, recordedAt: ctx.clock.nowMs() } };
      } else if (before?.inhibits) {
        firing = { kind: 'ended' };
      }
    }
  }
  return { ...withState(write, decision.state, episode, flap), ...(outbox ? { outbox } : {}), ...(firing ? { firing } : {}) };
}

/** The source's write with the subject's episode and flap state (both kept also when the source built its state afresh). */
function withState<S>(write: Omit<Extract<SourceDecision<S>, { kind: 'write' }>, 'alert'>, state: S, episode: Episodic['episode'], flap: FlapState | undefined): Extract<Decision<S>, { kind: 'write' }> {
  const { episode: _episode, flap: _flap, ...rest } = state as S & Episodic & Flappy;
  return { ...write, state: { ...rest, ...(episode ? { episode } : {}), ...(flap ? { flap } : {}) } as S };
}

/**
 * The flap spec for this alert (the rules as they stand). Flapping that began under a spec
 * since turned off still ends as it began: its changes stay quiet until it is stable.
 */
function flapSpecOf(rules: RuleSet, alert: Alert, facts: Partial<MatchFacts> | undefined, flap: FlapState | undefined): FlapSpec | undefined {
  const spec = flapSpecFor(rules, alertFacts(alert, facts));
  if (spec || !flap?.flapping) return spec;
  return { changes: FLAP_MAX_CHANGES, windowSeconds: FLAP_DEFAULTS.windowSeconds, stableSeconds: flap.flapping.stableSeconds };
}

/** The routed entry with the flapping end timer (an entry of its own when the FLAPPING notice goes nowhere: the timer must run). */
function withFlapTimer(outbox: OutboxEntry | undefined, alert: Alert, facts: Partial<MatchFacts> | undefined, flapTimer: FlapTimer | undefined): OutboxEntry | undefined {
  if (!flapTimer) return outbox;
  if (outbox?.routing) return { ...outbox, routing: { ...outbox.routing, flapTimer } };
  return { alert, facts: alertFacts(alert, facts), routing: { deliveries: [], timers: [], flapTimer } };
}

/** The notice as the episode's resolved alert ("RESOLVED: service web registered"). */
function resolvedNotice(alert: Alert): Alert {
  const { rules: _rules, ...resolved } = variant(alert, alert.severity, 'resolved', []);
  return resolved;
}

/** Key/value tags (Serf) as `key=value` strings, for the `tags` matcher. */
export function keyValueTags(tags: Readonly<Record<string, string>>): string[] {
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`);
}
