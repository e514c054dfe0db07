/**
 * Flap detection: a subject whose state changes often is one incident, not a notification
 * per change. Nagios computes a percent state change over its last 21 check results with
 * high/low thresholds; tocsin sees transitions, not every check result, so it counts
 * transitions in a sliding window, with hysteresis:
 *
 * - enter: the change that makes `changes` changes within `windowSeconds` turns the subject
 *   FLAPPING: one notification saying so, with the recent changes (times, statuses, outputs);
 * - while flapping: no notification per change (each is recorded, the last one kept);
 * - leave: once `stableSeconds` pass without a change (a timer step, not a delivery), one
 *   notice with the final state: a RESOLVED "no longer flapping: now passing", or, still
 *   failing, a firing alert "no longer flapping: now critical" that routes and reminds like
 *   any firing alert of the episode.
 *
 * Pure. The state lives in the subject's record next to its episode (`flap`), written by
 * the transition engine's compare-and-set, so a change counts once however often it is
 * delivered (the sources drop repeated deliveries by ModifyIndex / LTime before this).
 */
import { alertId } from '../alert-id';
import { excerpt } from '../excerpt';
import type { Alert, Severity } from '../types';
import { formatDuration } from './duration';
import { evaluateRules, type RuleSet } from './evaluate';
import type { FlapSpec, MatchFacts } from './types';
import { variant, type Episode, type RouteAlertResult } from './episodes';
import type { OutboxEntry } from './outbox';

export type { FlapSpec };

/** 6 changes in 10 minutes; over once 10 minutes pass without a change. */
export const FLAP_DEFAULTS: FlapSpec = { changes: 6, windowSeconds: 600, stableSeconds: 600 };
/** Bounds of `changes`: the history kept per subject is at most this long. */
export const FLAP_MIN_CHANGES = 2;
export const FLAP_MAX_CHANGES = 20;
/** Characters of output kept per change in the history. */
export const FLAP_OUTPUT_CHARS = 100;
/** Characters kept of each detail of the last alert held while flapping (its final notice). */
const HELD_DETAIL_CHARS = 600;

/** One recorded change of a subject. */
export interface FlapChange {
  /** Epoch ms it was processed. */
  at: number;
  from?: string;
  to: string;
  /** Firing changes: the severity the source proposed. */
  severity?: Severity;
  output?: string;
}

/** What the subject record keeps (`flap`, next to `episode`). */
export interface FlapState {
  /** The last changes, oldest first: only those within the window, at most `changes` of them. */
  changes: FlapChange[];
  flapping?: Flapping;
}

export interface Flapping {
  /** Names this flapping stretch: its end timer carries it. */
  id: string;
  /** Epoch ms it began. */
  since: number;
  /** Epoch ms of the last change seen (flapping ends `stableSeconds` after it). */
  lastChangeAt: number;
  stableSeconds: number;
  /** Changes since it began (the one that began it included). */
  count: number;
  /** The last alert the source proposed, held back: the final notice is built from it. */
  last: { alert: Alert; facts?: Partial<MatchFacts> };
}

/** Source state that takes part in flap detection keeps it here. */
export interface Flappy {
  flap?: FlapState;
}

/** The flap spec for an alert: the first matching rule that says `flapping`, else the top level, else the defaults. `undefined`: off. */
export function flapSpecFor(rules: RuleSet, facts: MatchFacts): FlapSpec | undefined {
  const { matched } = evaluateRules(rules, facts);
  for (const name of matched) {
    const spec = rules.rules.find((r) => r.spec.name === name)?.spec.flapping;
    if (spec !== undefined) return spec === false ? undefined : spec;
  }
  const top = rules.config.flapping;
  return top === false ? undefined : (top ?? FLAP_DEFAULTS);
}

/** Output of an alert for the history: its Output detail, else its first telling detail. */
export function changeOutput(alert: Alert): string | undefined {
  const output = alert.details.find(([k]) => k === 'Output') ?? alert.details.find(([k, v]) => k === 'Reason' && v.trim() !== '');
  const text = output?.[1].replace(/\s+/g, ' ').trim();
  return text ? excerpt(text, FLAP_OUTPUT_CHARS) : undefined;
}

/** Whether an alert is a change of the subject's state (a release after maintenance, a first run reported: no). */
export const isStateChange = (alert: Alert): boolean => alert.from === undefined || alert.from !== alert.to;

export type FlapVerdict =
  /** Route the alert as usual. */
  | { kind: 'ordinary' }
  /** The subject just became flapping: send this instead (firing, `flapping` fact). */
  | { kind: 'start'; notice: Alert; facts: Partial<MatchFacts> }
  /** Flapping: nothing is sent for this change. */
  | { kind: 'during' };

/**
 * The source proposed `alert` (an episode alert) for `subject`: records it and says what
 * to send. `state` is the stored flap state; the result's `flap` replaces it.
 */
export function observeChange(input: {
  state: FlapState | undefined;
  alert: Alert;
  facts: Partial<MatchFacts>;
  subject: string;
  spec: FlapSpec;
  nowMs: number;
}): { flap: FlapState; verdict: FlapVerdict } {
  const { alert, spec, nowMs } = input;
  const prev = input.state ?? { changes: [] };
  const counted = isStateChange(alert);
  const output = changeOutput(alert);
  const change: FlapChange = {
    at: nowMs,
    ...(alert.from !== undefined ? { from: alert.from } : {}),
    to: alert.to,
    ...(alert.state === 'firing' ? { severity: alert.severity } : {}),
    ...(output ? { output } : {}),
  };
  const changes = trim([...prev.changes, ...(counted ? [change] : [])], spec, nowMs);
  const last = { alert: held(alert), ...(Object.keys(input.facts).length ? { facts: input.facts } : {}) };
  if (prev.flapping) {
    const flapping: Flapping = counted ? { ...prev.flapping, lastChangeAt: nowMs, count: prev.flapping.count + 1, last } : { ...prev.flapping, last };
    return { flap: { changes, flapping }, verdict: { kind: 'during' } };
  }
  if (!counted || changes.length < spec.changes) return { flap: { changes }, verdict: { kind: 'ordinary' } };
  const id = alertId([alert.cluster, 'flapping', input.subject, nowMs]);
  const flapping: Flapping = { id, since: nowMs, lastChangeAt: nowMs, stableSeconds: spec.stableSeconds, count: 1, last };
  return { flap: { changes, flapping }, verdict: { kind: 'start', notice: flappingNotice(alert, changes, spec, id, nowMs), facts: { ...input.facts, flapping: 'true' } } };
}

/** The changes still within the window, at most `spec.changes` of them. */
function trim(changes: FlapChange[], spec: FlapSpec, nowMs: number): FlapChange[] {
  const from = nowMs - spec.windowSeconds * 1000;
  return changes.filter((c) => c.at > from).slice(-spec.changes);
}

/** The alert as kept until flapping ends: long details cut, so the record stays small. */
function held(alert: Alert): Alert {
  const { rules: _rules, channels: _channels, ...rest } = alert;
  return { ...rest, details: alert.details.map(([k, v]) => [k, v.length > HELD_DETAIL_CHARS ? excerpt(v, HELD_DETAIL_CHARS) : v]) };
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
/** A title without its "LABEL: " prefix. */
const unlabelled = (title: string): string => title.replace(/^[A-Z]+: /, '');
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

/**
 * The FLAPPING notice: firing, at the worst severity the changes in the window proposed,
 * with that change's status (so a rule on `status: critical` routes it like the critical),
 * and the recent changes, oldest first.
 */
export function flappingNotice(trigger: Alert, changes: FlapChange[], spec: FlapSpec, id: string, nowMs: number): Alert {
  const worst = changes.reduce<FlapChange | undefined>((w, c) => (c.severity && (!w?.severity || SEVERITY_RANK[c.severity] > SEVERITY_RANK[w.severity]) ? c : w), undefined);
  const first = changes[0]!;
  const spanSeconds = Math.max(1, Math.round((nowMs - first.at) / 1000));
  const { rules: _rules, channels: _channels, reminder: _reminder, ...base } = trigger;
  const { from: _from, ...rest } = base;
  const kept = trigger.details.filter(([k]) => k !== 'Output' && k !== 'Status');
  return {
    ...rest,
    id,
    severity: worst?.severity ?? 'warning',
    state: 'firing',
    to: worst?.to ?? trigger.to,
    ...(worst?.from !== undefined ? { from: worst.from } : {}),
    title: `FLAPPING: ${unlabelled(trigger.title)}`,
    details: [
      [
        'Flapping',
        `${changes.length} changes within ${formatDuration(spanSeconds)} (threshold: ${spec.changes} in ${formatDuration(spec.windowSeconds)}); no notification per change until it has been stable for ${formatDuration(spec.stableSeconds)}`,
      ],
      ...changes.map((c): [string, string] => [iso(c.at), `${c.from ?? 'unknown'} -> ${c.to}${c.output ? `: ${c.output}` : ''}`]),
      ...kept,
    ],
  };
}

/** What the end timer finds: flapping over (send the final notice), not yet (look again at `dueAt`), or nothing (another stretch, or none). */
export type FlapEnd = { kind: 'ended'; notice: Alert; facts?: Partial<MatchFacts>; flap: FlapState } | { kind: 'not-yet'; dueAt: number } | { kind: 'none' };

/** When flapping that began as `flapping` ends, if nothing changes any more. */
export const flapEndsAt = (flapping: Flapping): number => flapping.lastChangeAt + flapping.stableSeconds * 1000;

/**
 * The end timer of flapping stretch `id` fired at `nowMs`. The final notice is the last
 * alert the source proposed while flapping, saying so: "RESOLVED: ... (no longer flapping:
 * now passing)", or "CRITICAL: ... (no longer flapping: now critical)".
 */
export function flapEnd(state: FlapState | undefined, id: string, nowMs: number): FlapEnd {
  const flapping = state?.flapping;
  if (!flapping || flapping.id !== id) return { kind: 'none' };
  const endsAt = flapEndsAt(flapping);
  if (endsAt > nowMs) return { kind: 'not-yet', dueAt: endsAt };
  const { alert } = flapping.last;
  const now = `no longer flapping: now ${alert.to}`;
  const notice: Alert = {
    ...alert,
    id: alertId([alert.cluster, 'flapping-ended', id]),
    at: new Date(nowMs).toISOString(),
    title: `${alert.title} (${now})`,
    details: [['Flapping', `ended: no change since ${iso(flapping.lastChangeAt)} (${formatDuration(flapping.stableSeconds)}); ${flapping.count} change${flapping.count === 1 ? '' : 's'} since ${iso(flapping.since)}`], ...alert.details],
  };
  // Hysteresis: counting starts afresh, so the changes that made it flap do not make it flap again.
  return { kind: 'ended', notice, ...(flapping.last.facts ? { facts: flapping.last.facts } : {}), flap: { changes: [] } };
}

/**
 * Routes that heard the episode stay in it across flapping, whatever the rules make of the
 * FLAPPING notice or the final notice (a rule may send `flapping: true` elsewhere): every
 * route told of the incident is told how it ended, and hears its RESOLVED. `tell`: the
 * routes kept this way hear `alert` too (the final notice, firing).
 */
export function keepHeardRoutes(previous: Episode | undefined, routed: RouteAlertResult, alert: Alert, facts: MatchFacts, tell: boolean): RouteAlertResult {
  const episode = routed.episode;
  if (!previous || !episode) return routed;
  const kept = Object.entries(previous.routes).filter(([rule, r]) => r.notifiedAt !== undefined && !episode.routes[rule]);
  if (kept.length === 0) return routed;
  const routes = { ...episode.routes };
  const base: OutboxEntry = routed.outbox ?? { alert, facts, routing: { deliveries: [], timers: [] } };
  const routing = base.routing ?? { deliveries: [], timers: [] };
  const deliveries = [...routing.deliveries];
  const claimed = new Set(deliveries.flatMap((d) => d.channels));
  for (const [rule, r] of kept) {
    const { muted: _muted, ...route } = r;
    routes[rule] = tell ? { ...route, notifiedAt: Date.parse(alert.at) || route.notifiedAt!, reminders: 0, repeat: 0 } : { ...route, repeat: 0 };
    const channels = r.channels.filter((c) => !claimed.has(c));
    if (!tell || channels.length === 0) continue;
    channels.forEach((c) => claimed.add(c));
    deliveries.push({ alert: variant(alert, r.severity, 'firing', [rule]), channels });
  }
  return { episode: { ...episode, routes }, outbox: tell ? { ...base, routing: { ...routing, deliveries } } : routed.outbox };
}
