/**
 * What a decision leaves in its subject's outbox: the alert, the facts rules and silences
 * match on, and the routing the rules planned for it (deliveries now, timers for later).
 * The transition engine stores the entry with the subject's state until the dispatcher
 * (app/dispatcher.ts) has carried it out. The entry itself is never published: each
 * delivery's alert is, with its channels.
 */
import type { Alert } from '../types';
import type { MatchFacts } from './types';

export interface OutboxEntry {
  alert: Alert;
  /** What rules and silences match on; absent: the alert's own fields. */
  facts?: MatchFacts;
  /** Planned by the rules (episodes.ts routeAlert); absent: the dispatcher routes the alert as momentary. */
  routing?: Routing;
  /** The engine muted its deliveries for this active silence (episodes.ts muteEntry). */
  silencedBy?: string;
}

/** Deliveries now, timers for later. */
export interface Routing {
  deliveries: Delivery[];
  timers: SubjectTimer[];
  /** The end of the subject's flapping (rules/flapping.ts), scheduled with the timers. */
  flapTimer?: FlapTimer;
  /** Routes a time interval muted now (time-intervals.ts): logged by the dispatcher. */
  muted?: MutedRoute[];
}

/** A route held back by its mute/active time intervals. */
export interface MutedRoute {
  rule: string;
  channels: string[];
  /** The interval that mutes it, or "outside <active intervals>". */
  reason: string;
  /** What became of the notice: deferred to the mute's end (a timer), or dropped (momentary and resolved notices). */
  outcome: 'deferred' | 'dropped';
  /** ISO-8601 end of the mute, when known within the search horizon. */
  until?: string;
}

/** One published message: the alert as this route reads it, for these channels. */
export interface Delivery {
  alert: Alert;
  channels: string[];
}

/**
 * What a subject timer sends when it fires, with the facts silences then match on. Flat
 * (the alert's fields plus `facts`), as timers travel on the queue and sit in stored
 * routing; timers queued before facts travelled with them have none.
 */
export interface TimerAlert extends Alert {
  facts?: MatchFacts;
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
  alert: TimerAlert;
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

/**
 * Go on with a snapshot whose request ran out of time (app/sources/check-snapshots.ts): the
 * rest of its work is stored under `id` in the cluster's partition. Travels on the timers
 * queue and is indexed like every timer, so the sweeper runs it if the message is lost.
 */
export interface ContinuationTimer {
  kind: 'continue';
  cluster: string;
  /** What continues: the source whose work it is. */
  source: 'consul-checks';
  /** The scope (full name, e.g. `consul-checks/checks`). */
  scope: string;
  /** The part to run (its stored plan; the scope's marker names the current one). */
  id: string;
  /** Subjects left when it was queued (logs). */
  remaining: number;
  dueAt: number;
}

/**
 * End a subject's flapping (rules/flapping.ts) once it has been stable long enough: when it
 * fires, a change since puts it back for the new end; none sends the final notice, once
 * (the subject's compare-and-set).
 */
export interface FlapTimer {
  kind: 'flapping';
  cluster: string;
  subject: string;
  /** The flapping stretch (Flapping.id); another stored id, or none: the step is stale. */
  flap: string;
  dueAt: number;
}

export type Timer = SubjectTimer | DigestTimer | ContinuationTimer | FlapTimer;
