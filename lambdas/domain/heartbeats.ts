/**
 * Heartbeats: who watches the watchmen. A watcher is a (cluster, reporting node) that has
 * sent tocsin at least one envelope (a watch result, a Serf event, or a `tocsin-shim
 * heartbeat`); from then on it is expected. One silent for `missingAfter` is missing (a
 * warning on subject `watcher/<node>`); every known watcher of a cluster missing makes the
 * cluster silent (a critical on subject `watchers`). Both resolve when a report arrives.
 * Pure: settings, subjects, the decisions and the alerts. The rules are in docs/heartbeats.md.
 */
import { alertId } from './alert-id';
import { formatDuration } from './rules/duration';
import type { Alert } from './types';
import { alertVocabulary } from './alert-vocabulary';

/** Seconds. */
export interface HeartbeatSettings {
  /** How often each node sends `tocsin-shim heartbeat`. */
  every: number;
  /** A watcher silent this long is missing. */
  missingAfter: number;
}

/** tocsin.yaml `heartbeats:` as the runtime config carries it: the defaults, and per cluster the merged settings. */
export interface HeartbeatsSpec extends HeartbeatSettings {
  clusters?: Record<string, HeartbeatSettings>;
}

export const HEARTBEAT_DEFAULTS: Readonly<HeartbeatSettings> = { every: 60, missingAfter: 300 };

/** What heartbeat alerts carry, for rules and silences: source, kind, and every `from`/`to` (status) value. */
export const HEARTBEAT_ALERTS = {
  source: 'tocsin',
  kind: 'heartbeat',
  statuses: ['reporting', 'missing', 'retired', 'silent', 'unwatched'],
} as const;

/** What heartbeat alerts can say, for rules and silences (rules/vocabulary.ts). */
export const HEARTBEAT_VOCABULARY = alertVocabulary({
  source: HEARTBEAT_ALERTS.source,
  kind: HEARTBEAT_ALERTS.kind,
  severity: ['warning', 'critical'],
  to: ['missing', 'reporting', 'retired', 'silent', 'unwatched'],
  from: ['reporting', 'missing', 'silent'],
  fromMayBeAbsent: false,
});

/** missingAfter >= this x every: one lost heartbeat (a restart, a throttled request) must not alert. */
export const MISSING_AFTER_MIN_FACTOR = 2;

export function heartbeatSettings(spec: HeartbeatsSpec | undefined, cluster: string): HeartbeatSettings {
  const own = spec?.clusters && Object.prototype.hasOwnProperty.call(spec.clusters, cluster) ? spec.clusters[cluster] : undefined;
  if (own) return { every: own.every, missingAfter: own.missingAfter };
  return spec ? { every: spec.every, missingAfter: spec.missingAfter } : { ...HEARTBEAT_DEFAULTS };
}

export const WATCHER_SUBJECT_PREFIX = 'watcher/';
/** The cluster's own subject: silent when every known watcher is missing. */
export const CLUSTER_SILENCE_SUBJECT = 'watchers';
/** What every heartbeat subject starts with (`watcher/<node>`, `watchers`), and no other subject does. */
export const HEARTBEAT_SUBJECTS_PREFIX = 'watcher';

export function watcherSubject(node: string): string {
  return `${WATCHER_SUBJECT_PREFIX}${node}`;
}

/** What the store keeps about a watcher's signs of life (epoch ms). */
export interface WatcherSigns {
  node: string;
  firstSeenAt: number;
  /** The latest envelope of any kind, heartbeats included. */
  seenAt: number;
  /** The latest envelope from a watch or event handler (not a heartbeat), and its `source/type`. */
  reportAt?: number;
  via?: string;
  /** Set when the watcher was declared missing and not yet seen resolved: the report path resolves at once. */
  missingSince?: number;
}

/**
 * Silent: nothing for at least missingAfter. `graceFromMs` (npm start: when the runner
 * started) counts as a sign of life, so a pipeline that was down does not blame its watchers.
 */
export function silentFor(seenAtMs: number, nowMs: number, graceFromMs?: number): number {
  return Math.max(0, nowMs - Math.max(seenAtMs, graceFromMs ?? 0));
}

export function isSilent(seenAtMs: number, nowMs: number, settings: HeartbeatSettings, graceFromMs?: number): boolean {
  return silentFor(seenAtMs, nowMs, graceFromMs) >= settings.missingAfter * 1000;
}

export type WatcherStatus = 'reporting' | 'missing' | 'retired';

/** Stored under `watcher/<node>` (with the episode routing keeps). */
export interface WatcherAlertState {
  node: string;
  status: WatcherStatus;
  /** ISO time the status began. */
  since: string;
  /** ISO time of the last sign of life known when the status began. */
  lastSeenAt?: string;
}

export type ClusterSilenceStatus = 'reporting' | 'silent';

/** Stored under `watchers`. */
export interface ClusterSilenceState {
  status: ClusterSilenceStatus;
  since: string;
}

/** A source's decision before routing (app/sources/routing.ts SourceDecision has this shape). */
export type HeartbeatDecision<S> = { kind: 'ignore' } | { kind: 'write'; state: S; alert?: Alert; ttlSeconds?: number };

/** Retired subjects are kept this long (what a later `watchers` listing has no use for). */
export const RETIRED_RETENTION_SECONDS = 30 * 24 * 3600;

const iso = (ms: number) => new Date(ms).toISOString();
const whole = (ms: number) => formatDuration(Math.floor(ms / 1000));

export interface WatcherObservation {
  cluster: string;
  /** The subject record's revision (0 when none): part of the alert id. */
  revision: number;
  nowMs: number;
  signs: Pick<WatcherSigns, 'node' | 'seenAt' | 'reportAt' | 'via'>;
  silent: boolean;
  settings: HeartbeatSettings;
}

function base(cluster: string, node: string, parts: Array<string | number>): Pick<Alert, 'id' | 'cluster' | 'source' | 'kind' | 'node'> {
  return { id: alertId([cluster, 'heartbeat', ...parts]), cluster, source: HEARTBEAT_ALERTS.source, kind: HEARTBEAT_ALERTS.kind, node };
}

/** Missing when silent; reporting again (resolved) when it was missing and is not silent. */
export function decideWatcher(prev: WatcherAlertState | undefined, o: WatcherObservation): HeartbeatDecision<WatcherAlertState> {
  const { cluster, nowMs, signs, settings } = o;
  const { node } = signs;
  const now = iso(nowMs);
  const lastSeenAt = iso(signs.seenAt);
  // The record knows a later sign of life than these signs (a report resolved it after a
  // sweep read the watcher list, and that sweep lost the compare-and-set to it): stale.
  const prevSeen = prev?.lastSeenAt !== undefined ? Date.parse(prev.lastSeenAt) : NaN;
  if (prevSeen > signs.seenAt) return { kind: 'ignore' };
  if (o.silent && prev?.status !== 'missing') {
    const state: WatcherAlertState = { node, status: 'missing', since: now, lastSeenAt };
    const details: Array<[string, string]> = [
      ['Watcher', node],
      ['Last sign of life', `${lastSeenAt} (${whole(nowMs - signs.seenAt)} ago)`],
      ['Last handler report', signs.reportAt !== undefined ? `${iso(signs.reportAt)}${signs.via ? ` (${signs.via})` : ''}` : 'none (heartbeats only)'],
      ['Expected', `a heartbeat every ${formatDuration(settings.every)}; missing after ${formatDuration(settings.missingAfter)}`],
      ['Check', 'the agent on the node, its watch or event handler configuration, the tocsin-shim heartbeat timer, and the network path to tocsin'],
    ];
    const alert: Alert = {
      ...base(cluster, node, [watcherSubject(node), o.revision, 'missing']),
      severity: 'warning',
      state: 'firing',
      title: `WARNING: watcher ${node} of ${cluster} has not reported for ${formatDuration(settings.missingAfter)} (last at ${lastSeenAt})`,
      from: 'reporting',
      to: 'missing',
      at: now,
      since: lastSeenAt,
      details,
    };
    return { kind: 'write', state, alert };
  }
  if (!o.silent && prev?.status === 'missing') {
    const state: WatcherAlertState = { node, status: 'reporting', since: now, lastSeenAt };
    const missingMs = Date.parse(prev.since);
    const silence = prev.lastSeenAt ? nowMs - Date.parse(prev.lastSeenAt) : undefined;
    const alert: Alert = {
      ...base(cluster, node, [watcherSubject(node), o.revision, 'reporting']),
      severity: 'warning',
      state: 'resolved',
      title: `RESOLVED: watcher ${node} of ${cluster} reports again${silence !== undefined ? ` (silent for ${whole(silence)})` : ''}`,
      from: 'missing',
      to: 'reporting',
      at: now,
      since: prev.since,
      details: [
        ['Watcher', node],
        ['Reported at', lastSeenAt],
        ['Missing since', `${prev.since}${Number.isFinite(missingMs) ? ` (${whole(nowMs - missingMs)})` : ''}`],
      ],
    };
    return { kind: 'write', state, alert };
  }
  return { kind: 'ignore' };
}

/** `tocsin watchers forget`: no longer expected; a missing watcher's alert resolves. */
export function retireWatcher(prev: WatcherAlertState | undefined, o: { cluster: string; node: string; revision: number; nowMs: number }): HeartbeatDecision<WatcherAlertState> {
  if (!prev || prev.status === 'retired') return { kind: 'ignore' };
  const now = iso(o.nowMs);
  const state: WatcherAlertState = { node: o.node, status: 'retired', since: now, ...(prev.lastSeenAt ? { lastSeenAt: prev.lastSeenAt } : {}) };
  if (prev.status !== 'missing') return { kind: 'write', state, ttlSeconds: RETIRED_RETENTION_SECONDS };
  const alert: Alert = {
    ...base(o.cluster, o.node, [watcherSubject(o.node), o.revision, 'retired']),
    severity: 'warning',
    state: 'resolved',
    title: `RESOLVED: watcher ${o.node} of ${o.cluster} retired (no longer expected)`,
    from: 'missing',
    to: 'retired',
    at: now,
    since: prev.since,
    details: [
      ['Watcher', o.node],
      ['Retired at', now],
      ['Note', 'retired with "tocsin watchers forget"; it is expected again from its next report'],
    ],
  };
  return { kind: 'write', state, alert, ttlSeconds: RETIRED_RETENTION_SECONDS };
}

export interface ClusterObservation {
  cluster: string;
  revision: number;
  nowMs: number;
  /** Watchers the cluster expects. */
  known: number;
  /** Of them, silent. */
  silent: number;
  /** The latest sign of life of any watcher (epoch ms), when there is one. */
  latestSeenAt?: number;
  /** A watcher that just reported (report path). */
  reporter?: string;
  settings: HeartbeatSettings;
}

/** Silent when every known watcher is; reporting again as soon as one is not. */
export function decideCluster(prev: ClusterSilenceState | undefined, o: ClusterObservation): HeartbeatDecision<ClusterSilenceState> {
  const allSilent = o.known > 0 && o.silent >= o.known;
  const now = iso(o.nowMs);
  const common = { ...base(o.cluster, '-', [CLUSTER_SILENCE_SUBJECT, o.revision]), severity: 'critical' as const, at: now };
  if (allSilent && prev?.status !== 'silent') {
    const last = o.latestSeenAt !== undefined ? iso(o.latestSeenAt) : undefined;
    return {
      kind: 'write',
      state: { status: 'silent', since: now },
      alert: {
        ...common,
        id: alertId([o.cluster, 'heartbeat', CLUSTER_SILENCE_SUBJECT, o.revision, 'silent']),
        state: 'firing',
        title: `CRITICAL: cluster ${o.cluster} is silent: none of its ${o.known} watcher${o.known === 1 ? '' : 's'} has reported for ${formatDuration(o.settings.missingAfter)}`,
        from: 'reporting',
        to: 'silent',
        ...(last ? { since: last } : {}),
        details: [
          ['Cluster', o.cluster],
          ['Watchers missing', `${o.silent} of ${o.known}`],
          ['Last sign of life', last ?? 'unknown'],
          ['Meaning', 'tocsin hears nothing from this cluster: no check, member or event alert can reach anyone until it reports again'],
        ],
      },
    };
  }
  if (!allSilent && prev?.status === 'silent') {
    const why = o.known === 0 ? 'is no longer watched (every watcher retired)' : `reports again${o.reporter ? ` (${o.reporter})` : ''}`;
    return {
      kind: 'write',
      state: { status: 'reporting', since: now },
      alert: {
        ...common,
        id: alertId([o.cluster, 'heartbeat', CLUSTER_SILENCE_SUBJECT, o.revision, 'reporting']),
        state: 'resolved',
        title: `RESOLVED: cluster ${o.cluster} ${why}`,
        from: 'silent',
        to: o.known === 0 ? 'unwatched' : 'reporting',
        since: prev.since,
        details: [
          ['Cluster', o.cluster],
          ['Watchers missing', `${o.silent} of ${o.known}`],
          ['Silent since', prev.since],
        ],
      },
    };
  }
  return { kind: 'ignore' };
}
