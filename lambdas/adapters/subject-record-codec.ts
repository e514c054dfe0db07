/**
 * How a subject's state and outbox alert are stored in its DynamoDB item: one Binary
 * attribute holding their JSON, deflated with a preset dictionary.
 *
 * Why: DynamoDB bills writes per started KB of the whole item, and both the outbox write
 * and the clearing of the outbox (an update is billed on the larger of the item before and
 * after) pay for it. A check record with its pending alert is ~2.7 KB of JSON (the alert
 * carries one copy per delivery); deflated with this dictionary it is ~0.3 KB, so each of
 * those writes costs 1 unit instead of 3. The conditions the store needs (rev, pendingId,
 * lease) stay plain top-level attributes.
 *
 * The first byte names the encoding. An item written with one encoding must stay readable
 * for as long as items live, so DICTIONARY_V1 never changes: a better dictionary becomes
 * version 2, and version 1 stays decodable (the golden test in test/unit pins it).
 *
 * The outbox entry is stored flat, as it always was: the alert's fields, then `facts` and
 * `routing` (storedOutbox / outboxEntry below).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { OutboxEntry } from '../domain/rules/outbox';
import type { Alert } from '../domain/types';

export interface StoredBody {
  state: unknown;
  /** The alert in the outbox; pending only while the item's pendingId names it. */
  alert?: unknown;
}

const V1 = 1;

/**
 * Strings that records repeat (field names, statuses, the shape of a check alert and its
 * routing), most frequent last: deflate finds them at the shortest distances.
 */
const DICTIONARY_V1 = Buffer.from(
  [
    '{"kind":"member","status":"alive","addr":"","port":7946,"tags":{"role":""},"name":"","ltime":,"payload":"","event":"","value":"","flags":0,"session":""}',
    '"kind":"event","kind":"key","kind":"service","kind":"node","source":"serf","severity":"warning","severity":"info","to":"failed","to":"left","to":"alive","to":"removed"',
    '"definition":{"Interval":"10s","Timeout":"5s","DeregisterCriticalServiceAfter":"0s","HTTP":"http://127.0.0.1:","Header":null,"Method":"","Body":"","TLSServerName":"","TLSSkipVerify":false,"TCP":"","TCPUseTLS":false,"UDP":"","GRPC":"","OSService":"","GRPCUseTLS":false}',
    '{"state":{"status":"critical","modifyIndex":,"since":"2026-01-01T00:00:00.000Z","alerting":"critical","suppressed":true,"facts":{"node":"","checkId":"service:","name":"Service \'\' check","status":"passing","serviceId":"","serviceName":"","serviceTags":[],"type":"http","type":"ttl","type":"tcp","notes":"","modifyIndex":,"createIndex":,',
    '"episode":{"id":"","startedAt":,"status":"critical","routes":{"default":{"severity":"critical","channels":["oncall"],"dueAt":,"repeat":0,"resolved":true,"reminders":0,"notifiedAt":}}}},',
    '"details":[["Check",""],["Node",""],["Service",""],["Tags",""],["Status","passing -> critical"],["Status","critical -> passing"],["Type","http"],["Definition","Interval=10s Timeout=5s DeregisterCriticalServiceAfter=0s HTTP=http://127.0.0.1: TLSSkipVerify=false TCPUseTLS=false GRPCUseTLS=false"],["Output",""],["ModifyIndex",""]],',
    '"facts":{"source":"consul","kind":"check","cluster":"","severity":"critical","to":"critical","status":"critical","checkName":"","tags":[],"node":"","service":"","check":"","from":"passing"},"rules":["default"]},"channels":["oncall"]}],"timers":[]}}',
    '"alert":{"id":"","cluster":"","source":"consul","kind":"check","severity":"critical","state":"resolved","state":"firing","node":"","check":"service:","title":"RESOLVED: ","title":"WARNING: ","title":"CRITICAL: ","from":"critical","to":"passing","from":"passing","to":"critical","at":"2026-01-01T00:00:00.000Z","since":"","service":"","routing":{"deliveries":[{',
  ].join(''),
  'utf8',
);

export function encodeBody(body: StoredBody): Uint8Array {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  return Buffer.concat([Buffer.of(V1), deflateRawSync(json, { level: 9, dictionary: DICTIONARY_V1 })]);
}

/** Items are at most 400 KB; a body inflating beyond this is not one of ours. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export function decodeBody(bytes: Uint8Array): StoredBody {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] !== V1) throw new Error(`subject item encoded with unknown version ${buf[0]}: written by a newer tocsin?`);
  const json = inflateRawSync(buf.subarray(1), { dictionary: DICTIONARY_V1, maxOutputLength: MAX_BODY_BYTES });
  return JSON.parse(json.toString('utf8')) as StoredBody;
}

/** An outbox entry as items store it: the alert's own fields, then `facts` and `routing`. */
export type StoredOutbox = Alert & Pick<OutboxEntry, 'facts' | 'routing'>;

export function storedOutbox(entry: OutboxEntry): StoredOutbox {
  return { ...entry.alert, ...(entry.facts ? { facts: entry.facts } : {}), ...(entry.routing ? { routing: entry.routing } : {}) };
}

export function outboxEntry(stored: StoredOutbox): OutboxEntry {
  const { facts, routing, ...alert } = stored;
  return { alert, ...(facts ? { facts } : {}), ...(routing ? { routing } : {}) };
}

/** A subject's state and outbox entry in the `body` attribute. */
export function encodeSubjectBody(state: unknown, outbox: OutboxEntry | undefined): Uint8Array {
  return encodeBody({ state, ...(outbox ? { alert: storedOutbox(outbox) } : {}) });
}

export function decodeSubjectBody(bytes: Uint8Array): { state: unknown; outbox?: OutboxEntry } {
  const { state, alert } = decodeBody(bytes);
  return { state, ...(alert ? { outbox: outboxEntry(alert as StoredOutbox) } : {}) };
}
