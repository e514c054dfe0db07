/**
 * Serf user events and queries: every agent that receives one runs its handler, so one
 * event reaches us once per agent (plus redeliveries). Identity is Serf's own: (name,
 * LTime, payload). Serf dedupes a user event by name and payload within one LTime
 * (`serf/serf.go` handleUserEvent), so two events of one name CAN share an LTime when
 * fired concurrently by two nodes with different payloads.
 *
 * - Subject `userevent/<name>/<ltime>` (queries: `query/<name>/<ltime>`), written once
 *   per distinct payload with a TTL: the first report alerts, the others are ignored.
 * - Stale rule: per name we keep the highest LTime seen (`userevent-max/<name>`). An
 *   LTime never seen before is a distinct event and alerts even if it is lower than the
 *   highest one (coalescing keeps only the newest LTime per name on SOME agents, and
 *   others may deliver the older one later: that older event was still fired once).
 *   But an LTime at or below `highest - LAMPORT_WINDOW` is stale and ignored: Serf
 *   itself drops events that far behind its clock (its event/query buffer holds 512
 *   LTimes), so only a replay (`serf join -replay`) or an ancient spooled envelope can
 *   bring one, after its record may have expired.
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

/** Serf's default EventBuffer / QueryBuffer: events this far behind are dropped by Serf too. */
export const LAMPORT_WINDOW = 512n;
/** How long a (name, LTime) record is kept to recognise redeliveries. */
export const LAMPORT_EVENT_TTL_SECONDS = 30 * 24 * 3600;
/** The per-name high-water mark is refreshed on every advance and expires after this. */
export const LAMPORT_WATERMARK_TTL_SECONDS = 365 * 24 * 3600;
/** Distinct payloads remembered per (name, LTime). */
const MAX_DIGESTS = 16;
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

export interface LamportEventState {
  name: string;
  ltime: string;
  /** Payload digests seen at this (name, LTime); normally exactly one. */
  digests: string[];
  firstAt: string;
  firstReporter: string;
}

export interface LamportWatermarkState {
  name: string;
  /** Highest LTime seen for the name, decimal. */
  max: string;
}

export type LamportDecision =
  | { kind: 'ignore'; reason: 'duplicate' | 'stale' }
  | { kind: 'new'; state: LamportEventState };

const ENV_NAMES: Record<LamportKind, { name: string; ltime: string }> = {
  user: { name: 'SERF_USER_EVENT', ltime: 'SERF_USER_LTIME' },
  query: { name: 'SERF_QUERY_NAME', ltime: 'SERF_QUERY_LTIME' },
};

/**
 * Names up to this many UTF-8 bytes appear as they are in subjects (and so in DynamoDB sort
 * keys, at most 1,024 bytes with the LTime); a longer one (Serf allows up to
 * LIMITS.maxSerfEventNameBytes) by its SHA-256, under its own prefix so that no name can
 * collide with a digest. The records keep the whole name.
 */
export const MAX_NAME_BYTES_IN_SUBJECT = 512;

function nameKey(kind: LamportKind, name: string): { prefix: string; key: string } {
  const prefix = kind === 'user' ? 'userevent' : 'query';
  if (Buffer.byteLength(name, 'utf8') <= MAX_NAME_BYTES_IN_SUBJECT) return { prefix, key: name };
  return { prefix: `${prefix}-sha256`, key: createHash('sha256').update(name, 'utf8').digest('hex') };
}

export function lamportSubject(kind: LamportKind, name: string, ltime: string): string {
  const { prefix, key } = nameKey(kind, name);
  return `${prefix}/${key}/${ltime}`;
}

export function lamportWatermarkSubject(kind: LamportKind, name: string): string {
  const { prefix, key } = nameKey(kind, name);
  return `${prefix}-max/${key}`;
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
  // As long as Serf lets a name be (protocol.ts); long names are keyed by digest (nameKey).
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

export function isStaleLTime(ltime: string, watermark: LamportWatermarkState | undefined): boolean {
  return watermark !== undefined && BigInt(ltime) + LAMPORT_WINDOW <= BigInt(watermark.max);
}

export function decideLamportEvent(previous: LamportEventState | undefined, ev: LamportEvent, watermark?: LamportWatermarkState): LamportDecision {
  if (previous?.digests.includes(ev.digest)) return { kind: 'ignore', reason: 'duplicate' };
  if (!previous && isStaleLTime(ev.ltime, watermark)) return { kind: 'ignore', reason: 'stale' };
  if (previous && previous.digests.length >= MAX_DIGESTS) return { kind: 'ignore', reason: 'duplicate' };
  return {
    kind: 'new',
    state: previous
      ? { ...previous, digests: [...previous.digests, ev.digest] }
      : { name: ev.name, ltime: ev.ltime, digests: [ev.digest], firstAt: ev.at, firstReporter: ev.reporter },
  };
}

/** Advance the per-name high-water mark; undefined when it already covers `ltime`. */
export function advanceWatermark(previous: LamportWatermarkState | undefined, ev: Pick<LamportEvent, 'name' | 'ltime'>): LamportWatermarkState | undefined {
  if (previous && BigInt(previous.max) >= BigInt(ev.ltime)) return undefined;
  return { name: ev.name, max: ev.ltime };
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

export function lamportAlert(cluster: string, ev: LamportEvent): Alert {
  const what = ev.kind === 'user' ? 'user event' : 'query';
  const vocabulary = LAMPORT_ALERTS[ev.kind];
  return {
    id: alertId([cluster, ev.kind === 'user' ? 'userevent' : 'query', ev.name, ev.ltime, ev.digest]),
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
    details: [
      [ev.kind === 'user' ? 'Event' : 'Query', ev.name],
      ['LTime', ev.ltime],
      ['Payload', describePayload(ev.payload)],
      ['First reported by', ev.reporter],
    ],
  };
}
