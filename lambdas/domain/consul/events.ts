/**
 * Consul `event` watch: an array of UserEvent {ID, Name, Payload(b64|null),
 * NodeFilter, ServiceFilter, TagFilter, Version, LTime}. Every agent delivers every
 * event, at start the whole 256-entry buffer again, some versions re-deliver:
 * one alert per event ID, the first delivery wins, later ones change nothing.
 *
 * How long to remember an ID: as long as an agent can replay it, which is as long as it
 * sits in an agent's 256-entry buffer (agent/user_event.go: the last 256 events the agent
 * ACCEPTED, after its node/service/tag filters), however old: a quiet agent replays
 * months-old events at every restart or `consul reload`. A time-to-live cannot know that;
 * a count can. Every agent that matches an event's filters receives every event with the
 * same (name, filters), so the events of one (name, NodeFilter, ServiceFilter, TagFilter)
 * in any agent's buffer are among the last 256 of them (plus any it missed). tocsin keeps
 * per such key the hashes of the last EVENT_WINDOW IDs (`event-window/<key>`, no TTL:
 * bounded by EVENT_WINDOW per key), twice the buffer for gossip loss and ordering.
 * `event/<ID>` records carry each alert through the outbox and live EVENT_RETENTION_SECONDS.
 */
import { createHash } from 'node:crypto';
import type { Normalized } from '../input-errors';
import { asObject, normalizeArray, optIndex, optNumber, optString, reqString } from './fields';
import { decodeBase64Field, describeBytes, type DecodedBytes } from './payload';
import { buildAlert, ignore, type Verdict } from './decision';
import { alertVocabulary } from '../alert-vocabulary';

/** What `event` alerts say (rules/vocabulary.ts): an event fired. */
export const EVENT_ALERTS = alertVocabulary({ source: 'consul', kind: 'event', severity: ['info'], to: ['fired'], from: [], fromMayBeAbsent: true });

export interface EventObservation {
  id: string;
  name: string;
  payload: DecodedBytes;
  nodeFilter: string;
  serviceFilter: string;
  tagFilter: string;
  version: number;
  ltime: number;
}

/**
 * `event/<ID>` records carry the alert (outbox) and bridge the moment between its
 * publication and the window update; the window is what remembers the ID after that.
 */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;
/** IDs remembered per (name, filters): twice Consul's 256-entry agent buffer. */
export const EVENT_WINDOW = 512;
/** Characters per remembered ID: 48 bits of its SHA-256, base64url. */
const ID_HASH_CHARS = 8;

/** The last EVENT_WINDOW event IDs of one (name, filters), oldest first, as one string of hashes. */
export interface EventWindowState {
  name: string;
  nodeFilter: string;
  serviceFilter: string;
  tagFilter: string;
  /** Concatenated ID hashes (ID_HASH_CHARS each), oldest first. */
  ids: string;
  /** When tocsin first remembered an event of this key. */
  createdAt: string;
}

export interface EventRecordState {
  name: string;
  ltime: number;
  /** When the first delivery was processed, and by which node's watch. */
  firstSeenAt: string;
  reportedBy: string;
}

export function normalizeEvent(entry: unknown): EventObservation {
  const e = asObject(entry, 'a UserEvent');
  return {
    id: reqString(e, 'ID'),
    name: optString(e, 'Name'),
    payload: decodeBase64Field(e.Payload, 'Payload'),
    nodeFilter: optString(e, 'NodeFilter'),
    serviceFilter: optString(e, 'ServiceFilter'),
    tagFilter: optString(e, 'TagFilter'),
    version: optNumber(e, 'Version'),
    ltime: optIndex(e, 'LTime'),
  };
}

export function normalizeEvents(parsed: unknown): Normalized<EventObservation> {
  return normalizeArray(parsed, 'an event watch body', normalizeEvent);
}

export const eventSubject = (id: string): string => `event/${id}`;

/** The dedupe window an event belongs to: its name and filters. */
export function eventWindowSubject(ev: Pick<EventObservation, 'name' | 'nodeFilter' | 'serviceFilter' | 'tagFilter'>): string {
  const key = createHash('sha256').update([ev.name, ev.nodeFilter, ev.serviceFilter, ev.tagFilter].join('\u0000')).digest('hex').slice(0, 16);
  return `event-window/${key}`;
}

export function eventIdHash(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, ID_HASH_CHARS);
}

/** The IDs a window remembers, as hashes. */
export function windowIds(window: EventWindowState | undefined): Set<string> {
  const out = new Set<string>();
  if (!window) return out;
  for (let i = 0; i + ID_HASH_CHARS <= window.ids.length; i += ID_HASH_CHARS) out.add(window.ids.slice(i, i + ID_HASH_CHARS));
  return out;
}

/**
 * The window with `events` appended (those it lacks), trimmed to the newest EVENT_WINDOW;
 * undefined when it already holds them all.
 */
export function addToWindow(previous: EventWindowState | undefined, events: EventObservation[], at: string): EventWindowState | undefined {
  const known = windowIds(previous);
  const added: string[] = [];
  for (const ev of events) {
    const hash = eventIdHash(ev.id);
    if (known.has(hash)) continue;
    known.add(hash);
    added.push(hash);
  }
  if (added.length === 0 || events.length === 0) return undefined;
  const all = (previous?.ids ?? '') + added.join('');
  const first = events[0]!;
  return {
    name: first.name,
    nodeFilter: first.nodeFilter,
    serviceFilter: first.serviceFilter,
    tagFilter: first.tagFilter,
    ids: all.slice(Math.max(0, all.length - EVENT_WINDOW * ID_HASH_CHARS)),
    createdAt: previous?.createdAt ?? at,
  };
}

export interface EventContext {
  cluster: string;
  at: string;
  /** Node whose watch delivered it. */
  node: string;
  /** CONSUL_INDEX of the watch, verbatim: a hash, possibly above 2^53. */
  index: string | null;
}

/** Written once per event ID; anything already recorded is a replay. */
export function decideEvent(previous: EventRecordState | undefined, ev: EventObservation, ctx: EventContext): Verdict<EventRecordState> {
  if (previous) return ignore('duplicate');
  const details: Array<[string, string]> = [
    ['Event', ev.name || '(unnamed)'],
    ['ID', ev.id],
    ['Payload', describeBytes(ev.payload)],
    ['Payload encoding', ev.payload.kind === 'binary' ? 'binary' : ev.payload.kind === 'text' ? 'UTF-8 text' : 'none'],
    ['NodeFilter', ev.nodeFilter || '(none)'],
    ['ServiceFilter', ev.serviceFilter || '(none)'],
    ['TagFilter', ev.tagFilter || '(none)'],
    ['LTime', String(ev.ltime)],
    ['Version', String(ev.version)],
    ['Reported by', ctx.node],
    ['Watch index', ctx.index ?? ''],
  ];
  return {
    decision: {
      kind: 'write',
      state: { name: ev.name, ltime: ev.ltime, firstSeenAt: ctx.at, reportedBy: ctx.node },
      ttlSeconds: EVENT_RETENTION_SECONDS,
      alert: buildAlert(EVENT_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: '',
        what: `event "${ev.name || ev.id}" fired in cluster ${ctx.cluster}`,
        to: 'fired',
        at: ctx.at,
        details,
        idParts: [ev.id],
      }),
    },
  };
}
