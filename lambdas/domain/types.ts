/** Plain types shared by the domain, the adapters, the shim and the handlers. */

/** Where an envelope or an alert comes from: an agent's handler, or tocsin itself (heartbeats). */
export type Source = 'consul' | 'serf' | 'tocsin';

/** Consul watch types a handler can be registered for. */
export const CONSUL_WATCH_TYPES = [
  'key',
  'keyprefix',
  'services',
  'nodes',
  'service',
  'checks',
  'event',
  'agent_service',
] as const;
export type ConsulWatchType = (typeof CONSUL_WATCH_TYPES)[number];

/** SERF_EVENT values. */
export const SERF_EVENT_TYPES = [
  'member-join',
  'member-leave',
  'member-failed',
  'member-update',
  'member-reap',
  'user',
  'query',
] as const;
export type SerfEventType = (typeof SERF_EVENT_TYPES)[number];

/**
 * What the shim POSTs to the ingest route: one handler invocation, verbatim.
 * The backend, not the shim, interprets the body.
 */
export interface Envelope {
  v: 1;
  cluster: string;
  source: Source;
  /** Consul watch type or SERF_EVENT value. */
  type: string;
  /**
   * Distinguishes several watches of one type with different parameters
   * (e.g. two `checks` watches filtered by service). Defaults to `type`.
   */
  scope?: string;
  /** Node that ran the handler (hostname unless configured). */
  node: string;
  /** CONSUL_INDEX / SERF_USER_LTIME etc., kept as a string: may exceed 2^53. */
  index: string | null;
  /** ISO-8601 time the handler ran. */
  sentAt: string;
  /** stdin as UTF-8 text, or base64 when it is not valid UTF-8. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** Relevant handler environment (SERF_*, CONSUL_*), for Serf in particular. */
  env?: Record<string, string>;
  /**
   * Consul `checks` watches only. When true, `body` is not the whole list but what changed
   * since the snapshot this sender last delivered (lambdas/domain/consul/check-deltas.ts), and
   * `base` is that snapshot's highest ModifyIndex. The API answers 409 `{"needFull": true}`
   * when it cannot apply the delta (no baseline for the scope, or `base` ahead of what it
   * has processed); the sender then sends the whole list. Absent: a whole snapshot.
   */
  delta?: true;
  /** With `delta`: digits, the base snapshot's highest ModifyIndex. */
  base?: string;
  /**
   * Consul checks, key, keyprefix, service and nodes watches: `projected` when `body` is the
   * compact form of the watch result, each entry cut to what the backend reads
   * (lambdas/domain/consul/wire-form.ts). Absent: the watch result as Consul wrote it.
   */
  form?: 'projected';
}

/** A HealthCheck's Status, as Consul reports it. */
export const CHECK_STATUSES = ['passing', 'warning', 'critical', 'maintenance'] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One Consul health check, as seen in one snapshot. */
export interface CheckObservation {
  node: string;
  checkId: string;
  name: string;
  status: CheckStatus;
  serviceId: string;
  serviceName: string;
  serviceTags: string[];
  type: string;
  output: string;
  notes: string;
  modifyIndex: number;
  /** Raft index at registration; 0 when not given. */
  createIndex: number;
  definition?: Record<string, unknown>;
}

export type Severity = 'critical' | 'warning' | 'info';

/** Higher is worse: a channel's minimum severity S takes every severity ranked >= S; digests list the worst first. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 1, warning: 2, critical: 3 };

/** Firing alerts announce a problem; resolved ones say it is over. */
export type AlertState = 'firing' | 'resolved';

/** What the pipeline publishes: one per real change. Its outbox entry (rules/outbox.ts) adds facts and routing. */
export interface Alert {
  /** Deterministic: the same change always yields the same id. */
  id: string;
  cluster: string;
  source: Source;
  /** What changed: check, event, member, key, catalog ... */
  kind: string;
  severity: Severity;
  state: AlertState;
  node: string;
  service?: string;
  check?: string;
  /** One-line human title, e.g. "CRITICAL: web-1 / service:web (HTTP on :80)". */
  title: string;
  /** Previous and new status of the subject. */
  from?: string;
  to: string;
  /** When the change was observed (ISO-8601). */
  at: string;
  /** When the previous state began, if known (ISO-8601). */
  since?: string;
  /** Ordered key/value facts for the body (check type, output excerpt ...). */
  details: Array<[string, string]>;
  /** Channels this message is for (set when it is published; the `channels` message attribute). */
  channels?: string[];
  /** Rules that routed it ("default" when none matched). */
  rules?: string[];
  /** Reminder number, for `repeat` reminders of a firing alert. */
  reminder?: number;
  /**
   * The subject's problem episode (rules/episodes.ts episodeKey): the same on its firing
   * alert, severity changes, reminders and its resolved alert; a new episode gets a new one.
   * Absent on momentary alerts (events, notices) and digests. What PagerDuty's dedup_key
   * and the webhook's `episode` carry.
   */
  episode?: string;
  /** A storm digest: this many notifications of the window folded into this one. */
  digest?: { count: number; windowStart: string; windowSeconds: number };
}
