/**
 * Serf user events and queries: every agent that receives one runs its handler, so one
 * event reaches us once per agent (plus redeliveries). Identity is Serf's own: (name,
 * LTime, payload) within one run of the cluster's Lamport clock. Serf dedupes a user
 * event by name and payload within one LTime (`serf/serf.go` handleUserEvent), so two
 * events of one name CAN share an LTime when fired concurrently by two nodes with
 * different payloads.
 *
 * - Which run of the clock (lineage) a report belongs to, and when the clock restarted:
 *   lamport-clock.ts. Dedupe records live in the lineage's ring, subject
 *   `userevent-slot/<ring>/<LTime mod 1024>` (queries: `query-slot/...`), one per LTime,
 *   holding every distinct (name, payload) seen at it; they never expire: a newer LTime
 *   of the same lineage, or a newer lineage, reuses the slot.
 * - An LTime whose slot already holds a newer LTime of the same lineage is older than
 *   anything Serf can still replay: stale, dropped with a warning.
 * - Serf appends "\n" to a non-empty payload that lacks one before piping it to the
 *   handler (`invoke.go` streamPayload): "x" and "x\n" arrive identical. We hash the
 *   bytes as received (identical on every agent) and show text without that newline.
 */
import { createHash } from 'node:crypto';
import type { Alert } from '../types';
import { alertId } from '../alert-id';
import { excerpt } from '../excerpt';
import { InputError } from '../input-errors';
import { LIMITS } from '../protocol';
import { alertVocabulary } from '../alert-vocabulary';

export type LamportKind = 'user' | 'query';

/** What user event and query alerts say (rules/vocabulary.ts): one was received. */
export const LAMPORT_ALERTS = {
  user: alertVocabulary({ source: 'serf', kind: 'user-event', severity: ['info'], to: ['received'], from: [], fromMayBeAbsent: true }),
  query: alertVocabulary({ source: 'serf', kind: 'query', severity: ['info'], to: ['received'], from: [], fromMayBeAbsent: true }),
} as const;

/** Distinct payloads remembered per (lineage, LTime); Serf itself keeps every one. */
export const MAX_EVENTS_PER_LTIME = 16;
/** Records written before the lineage rings (`userevent/<name>/<ltime>`) lived this long. */
export const LEGACY_EVENT_TTL_SECONDS = 30 * 24 * 3600;
const PAYLOAD_EXCERPT_CHARS = 500;

export interface LamportEvent {
  kind: LamportKind;
  name: string;
  /** Canonical decimal LTime (no leading zeros); may exceed 2^53. */
  ltime: string;
  payload: Buffer;
  /** sha256 of the payload, 16 hex characters. */
  digest: string;
  reporter: string;
  at: string;
}

/** A record written before the lineage rings, `userevent/<name>/<ltime>`; still consulted while it may live. */
export interface LegacyLamportEventState {
  name: string;
  ltime: string;
  digests: string[];
  firstAt: string;
  firstReporter: string;
}

export interface LamportSlotEvent {
  name: string;
  digest: string;
  firstAt: string;
  firstReporter: string;
}

/** One ring slot: the events seen at one LTime of one lineage. */
export interface LamportSlotState {
  epoch: number;
  ltime: string;
  events: LamportSlotEvent[];
}

export type LamportDecision =
  | { kind: 'ignore'; reason: 'duplicate' | 'stale' | 'full' }
  | { kind: 'new'; state: LamportSlotState };

const ENV_NAMES: Record<LamportKind, { name: string; ltime: string }> = {
  user: { name: 'SERF_USER_EVENT', ltime: 'SERF_USER_LTIME' },
  query: { name: 'SERF_QUERY_NAME', ltime: 'SERF_QUERY_LTIME' },
};

const PREFIX: Record<LamportKind, string> = { user: 'userevent', query: 'query' };

/** The dedupe record of `ltime` in ring `ring`. */
export function lamportSlotSubject(kind: LamportKind, ring: number, slot: string): string {
  return `${PREFIX[kind]}-slot/${ring}/${slot}`;
}

/** The clock record (lineages) of the cluster's event or query clock. */
export function lamportClockSubject(kind: LamportKind): string {
  return `${PREFIX[kind]}-clock`;
}

/** Names the API took before the lineage rings: only these can have a legacy record. */
export const LEGACY_MAX_NAME_BYTES = 512;

/**
 * Where a record written before the lineage rings lives; undefined for a name longer than
 * the API then accepted (no such record, and its sort key would pass DynamoDB's 1 KB).
 */
export function legacyLamportSubject(kind: LamportKind, name: string, ltime: string): string | undefined {
  if (Buffer.byteLength(name, 'utf8') > LEGACY_MAX_NAME_BYTES) return undefined;
  return `${PREFIX[kind]}/${name}/${ltime}`;
}

export function payloadDigest(payload: Buffer): string {
  return createHash('sha256').update(payload).digest('hex').slice(0, 16);
}

/**
 * The event from the handler's environment (SERF_USER_EVENT/SERF_USER_LTIME or the
 * query pair, forwarded by the shim) and its stdin bytes. `index` is the envelope's
 * index, which the shim fills from the same LTime variable.
 */
export function normalizeLamportEvent(
  kind: LamportKind,
  input: { env: Record<string, string> | undefined; index: string | null; payload: Buffer; reporter: string; at: string },
): LamportEvent {
  const vars = ENV_NAMES[kind];
  const name = input.env?.[vars.name];
  if (name === undefined || name === '') throw new InputError(`${vars.name} is missing from the envelope env`);
  // As long as Serf lets a name be (protocol.ts); subjects hold no name (lineage ring slots).
  if (Buffer.byteLength(name) > LIMITS.maxSerfEventNameBytes) {
    throw new InputError(`${vars.name} is longer than ${LIMITS.maxSerfEventNameBytes} bytes, more than Serf can send`);
  }
  const raw = input.index ?? input.env?.[vars.ltime];
  if (raw === undefined || !/^\d{1,40}$/.test(raw)) throw new InputError(`${vars.ltime} (the envelope index) must be a decimal LTime`);
  return {
    kind,
    name,
    ltime: BigInt(raw).toString(),
    payload: input.payload,
    digest: payloadDigest(input.payload),
    reporter: input.reporter,
    at: input.at,
  };
}

/**
 * Dedupe in the lineage's ring slot. The slot holds the LTime last seen there: the same
 * LTime of the same lineage -> compare (name, payload); an older LTime, or a record of
 * another (evicted) lineage that used this ring -> replaced; a NEWER LTime of the same
 * lineage -> this LTime left the ring long ago (RING_SLOTS behind): stale.
 */
export function decideLamportEvent(slot: LamportSlotState | undefined, ev: LamportEvent, epoch: number): LamportDecision {
  const entry: LamportSlotEvent = { name: ev.name, digest: ev.digest, firstAt: ev.at, firstReporter: ev.reporter };
  if (slot && slot.epoch === epoch) {
    const held = BigInt(slot.ltime);
    const l = BigInt(ev.ltime);
    if (held === l) {
      if (slot.events.some((e) => e.name === ev.name && e.digest === ev.digest)) return { kind: 'ignore', reason: 'duplicate' };
      if (slot.events.length >= MAX_EVENTS_PER_LTIME) return { kind: 'ignore', reason: 'full' };
      return { kind: 'new', state: { ...slot, events: [...slot.events, entry] } };
    }
    if (held > l) return { kind: 'ignore', reason: 'stale' };
  }
  return { kind: 'new', state: { epoch, ltime: ev.ltime, events: [entry] } };
}

/** Whether a record from before the lineage rings says this event was seen already. */
export function legacyDuplicate(legacy: LegacyLamportEventState | undefined, ev: LamportEvent): boolean {
  return legacy !== undefined && legacy.ltime === ev.ltime && legacy.digests.includes(ev.digest);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The payload as text (without the newline Serf appends), or undefined when it is binary. */
export function payloadText(payload: Buffer): string | undefined {
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text)) return undefined;
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** The payload for people: text when it is printable UTF-8, else base64 with its size. */
export function describePayload(payload: Buffer): string {
  if (payload.length === 0) return '(empty)';
  const text = payloadText(payload);
  if (text !== undefined) return excerpt(text, PAYLOAD_EXCERPT_CHARS) || '(blank)';
  const b64 = payload.toString('base64');
  return `(binary, ${payload.length} bytes) base64:${b64.length > PAYLOAD_EXCERPT_CHARS ? `${b64.slice(0, PAYLOAD_EXCERPT_CHARS)}…` : b64}`;
}

/** Which run of the clock the event belongs to, and whether it revealed a restart (after which LTime). */
export interface LamportAlertClock {
  epoch: number;
  restartedAfter?: string;
}

export function lamportAlert(cluster: string, ev: LamportEvent, clock: LamportAlertClock = { epoch: 0 }): Alert {
  const what = ev.kind === 'user' ? 'user event' : 'query';
  const vocabulary = LAMPORT_ALERTS[ev.kind];
  const details: Array<[string, string]> = [
    [ev.kind === 'user' ? 'Event' : 'Query', ev.name],
    ['LTime', ev.ltime],
    ['Payload', describePayload(ev.payload)],
    ['First reported by', ev.reporter],
  ];
  if (clock.restartedAfter !== undefined) {
    details.push(['Clock', `Serf's ${what} clock restarted: LTime ${ev.ltime} came after ${clock.restartedAfter} (every agent restarted without a snapshot)`]);
  }
  return {
    // The first clock run keeps the ids alerts had before clock runs were told apart.
    id: alertId([cluster, ev.kind === 'user' ? 'userevent' : 'query', ev.name, ev.ltime, ev.digest, ...(clock.epoch > 0 ? [`epoch ${clock.epoch}`] : [])]),
    cluster,
    source: vocabulary.source,
    kind: vocabulary.kind,
    severity: vocabulary.severity[0],
    state: 'firing',
    // A cluster-wide event: Serf does not say which node fired it.
    node: '-',
    title: `INFO: Serf ${what} "${excerpt(ev.name.replace(/[\r\n\t]+/g, ' '), 60)}" (LTime ${ev.ltime})`,
    to: vocabulary.to[0],
    at: ev.at,
    details,
  };
}
