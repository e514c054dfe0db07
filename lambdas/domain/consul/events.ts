/**
 * Consul `event` watch: an array of UserEvent {ID, Name, Payload(b64|null),
 * NodeFilter, ServiceFilter, TagFilter, Version, LTime}. Every agent delivers every
 * event, at start the whole 256-entry buffer again, some versions re-deliver:
 * one alert per event ID, the first delivery wins, later ones change nothing.
 */
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

/** Event records outlive the agents' buffers long enough to absorb replays. */
export const EVENT_RETENTION_SECONDS = 7 * 24 * 3600;

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
        what: `event "${ev.name || ev.id}" fired in ${ctx.cluster}`,
        to: 'fired',
        at: ctx.at,
        details,
        idParts: [ev.id],
      }),
    },
  };
}
