/**
 * The operator's read model (issue 14), pure: what one write of a subject's episode changes
 * in the index of firing alerts (`alert#<id>` items, one per firing episode of the cluster)
 * and which history events it adds (`h#<id>#...` items, one per write). The transition
 * engine applies it around its compare-and-set (app/transition-engine.ts). docs/ARCHITECTURE.md
 * "State", README "What is firing".
 */
import { createHash } from 'node:crypto';
import { SEVERITY_RANK, type Severity } from '../types';
import { ackHolds, type Acknowledgement } from './acknowledgements';
import type { Episode } from './episodes';
import type { OutboxEntry } from './outbox';

/** Item sizes stay bounded: free text is cut to these many characters. */
export const READ_MODEL_LIMITS = { maxTitleChars: 300, maxSubjectChars: 1024, maxChannels: 32, maxHistoryPage: 500, maxIndexRead: 2000 } as const;

/** Default history retention (TOCSIN_HISTORY_RETENTION_DAYS overrides it). */
export const DEFAULT_HISTORY_RETENTION_DAYS = 30;

/**
 * The alert's id in the API and the CLI: 12 base64url characters of the SHA-256 of its
 * subject, so the same subject keeps its id across episodes and the id is safe in a path.
 */
export function alertRef(subject: string): string {
  return createHash('sha256').update(subject).digest('base64url').slice(0, 12);
}
export const ALERT_REF_PATTERN = /^[A-Za-z0-9_-]{12}$/;

/** One firing alert as the index holds it (plain attributes, no secrets). */
export interface FiringAlert {
  id: string;
  subject: string;
  cluster: string;
  /** Episode id (Episode.id) when this entry was written: the reader confirms it against the subject. */
  episode: string;
  /** Alert.episode: the key channels carry (PagerDuty's dedup_key). */
  episodeKey?: string;
  severity: Severity;
  status: string;
  title: string;
  source: string;
  kind: string;
  node: string;
  service?: string;
  check?: string;
  /** Epoch ms the episode started. */
  since: number;
  /** Epoch ms of its last change (opened, severity or status changed). */
  lastChange: number;
  /** Channels notified in this episode so far. */
  channels: string[];
  /** A silence or inhibition holding back its notice. */
  silencedBy?: string;
  /** ISO-8601 end of that silence as it stood when it muted (read from the episode). */
  silencedUntil?: string;
  ack?: Acknowledgement;
}

/**
 * Only a new episode puts its entry and only its end removes it: what changes in between
 * (channels notified, silence, acknowledgement, severity, status) is read from the subject's
 * episode when a reader confirms the entry (app/alerts-api.ts), so no write updates it.
 */
export type IndexChange = { kind: 'put'; alert: FiringAlert } | { kind: 'remove' };

export type HistoryEvent =
  | { type: 'firing'; severity: Severity; status: string; title: string; change: boolean }
  | { type: 'resolved'; status: string; title: string; recoveredMs?: number }
  | { type: 'notice'; severity: Severity; title: string }
  | { type: 'notified'; channels: string[]; reminder?: number }
  | { type: 'silenced'; by: string }
  | { type: 'acknowledged'; by: string; comment?: string; until?: number }
  | { type: 'unacknowledged'; reason: 'severity raised' | 'withdrawn' };

export interface HistoryEntry {
  at: number;
  subject: string;
  events: HistoryEvent[];
}

export interface ReadModelChange {
  index?: IndexChange;
  history: HistoryEvent[];
}

const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function notifiedChannels(episode: Episode): string[] {
  const out = new Set<string>();
  for (const r of Object.values(episode.routes)) if (r.notifiedAt !== undefined) for (const c of r.channels) out.add(c);
  return [...out].sort().slice(0, READ_MODEL_LIMITS.maxChannels);
}

function silencedBy(episode: Episode, entry: OutboxEntry | undefined): string | undefined {
  return entry?.silencedBy ?? Object.values(episode.routes).find((r) => r.muted)?.muted?.silence;
}

const sameAck = (a: Acknowledgement | undefined, b: Acknowledgement | undefined): boolean => a?.at === b?.at && a?.by === b?.by && a?.until === b?.until;

/**
 * What a write of `next` over `previous` (the subject's stored episodes) with `entry` (its
 * outbox entry, if any) changes in the read model.
 */
export function readModelChange(cluster: string, subject: string, previous: Episode | undefined, next: Episode | undefined, entry: OutboxEntry | undefined, nowMs: number): ReadModelChange {
  const history: HistoryEvent[] = [];
  const alert = entry?.alert;
  let index: IndexChange | undefined;
  if (next) {
    const opened = alert?.state === 'firing' && alert.reminder === undefined && next.id !== previous?.id;
    const silenced = silencedBy(next, entry);
    if (opened && alert) {
      const severity = alert.severity;
      index = {
        kind: 'put',
        alert: {
          id: alertRef(subject),
          subject: cut(subject, READ_MODEL_LIMITS.maxSubjectChars),
          cluster,
          episode: next.id,
          ...(alert.episode ? { episodeKey: alert.episode } : {}),
          severity,
          status: next.status,
          title: cut(alert.title, READ_MODEL_LIMITS.maxTitleChars),
          source: alert.source,
          kind: alert.kind,
          node: alert.node,
          ...(alert.service ? { service: alert.service } : {}),
          ...(alert.check ? { check: alert.check } : {}),
          since: next.startedAt,
          lastChange: nowMs,
          channels: notifiedChannels(next),
          ...(silenced ? { silencedBy: silenced } : {}),
          ...(next.ack ? { ack: next.ack } : {}),
        },
      };
      history.push({ type: 'firing', severity, status: next.status, title: cut(alert.title, READ_MODEL_LIMITS.maxTitleChars), change: previous !== undefined && previous.startedAt === next.startedAt });
    }
    if (next.ack && !sameAck(previous?.ack, next.ack)) history.push({ type: 'acknowledged', by: next.ack.by, ...(next.ack.comment ? { comment: next.ack.comment } : {}), ...(next.ack.until !== undefined ? { until: next.ack.until } : {}) });
    if (previous?.ack && !next.ack) history.push({ type: 'unacknowledged', reason: next.id !== previous.id ? 'severity raised' : 'withdrawn' });
  } else if (previous) {
    index = { kind: 'remove' };
    if (alert?.state === 'resolved') history.push({ type: 'resolved', status: alert.to, title: cut(alert.title, READ_MODEL_LIMITS.maxTitleChars), recoveredMs: nowMs - previous.startedAt });
  }
  if (alert && !next && !previous && alert.state === 'firing') history.push({ type: 'notice', severity: alert.severity, title: cut(alert.title, READ_MODEL_LIMITS.maxTitleChars) });
  const channels = [...new Set((entry?.routing?.deliveries ?? []).flatMap((d) => d.channels))].sort().slice(0, READ_MODEL_LIMITS.maxChannels);
  if (channels.length > 0) history.push({ type: 'notified', channels, ...(alert?.reminder !== undefined ? { reminder: alert.reminder } : {}) });
  if (entry?.silencedBy) history.push({ type: 'silenced', by: entry.silencedBy });
  return { ...(index ? { index } : {}), history };
}

/** The state an operator filters on: acknowledged, silenced, or firing unhandled. */
export type FiringState = 'firing' | 'acknowledged' | 'silenced';

export function firingState(a: FiringAlert, nowMs: number): FiringState {
  if (ackHolds(a.ack, nowMs)) return 'acknowledged';
  return a.silencedBy ? 'silenced' : 'firing';
}

/** Query filters of GET /v1/alerts (and `tocsin alerts`), each a small predicate over one alert. */
export const ALERT_FILTERS = {
  cluster: (a: FiringAlert, v: string) => a.cluster === v,
  severity: (a: FiringAlert, v: string) => v.split(',').includes(a.severity),
  state: (a: FiringAlert, v: string, nowMs: number) => v.split(',').includes(firingState(a, nowMs)),
  service: (a: FiringAlert, v: string) => a.service === v,
  node: (a: FiringAlert, v: string) => a.node === v,
  text: (a: FiringAlert, v: string) => [a.title, a.subject, a.node, a.service ?? '', a.check ?? '', a.status].some((f) => f.toLowerCase().includes(v.toLowerCase())),
} as const satisfies Record<string, (a: FiringAlert, v: string, nowMs: number) => boolean>;
export type AlertFilterName = keyof typeof ALERT_FILTERS;
export const FILTER_VALUES: Partial<Record<AlertFilterName, readonly string[]>> = { severity: ['critical', 'warning', 'info'], state: ['firing', 'acknowledged', 'silenced'] };

export class FilterError extends Error {}

/** The filters of a query string, checked: unknown names and values are refused, not ignored. */
export function parseFilters(query: Readonly<Record<string, string | undefined>>): Array<[AlertFilterName, string]> {
  const out: Array<[AlertFilterName, string]> = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (!(name in ALERT_FILTERS)) throw new FilterError(`unknown filter "${name.slice(0, 40)}" (known: ${Object.keys(ALERT_FILTERS).join(', ')})`);
    const key = name as AlertFilterName;
    if (value.length === 0 || value.length > 256) throw new FilterError(`filter "${key}" needs a value of 1-256 characters`);
    const allowed = FILTER_VALUES[key];
    const bad = allowed && value.split(',').find((v) => !allowed.includes(v));
    if (typeof bad === 'string') throw new FilterError(`filter "${key}": "${bad.slice(0, 40)}" is none of ${allowed!.join(', ')}`);
    out.push([key, value]);
  }
  return out;
}

export function matchesFilters(a: FiringAlert, filters: ReadonlyArray<[AlertFilterName, string]>, nowMs: number): boolean {
  return filters.every(([name, value]) => ALERT_FILTERS[name](a, value, nowMs));
}

/** Worst first, then the longest firing. */
export function byUrgency(a: FiringAlert, b: FiringAlert): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.since - b.since || a.subject.localeCompare(b.subject);
}

/** Flaps (episodes that started again after a resolve) and recovery times, from a subject's history (oldest first). */
export function historySummary(entries: readonly HistoryEntry[]): { episodes: number; flaps: number; lastRecoveryMs?: number; meanRecoveryMs?: number } {
  let episodes = 0;
  let resolvedBefore = false;
  let flaps = 0;
  const recoveries: number[] = [];
  for (const e of entries) {
    for (const ev of e.events) {
      if (ev.type === 'firing' && !ev.change) {
        episodes++;
        if (resolvedBefore) flaps++;
      }
      if (ev.type === 'resolved') {
        resolvedBefore = true;
        if (ev.recoveredMs !== undefined) recoveries.push(ev.recoveredMs);
      }
    }
  }
  const last = recoveries[recoveries.length - 1];
  return {
    episodes,
    flaps,
    ...(last !== undefined ? { lastRecoveryMs: last, meanRecoveryMs: Math.round(recoveries.reduce((s, r) => s + r, 0) / recoveries.length) } : {}),
  };
}

/** One history entry as the subject's record carries it (the subject is the record's). */
export interface CarriedEntry {
  at: number;
  events: HistoryEvent[];
}

/**
 * How much history a subject's record carries (its newest entries, JSON characters): what
 * keeps a record with a pending alert under 1 KB deflated (adapters/subject-record-codec.ts),
 * so that each write of it stays 1 WCU. Older entries go to `h#` items.
 */
export const CARRIED_HISTORY = { maxEntries: 8, maxChars: 1200 } as const;

/** The state's field that carries the history (the transition engine owns it, sources never set it). */
export const CARRIED_HISTORY_FIELD = 'history';

export interface HistoryPlacement {
  /** What the new record carries, oldest first. */
  carried: CarriedEntry[];
  /** Entries of the previous record to write as an `h#` item before the compare-and-set (they happened). */
  spillBefore: CarriedEntry[];
  /** This write's entry, to write as an `h#` item after the compare-and-set (the record cannot carry it). */
  spillAfter?: CarriedEntry;
}

const entryChars = (e: CarriedEntry): number => JSON.stringify(e).length;

/**
 * Where a write's history entry goes (docs/ARCHITECTURE.md "State", `h#`). The record carries
 * it, so it is written with the compare-and-set itself (no extra write, and never a history of
 * a write that did not happen), while the record outlives the retention (no TTL, or one at
 * least as long): otherwise the entry would vanish with the record, and it goes to an `h#` item
 * after the write as before. Beyond CARRIED_HISTORY the oldest carried entries, down to half of
 * it, go to one `h#` item before the write (a repeat writes the same item): one item per
 * several writes. Entries past the retention are dropped.
 */
export function placeHistory(previous: readonly CarriedEntry[] | undefined, entry: CarriedEntry | undefined, opts: { nowMs: number; retentionMs: number; recordTtlMs?: number }): HistoryPlacement {
  const kept = (previous ?? []).filter((e) => e.at + opts.retentionMs > opts.nowMs);
  const outlives = opts.recordTtlMs === undefined || opts.recordTtlMs >= opts.retentionMs;
  if (!outlives) return { carried: [], spillBefore: kept, ...(entry ? { spillAfter: entry } : {}) };
  const carried = entry ? [...kept, entry] : kept;
  const spillBefore: CarriedEntry[] = [];
  let chars = carried.reduce((n, e) => n + entryChars(e), 0);
  const over = (entries: number, limit: { maxEntries: number; maxChars: number }) => entries > limit.maxEntries || chars > limit.maxChars;
  if (!over(carried.length, CARRIED_HISTORY)) return { carried, spillBefore };
  // Full: the oldest go until half is left, so that one `h#` item takes several writes' entries.
  const half = { maxEntries: CARRIED_HISTORY.maxEntries / 2, maxChars: CARRIED_HISTORY.maxChars / 2 };
  while (carried.length > 0 && over(carried.length, half)) {
    if (entry && carried.length === 1) return { carried: [], spillBefore, spillAfter: entry }; // too big alone
    const oldest = carried.shift()!;
    chars -= entryChars(oldest);
    spillBefore.push(oldest);
  }
  return { carried, spillBefore };
}

/** The state's carried history, tolerant of records written before it existed. */
export function carriedHistory(state: unknown): CarriedEntry[] {
  const value = (state as Record<string, unknown> | undefined)?.[CARRIED_HISTORY_FIELD];
  return Array.isArray(value) ? (value as CarriedEntry[]).filter((e) => typeof e?.at === 'number' && Array.isArray(e.events)) : [];
}

/**
 * A subject's history as readers answer it: its `h#` items and what its record carries, each
 * entry once (a spill repeated after a lost race, or an entry both spilled and still carried),
 * oldest first, the newest `limit`, none past the retention.
 */
export function mergeHistory(stored: readonly HistoryEntry[], carried: readonly CarriedEntry[], subject: string, limit: number, oldestMs: number): HistoryEntry[] {
  const seen = new Set<string>();
  const all: HistoryEntry[] = [];
  const recent = carried.filter((c) => c.at >= oldestMs).map((c) => ({ at: c.at, subject, events: c.events }));
  for (const e of [...stored, ...recent]) {
    const key = `${e.at}:${JSON.stringify(e.events)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(e);
  }
  all.sort((a, b) => a.at - b.at);
  return all.slice(Math.max(0, all.length - limit));
}
