/**
 * Episodes and route planning: given the alert a source decided on and the episode stored
 * with its subject, which channels hear about it now, which later (`for`, `repeat`),
 * and what to store. Pure. The result travels through the transition engine's outbox
 * as the alert's `routing`; the dispatcher (app/dispatcher.ts) executes it.
 *
 * An episode is one stretch of "problem" for a subject: it starts with a firing alert,
 * may change severity (a new firing alert; routes already notified hear about it at
 * once, the others keep their `for` clock, which counts from the episode's start), and
 * ends with a resolved alert (sent to the routes that were notified and want it).
 */
import type { Alert, Severity } from '../types';
import { evaluateRules, type Route, type RuleSet } from './evaluate';
import type { MatchFacts } from './types';

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
}

export interface Episode {
  /** Id of the alert that opened or last changed the episode; timers carry it. */
  id: string;
  /** Epoch ms the subject became a problem. */
  startedAt: number;
  /** Status the episode is about (the alert's `to`). */
  status: string;
  routes: Record<string, EpisodeRoute>;
}

/** Source state that takes part in episodes keeps the episode here. */
export interface Episodic {
  episode?: Episode;
}

/** One SNS message: the alert as this route reads it, for these channels. */
export interface Delivery {
  alert: Alert;
  channels: string[];
}

/** Re-check a subject later (SQS delay queue): first notification after `for`, or a reminder. */
export interface SubjectTimer {
  kind: 'for' | 'repeat';
  cluster: string;
  subject: string;
  /** Episode id the timer belongs to; a different stored id means the condition changed. */
  episode: string;
  rule: string;
  /** For reminders: how many reminders must have been sent before this one. */
  seq: number;
  dueAt: number;
  /** What to send when it fires. */
  alert: Alert;
}

/** Send the storm digest of (cluster, channel, window) when the window closes. */
export interface DigestTimer {
  kind: 'digest';
  cluster: string;
  channel: string;
  /** Window start, epoch ms. */
  window: number;
  dueAt: number;
}

export type Timer = SubjectTimer | DigestTimer;

/** The outbox side of a decision: deliveries now, timers for later, facts for silences. */
export interface Routing {
  deliveries: Delivery[];
  timers: SubjectTimer[];
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
  nowMs: number;
}

export interface RouteAlertResult {
  /** Store this with the subject (undefined: no episode). */
  episode: Episode | undefined;
  /** The outbox entry (the alert with `routing`), or undefined when there is nothing to do. */
  alert: Alert | undefined;
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
  const { routing: _routing, channels: _channels, facts: _facts, ...base } = alert;
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

function carrier(alert: Alert, facts: MatchFacts, routing: Routing): Alert | undefined {
  if (routing.deliveries.length === 0 && routing.timers.length === 0) return undefined;
  return { ...alert, facts, routing };
}

export function routeAlert(input: RouteAlertInput): RouteAlertResult {
  const { alert, previous, nowMs } = input;
  const facts = alertFacts(alert, input.facts);

  if (input.momentary) {
    // Without an episode, a resolved alert goes to every route that wants resolved notices.
    const routes = evaluateRules(input.rules, facts).routes.filter((r) => alert.state !== 'resolved' || r.resolved);
    const ds = deliveries(alert, routes.map((r) => ({ rule: r.rule, route: r })), alert.state);
    return { episode: previous, alert: carrier(alert, facts, { deliveries: ds, timers: [] }) };
  }

  if (alert.state === 'resolved') {
    if (!previous) return { episode: undefined, alert: undefined };
    const notified = Object.entries(previous.routes).filter(([, r]) => r.notifiedAt !== undefined && r.resolved);
    const ds = deliveries(alert, notified.map(([rule, route]) => ({ rule, route })), 'resolved');
    return { episode: undefined, alert: carrier(alert, facts, { deliveries: ds, timers: [] }) };
  }

  // Firing: a new episode, or a change within the current one.
  const startedAt = previous?.startedAt ?? nowMs;
  const { routes } = evaluateRules(input.rules, facts);
  const episode: Episode = { id: alert.id, startedAt, status: alert.to, routes: {} };
  const now: Array<{ rule: string; route: Route }> = [];
  const timers: SubjectTimer[] = [];
  for (const route of routes) {
    const dueAt = startedAt + route.for * 1000;
    const before = previous?.routes[route.rule];
    const stored: EpisodeRoute = { severity: route.severity, channels: route.channels, dueAt, repeat: route.repeat, resolved: route.resolved, reminders: 0 };
    if (before?.notifiedAt !== undefined || dueAt <= nowMs) {
      stored.notifiedAt = nowMs;
      now.push({ rule: route.rule, route });
      if (route.repeat > 0) timers.push(subjectTimer('repeat', input, episode.id, route.rule, 0, nowMs + route.repeat * 1000, { ...variant(alert, route.severity, 'firing', [route.rule]), facts }));
    } else {
      timers.push(subjectTimer('for', input, episode.id, route.rule, 0, dueAt, { ...variant(alert, route.severity, 'firing', [route.rule]), facts }));
    }
    episode.routes[route.rule] = stored;
  }
  return { episode, alert: carrier(alert, facts, { deliveries: deliveries(alert, now, 'firing'), timers }) };
}

function subjectTimer(kind: SubjectTimer['kind'], input: RouteAlertInput, episode: string, rule: string, seq: number, dueAt: number, alert: Alert): SubjectTimer {
  return { kind, cluster: input.alert.cluster, subject: input.subject, episode, rule, seq, dueAt, alert };
}

export interface TimerOutcome {
  /** Store this episode (unchanged: nothing to do). */
  episode: Episode | undefined;
  /** The outbox entry to publish, if the timer still applies. */
  alert: Alert | undefined;
}

/**
 * A `for` or `repeat` timer fired: if the episode it belongs to is still the stored
 * one (the condition persisted) and this step was not done yet, notify the route and
 * schedule its next reminder. Anything else (resolved, changed, duplicate): nothing.
 */
export function fireTimer(timer: SubjectTimer, stored: Episode | undefined, nowMs: number): TimerOutcome {
  const none = { episode: stored, alert: undefined };
  if (!stored || stored.id !== timer.episode) return none;
  const route = stored.routes[timer.rule];
  if (!route) return none;
  let alert: Alert;
  let next: EpisodeRoute;
  if (timer.kind === 'for') {
    if (route.notifiedAt !== undefined) return none;
    alert = timer.alert;
    next = { ...route, notifiedAt: nowMs };
  } else {
    if (route.notifiedAt === undefined || route.reminders !== timer.seq) return none;
    alert = { ...timer.alert, reminder: timer.seq + 1, id: `${timer.alert.id}-r${timer.seq + 1}` };
    next = { ...route, reminders: timer.seq + 1 };
  }
  const timers: SubjectTimer[] = [];
  if (route.repeat > 0) {
    const seq = timer.kind === 'for' ? 0 : timer.seq + 1;
    timers.push({ ...timer, kind: 'repeat', seq, dueAt: nowMs + route.repeat * 1000, alert: timer.alert });
  }
  const episode: Episode = { ...stored, routes: { ...stored.routes, [timer.rule]: next } };
  const facts = timer.alert.facts ?? alertFacts(timer.alert);
  const delivered: Delivery[] = route.channels.length > 0 ? [{ alert: stripCarrier(alert), channels: route.channels }] : [];
  return { episode, alert: { ...stripCarrier(alert), facts, routing: { deliveries: delivered, timers } } };
}

function stripCarrier(alert: Alert): Alert {
  const { routing: _r, facts: _f, ...rest } = alert;
  return rest;
}
