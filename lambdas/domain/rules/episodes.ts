/**
 * Episodes and route planning: given the alert a source decided on and the episode stored
 * with its subject, which channels hear about it now, which later (`for`, `repeat`),
 * and what to store. Pure. The result is the subject's outbox entry (outbox.ts): the
 * transition engine stores it, the dispatcher (app/dispatcher.ts) carries it out.
 *
 * An episode is one stretch of "problem" for a subject: it starts with a firing alert,
 * may change severity (a new firing alert; routes already notified hear about it at
 * once, the others keep their `for` clock, which counts from the episode's start), and
 * ends with a resolved alert (sent to the routes that were notified and want it).
 */
import { alertId } from '../alert-id';
import type { Alert, Severity } from '../types';
import { evaluateRules, routeTimes as routeTimesByName, type Route, type RuleSet } from './evaluate';
import type { Delivery, MutedRoute, OutboxEntry, Routing, SubjectTimer, TimerAlert } from './outbox';
import { muteAt, MUTE_SEARCH_DAYS, type MuteVerdict, type RouteTimes, type TimeIntervals } from './time-intervals';
import type { MatchFacts } from './types';
import type { Silence } from './silences';
import { inhibitionSource } from './inhibit';
import { ackAfterChange, ackHolds, type Acknowledgement } from './acknowledgements';

export interface EpisodeRoute {
  severity: Severity;
  channels: string[];
  /** Epoch ms when the first notification is due (episode start + for). */
  dueAt: number;
  repeat: number;
  resolved: boolean;
  /** Epoch ms of the first notification of this episode, once sent. */
  notifiedAt?: number;
  /** Reminders sent so far. */
  reminders: number;
  /**
   * A notification to this route was muted by an active silence and not delivered since:
   * the sweeper announces it once the silence has ended (silenceEnded). A route that was
   * muted and never notified has no `notifiedAt`, so it never hears the RESOLVED.
   */
  muted?: MutedNotice;
}

/** What a silence held back from one route: the alert as the route would have read it. */
export interface MutedNotice {
  silence: string;
  /** ISO-8601 end of the silence as it stood when it muted. */
  endsAt: string;
  comment: string;
  alert: TimerAlert;
}

export interface Episode {
  /** Id of the alert that opened or last changed the episode; timers carry it. */
  id: string;
  /** Epoch ms the subject became a problem. */
  startedAt: number;
  /** Status the episode is about (the alert's `to`). */
  status: string;
  routes: Record<string, EpisodeRoute>;
  /** Recorded as a firing inhibition source (FiringSources): its end removes the entry. */
  inhibits?: true;
  /** The severity of the alert that opened or last changed it (absent: stored before issue 14). */
  severity?: Severity;
  /** Acknowledged (acknowledgements.ts): no reminders while it holds. */
  ack?: Acknowledgement;
}

/** Source state that takes part in episodes keeps the episode here. */
export interface Episodic {
  episode?: Episode;
}

export interface RouteAlertInput {
  rules: RuleSet;
  /** The alert the source decided on (severity and state are the source's proposal). */
  alert: Alert;
  /** The subject the alert is about (`check/<node>/<id>`, `member/<name>` ...). */
  subject: string;
  /** Episode stored with the subject. */
  previous: Episode | undefined;
  /** Facts beyond the alert's own fields: tags, meta, check name, event name, payload. */
  facts?: Partial<MatchFacts>;
  /** Events: no episode, no `for`/`repeat`/resolved; every route hears about it now. */
  momentary?: boolean;
  /**
   * Firing alerts: routes not notified yet in this episode are due no earlier than the
   * episode's start + this many seconds, whatever their `for` (a held alert, e.g. a Consul
   * check awaiting its first run). Routes already notified hear of a change at once.
   */
  holdSeconds?: number;
  nowMs: number;
}

export interface RouteAlertResult {
  /** Store this with the subject (undefined: no episode). */
  episode: Episode | undefined;
  /** The outbox entry (the alert, its facts and routing), or undefined when there is nothing to do. */
  outbox: OutboxEntry | undefined;
}

/**
 * The episode's key (Alert.episode): the subject and when its episode started, so that every
 * alert of one episode carries the same key and the next episode of the subject another.
 */
export function episodeKey(cluster: string, subject: string, startedAt: number): string {
  return alertId([cluster, 'episode', subject, startedAt]);
}

/** The facts rules and silences match on. */
export function alertFacts(alert: Alert, extra: Partial<MatchFacts> = {}): MatchFacts {
  const facts: MatchFacts = { source: alert.source, kind: alert.kind, cluster: alert.cluster, severity: alert.severity, to: alert.to, status: alert.to, ...extra };
  if (alert.node && alert.node !== '-') facts.node = alert.node;
  if (alert.service) facts.service = alert.service;
  if (alert.check) facts.check = alert.check;
  if (alert.from !== undefined) facts.from = alert.from;
  return facts;
}

const LABEL = (severity: Severity, state: Alert['state']) => (state === 'resolved' ? 'RESOLVED' : severity.toUpperCase());

/**
 * The alert as a route reads it: its severity, its state; titles following the
 * "LABEL: what" convention get the matching label.
 */
export function variant(alert: Alert, severity: Severity, state: Alert['state'], rules: string[]): Alert {
  const { channels: _channels, ...base } = alert;
  const oldLabel = `${LABEL(alert.severity, alert.state)}: `;
  const title = alert.title.startsWith(oldLabel) ? `${LABEL(severity, state)}: ${alert.title.slice(oldLabel.length)}` : alert.title;
  return { ...base, severity, state, title, rules };
}

/** Deliveries grouped by how the alert reads (severity/state): one SNS message each. */
function deliveries(alert: Alert, picks: Array<{ rule: string; route: { severity: Severity; channels: string[] } }>, state: Alert['state']): Delivery[] {
  const bySeverity = new Map<Severity, { rules: string[]; channels: string[] }>();
  for (const { rule, route } of picks) {
    if (route.channels.length === 0) continue;
    const g = bySeverity.get(route.severity) ?? { rules: [], channels: [] };
    g.rules.push(rule);
    for (const c of route.channels) if (!g.channels.includes(c)) g.channels.push(c);
    bySeverity.set(route.severity, g);
  }
  return [...bySeverity.entries()].map(([severity, g]) => ({ alert: variant(alert, severity, state, g.rules), channels: g.channels }));
}

function outboxEntry(alert: Alert, facts: MatchFacts, routing: Routing): OutboxEntry | undefined {
  if (routing.deliveries.length === 0 && routing.timers.length === 0 && !routing.muted?.length) return undefined;
  return { alert, facts, routing: routing.muted?.length ? routing : { deliveries: routing.deliveries, timers: routing.timers } };
}

/** When a muted step is tried again: the mute's end, or past the search horizon for a mute without one in sight. */
const retryAt = (mute: MuteVerdict, nowMs: number): number => mute.until ?? nowMs + MUTE_SEARCH_DAYS * 86_400_000;

function mutedRoute(rule: string, channels: string[], mute: MuteVerdict, outcome: MutedRoute['outcome']): MutedRoute {
  return { rule, channels, reason: mute.reason, outcome, ...(mute.until !== undefined ? { until: new Date(mute.until).toISOString() } : {}) };
}

/** Drops the routes a time interval mutes now (momentary and resolved notices: nothing to defer to). */
function unmuted<R extends { rule: string; route: { channels: string[]; times?: RouteTimes } }>(picks: R[], intervals: TimeIntervals, nowMs: number, muted: MutedRoute[]): R[] {
  return picks.filter((p) => {
    const mute = muteAt(p.route.times, intervals, nowMs);
    if (mute) muted.push(mutedRoute(p.rule, p.route.channels, mute, 'dropped'));
    return !mute;
  });
}

export function routeAlert(input: RouteAlertInput): RouteAlertResult {
  const { previous, nowMs } = input;
  const facts = alertFacts(input.alert, input.facts);
  // Momentary alerts have no episode; a resolved one belongs to the stored episode.
  const episodeStart = input.momentary ? undefined : input.alert.state === 'resolved' ? previous?.startedAt : (previous?.startedAt ?? nowMs);
  const alert: Alert = episodeStart === undefined ? input.alert : { ...input.alert, episode: episodeKey(input.alert.cluster, input.subject, episodeStart) };

  const intervals = input.rules.intervals ?? {};
  const muted: MutedRoute[] = [];

  if (input.momentary) {
    // Without an episode, a resolved alert goes to every route that wants resolved notices.
    const routes = evaluateRules(input.rules, facts).routes.filter((r) => alert.state !== 'resolved' || r.resolved);
    const picks = unmuted(routes.map((r) => ({ rule: r.rule, route: r })), intervals, nowMs, muted);
    return { episode: previous, outbox: outboxEntry(alert, facts, { deliveries: deliveries(alert, picks, alert.state), timers: [], muted }) };
  }

  if (alert.state === 'resolved') {
    if (!previous) return { episode: undefined, outbox: undefined };
    const notified = Object.entries(previous.routes).filter(([, r]) => r.notifiedAt !== undefined && r.resolved);
    const picks = unmuted(notified.map(([rule, route]) => ({ rule, route: { ...route, ...timesField(routeTimesOf(input.rules, rule)) } })), intervals, nowMs, muted);
    return { episode: undefined, outbox: outboxEntry(alert, facts, { deliveries: deliveries(alert, picks, 'resolved'), timers: [], muted }) };
  }

  // Firing: a new episode, or a change within the current one.
  const startedAt = previous?.startedAt ?? nowMs;
  const { routes } = evaluateRules(input.rules, facts);
  // A worse severity clears an acknowledgement; a new episode has none (acknowledgements.ts).
  const ack = ackAfterChange(previous?.ack, alert.severity);
  const episode: Episode = { id: alert.id, startedAt, status: alert.to, routes: {}, severity: alert.severity, ...(ack ? { ack } : {}) };
  const now: Array<{ rule: string; route: Route }> = [];
  const timers: SubjectTimer[] = [];
  for (const route of routes) {
    const dueAt = startedAt + Math.max(route.for, input.holdSeconds ?? 0) * 1000;
    const before = previous?.routes[route.rule];
    const stored: EpisodeRoute = { severity: route.severity, channels: route.channels, dueAt, repeat: route.repeat, resolved: route.resolved, reminders: 0 };
    const mute = before?.notifiedAt !== undefined || dueAt <= nowMs ? muteAt(route.times, intervals, nowMs) : undefined;
    const timerAlert = (): TimerAlert => ({ ...variant(alert, route.severity, 'firing', [route.rule]), facts });
    if (mute) {
      // Muted by a time interval: heard when the mute ends, if still firing. A route that heard
      // the episode gets the change as a reminder then; the others, their first notice.
      muted.push(mutedRoute(route.rule, route.channels, mute, 'deferred'));
      if (before?.notifiedAt !== undefined) {
        stored.notifiedAt = before.notifiedAt;
        timers.push(subjectTimer('repeat', input, episode.id, route.rule, 0, retryAt(mute, nowMs), timerAlert()));
      } else {
        timers.push(subjectTimer('for', input, episode.id, route.rule, 0, retryAt(mute, nowMs), timerAlert()));
      }
    } else if (before?.notifiedAt !== undefined || dueAt <= nowMs) {
      stored.notifiedAt = nowMs;
      now.push({ rule: route.rule, route });
      if (route.repeat > 0) timers.push(subjectTimer('repeat', input, episode.id, route.rule, 0, nowMs + route.repeat * 1000, { ...variant(alert, route.severity, 'firing', [route.rule]), facts }));
    } else {
      timers.push(subjectTimer('for', input, episode.id, route.rule, 0, dueAt, { ...variant(alert, route.severity, 'firing', [route.rule]), facts }));
    }
    episode.routes[route.rule] = stored;
  }
  return { episode, outbox: outboxEntry(alert, facts, { deliveries: deliveries(alert, now, 'firing'), timers, muted }) };
}

const timesField = (times: RouteTimes | undefined): { times?: RouteTimes } => (times ? { times } : {});

/** A stored route's time intervals, read from the rules as they stand now. */
function routeTimesOf(rules: RuleSet, rule: string): RouteTimes | undefined {
  return rules.intervals && Object.keys(rules.intervals).length > 0 ? routeTimesByName(rules, rule) : undefined;
}

/** Time muting as the timer worker sees it: the rules' intervals, looked up by route name. */
export interface TimeMutes {
  intervals: TimeIntervals;
  times(rule: string): RouteTimes | undefined;
}

/** The rules' time muting, by route name, as the config stands now. */
export const timeMutesOf = (rules: RuleSet): TimeMutes => ({ intervals: rules.intervals, times: (rule) => routeTimesByName(rules, rule) });

function subjectTimer(kind: SubjectTimer['kind'], input: RouteAlertInput, episode: string, rule: string, seq: number, dueAt: number, alert: TimerAlert): SubjectTimer {
  return { kind, cluster: input.alert.cluster, subject: input.subject, episode, rule, seq, dueAt, alert };
}

export interface TimerOutcome {
  /** Store this episode (unchanged: nothing to do). */
  episode: Episode | undefined;
  /** The outbox entry to dispatch, if the timer still applies. */
  outbox: OutboxEntry | undefined;
}

/**
 * A `for` or `repeat` timer fired: if the episode it belongs to is still the stored
 * one (the condition persisted) and this step was not done yet, notify the route and
 * schedule its next reminder. Anything else (resolved, changed, duplicate): nothing.
 */
export function fireTimer(timer: SubjectTimer, stored: Episode | undefined, nowMs: number, mutes?: TimeMutes): TimerOutcome {
  const none = { episode: stored, outbox: undefined };
  if (!stored || stored.id !== timer.episode) return none;
  const route = stored.routes[timer.rule];
  if (!route) return none;
  if (timer.kind === 'for' ? route.notifiedAt !== undefined : route.notifiedAt === undefined || route.reminders !== timer.seq) return none;
  const mute = mutes ? muteAt(mutes.times(timer.rule), mutes.intervals, nowMs) : undefined;
  if (mute) {
    // Still muted (the step fell in a mute interval): the same step, at the mute's end.
    const { facts = alertFacts(timer.alert), ...held } = timer.alert;
    const routing: Routing = { deliveries: [], timers: [{ ...timer, dueAt: retryAt(mute, nowMs) }], muted: [mutedRoute(timer.rule, route.channels, mute, 'deferred')] };
    return { episode: stored, outbox: { alert: held, facts, routing } };
  }
  let alert: TimerAlert;
  let next: EpisodeRoute;
  if (timer.kind === 'for') {
    if (route.notifiedAt !== undefined) return none;
    alert = timer.alert;
    const { muted: _muted, ...rest } = route;
    next = { ...rest, notifiedAt: nowMs };
  } else {
    if (route.notifiedAt === undefined || route.reminders !== timer.seq) return none;
    alert = { ...timer.alert, reminder: timer.seq + 1, id: `${timer.alert.id}-r${timer.seq + 1}` };
    next = { ...route, reminders: timer.seq + 1 };
    if (ackHolds(stored.ack, nowMs)) {
      // Acknowledged: this reminder is not sent, the next one is still planned (the acknowledgement may expire).
      const episode: Episode = { ...stored, routes: { ...stored.routes, [timer.rule]: next } };
      const { facts = alertFacts(alert), ...held } = alert;
      const timers: SubjectTimer[] = route.repeat > 0 ? [{ ...timer, kind: 'repeat', seq: timer.seq + 1, dueAt: nowMs + route.repeat * 1000, alert: timer.alert }] : [];
      return { episode, outbox: { alert: held, facts, routing: { deliveries: [], timers } } };
    }
  }
  const timers: SubjectTimer[] = [];
  if (route.repeat > 0) {
    const seq = timer.kind === 'for' ? 0 : timer.seq + 1;
    timers.push({ ...timer, kind: 'repeat', seq, dueAt: nowMs + route.repeat * 1000, alert: timer.alert });
  }
  const episode: Episode = { ...stored, routes: { ...stored.routes, [timer.rule]: next } };
  const { facts = alertFacts(alert), ...published } = alert;
  const delivered: Delivery[] = route.channels.length > 0 ? [{ alert: published, channels: route.channels }] : [];
  return { episode, outbox: { alert: published, facts, routing: { deliveries: delivered, timers } } };
}

/**
 * The transition engine found an active silence matching a firing entry (not a reminder)
 * about to be written: nothing is delivered now, and every route the entry was for keeps
 * the alert it would have read (`muted`), to be announced when the silence ends. A route
 * keeps `notifiedAt` only if it had heard this episode before; otherwise it has not heard
 * the alert, and will not hear its RESOLVED either. Timers stay (a reminder re-checks).
 */
export function muteEntry(previous: Episode | undefined, episode: Episode, entry: OutboxEntry, silence: Silence): { episode: Episode; entry: OutboxEntry } {
  const routes = { ...episode.routes };
  const facts = entry.facts ?? alertFacts(entry.alert);
  for (const d of entry.routing?.deliveries ?? []) {
    for (const rule of d.alert.rules ?? []) {
      const route = routes[rule];
      if (!route) continue;
      const before = previous && previous.startedAt === episode.startedAt ? previous.routes[rule]?.notifiedAt : undefined;
      const { notifiedAt: _n, ...rest } = route;
      const alert: TimerAlert = { ...d.alert, rules: [rule], facts };
      routes[rule] = { ...rest, ...(before !== undefined ? { notifiedAt: before } : {}), muted: { silence: silence.id, endsAt: silence.endsAt, comment: silence.comment, alert } };
    }
  }
  return {
    episode: { ...episode, routes },
    entry: { ...entry, routing: { deliveries: [], timers: entry.routing?.timers ?? [], ...(entry.routing?.flapTimer ? { flapTimer: entry.routing.flapTimer } : {}) }, silencedBy: silence.id },
  };
}

/** The detail line an announcement after a silence carries. */
export const SILENCED_UNTIL = 'silenced until';
/** ... and after an inhibition (its source no longer firing). */
export const INHIBITED_UNTIL = 'inhibited until';

/**
 * A silence that muted this subject has ended (sweeper): every route still holding a
 * muted notice of the stored (still firing) episode hears it now, once, with a detail
 * saying it was silenced until then. The decision goes through the engine's
 * compare-and-set, so two sweeps at once give one notice; if another active silence
 * matches, the engine mutes it again (muteEntry) and it waits for that one to end.
 * A resolved episode is gone from the store: nothing to announce.
 */
export function silenceEnded(
  subject: string,
  cluster: string,
  stored: Episode | undefined,
  nowMs: number,
  /** The silences as they stand now: one expired early ends when it was expired, not when it was planned to. */
  current: ReadonlyMap<string, Pick<Silence, 'endsAt' | 'comment'>> = new Map(),
  /** The rules' time intervals: a route muted by one now hears the announcement when that mute ends. */
  mutes?: TimeMutes,
): { episode: Episode; outbox: OutboxEntry } | undefined {
  if (!stored) return undefined;
  const muted = Object.entries(stored.routes).filter(([, r]) => r.muted !== undefined);
  if (muted.length === 0) return undefined;
  const routes = { ...stored.routes };
  const bySeverity = new Map<Severity, { alert: TimerAlert; rules: string[]; channels: string[] }>();
  const timers: SubjectTimer[] = [];
  const deferred: MutedRoute[] = [];
  for (const [rule, route] of muted) {
    const notice = route.muted!;
    const { muted: _m, ...rest } = route;
    const now = current.get(notice.silence);
    const line: [string, string] =
      inhibitionSource(notice.silence) === undefined
        ? [SILENCED_UNTIL, `${now?.endsAt ?? notice.endsAt} (silence ${notice.silence}: ${now?.comment ?? notice.comment})`]
        : [INHIBITED_UNTIL, `${now?.endsAt ?? notice.endsAt} (${notice.comment})`];
    const alert: TimerAlert = { ...notice.alert, details: [...notice.alert.details.filter(([k]) => k !== SILENCED_UNTIL && k !== INHIBITED_UNTIL), line] };
    const timeMute = mutes ? muteAt(mutes.times(rule), mutes.intervals, nowMs) : undefined;
    if (timeMute) {
      // Muted by a time interval now: the announcement waits for the mute's end, as any firing notice does.
      routes[rule] = rest;
      const kind = route.notifiedAt === undefined ? 'for' : 'repeat';
      timers.push({ kind, cluster, subject, episode: stored.id, rule, seq: kind === 'for' ? 0 : route.reminders, dueAt: retryAt(timeMute, nowMs), alert });
      deferred.push(mutedRoute(rule, route.channels, timeMute, 'deferred'));
      continue;
    }
    routes[rule] = { ...rest, notifiedAt: route.notifiedAt ?? nowMs };
    if (route.notifiedAt === undefined && route.repeat > 0) {
      timers.push({ kind: 'repeat', cluster, subject, episode: stored.id, rule, seq: route.reminders, dueAt: nowMs + route.repeat * 1000, alert: { ...notice.alert } });
    }
    const g = bySeverity.get(alert.severity) ?? { alert, rules: [], channels: [] };
    g.rules.push(rule);
    for (const c of route.channels) if (!g.channels.includes(c)) g.channels.push(c);
    bySeverity.set(alert.severity, g);
  }
  const ds: Delivery[] = [...bySeverity.values()].filter((g) => g.channels.length > 0).map((g) => {
    const { facts: _f, ...alert } = g.alert;
    return { alert: { ...alert, rules: g.rules }, channels: g.channels };
  });
  const first = [...bySeverity.values()][0]?.alert ?? muted[0]![1].muted!.alert;
  const { facts = alertFacts(first), ...published } = first;
  const id = `${published.id}-after-${muted[0]![1].muted!.silence}`;
  const routing: Routing = { deliveries: ds.map((d) => ({ ...d, alert: { ...d.alert, id: `${d.alert.id}-after-${muted[0]![1].muted!.silence}` } })), timers, ...(deferred.length ? { muted: deferred } : {}) };
  return { episode: { ...stored, routes }, outbox: { alert: { ...published, id }, facts, routing } };
}
