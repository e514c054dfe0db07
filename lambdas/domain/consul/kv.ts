/**
 * Consul `key` (one KVPair or null) and `keyprefix` (array of KVPair, or null when
 * no key is left under the prefix) watches. A key is created, changed or deleted;
 * ModifyIndex orders observations, anything at or below the stored index is stale.
 */
import { InputError, type Normalized } from '../input-errors';
import { asObject, normalizeArray, optIndex, optNumber, optString, reqString } from './fields';
import { safeText } from '../input-limits';
import { STORED_VALUE_CHARS, summarizeValue, type EntryOf, type PROJECTED_KV_FIELDS, type ValueSummary } from './wire-form';
import { buildAlert, GONE_RETENTION_SECONDS, ignore, type Verdict } from './decision';
import { alertVocabulary, type ValueOf } from '../alert-vocabulary';

/** What `key` and `keyprefix` alerts say (rules/vocabulary.ts): a key created, changed or deleted. */
export const KV_ALERTS = alertVocabulary({
  source: 'consul',
  kind: 'key',
  severity: ['info'],
  to: ['created', 'changed', 'deleted'],
  from: ['present', 'deleted'],
  fromMayBeAbsent: true,
});
type KvChange = ValueOf<typeof KV_ALERTS.to>;

export interface KvObservation {
  key: string;
  createIndex: number;
  modifyIndex: number;
  lockIndex: number;
  flags: number;
  session: string;
  /** All the backend keeps of the value (wire-form.ts): what the compact form sends instead of a long one. */
  value: ValueSummary;
}

export { STORED_VALUE_CHARS };

export interface KvRecordState {
  key: string;
  deleted: boolean;
  /** ModifyIndex of the last write seen, or the watch index of the deletion. */
  modifyIndex: number;
  createIndex: number;
  flags: number;
  session: string;
  valueDigest: string;
  /** Short description of the value, for the next alert's "previous value". */
  valueExcerpt: string;
  since: string;
}

/** UTF-8 bytes of a key: `kv/<key>` is part of a DynamoDB sort key (1,024 bytes). */
export const MAX_KEY_BYTES = 900;

const SUMMARY_KINDS: ReadonlySet<string> = new Set(['none', 'text', 'binary']);
const DIGEST = /^(?:none|[0-9a-f]{32})$/;

/** A ValueSummary of the compact form, checked (it came over the wire). */
function valueSummary(value: unknown): ValueSummary {
  const s = asObject(value, 'ValueSummary');
  if (typeof s.kind !== 'string' || !SUMMARY_KINDS.has(s.kind)) throw new InputError('ValueSummary.kind must be none, text or binary');
  if (typeof s.digest !== 'string' || !DIGEST.test(s.digest)) throw new InputError('ValueSummary.digest must be 32 hex digits or "none"');
  const shown = optString(s, 'shown', 1024);
  const stored = optString(s, 'stored', 512);
  return { kind: s.kind as ValueSummary['kind'], digest: s.digest, shown: safeText(shown), stored: safeText(stored) };
}

/** `projected`: the envelope is in the compact form (wire-form.ts), whose long values come as ValueSummary. */
export function normalizeKvPair(entry: unknown, projected = false): KvObservation {
  // Only the fields wire-form.ts lists (the compact form sends no others).
  const e: EntryOf<typeof PROJECTED_KV_FIELDS> = asObject(entry, 'a KVPair');
  const modifyIndex = optIndex(e, 'ModifyIndex');
  if (modifyIndex === 0) throw new InputError('ModifyIndex is missing');
  const key = reqString(e, 'Key', MAX_KEY_BYTES);
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) throw new InputError(`Key is longer than ${MAX_KEY_BYTES} bytes`);
  return {
    key,
    createIndex: optIndex(e, 'CreateIndex'),
    modifyIndex,
    lockIndex: optIndex(e, 'LockIndex'),
    // uint64 set by the writer: may lose precision above 2^53, only shown and compared.
    flags: optNumber(e, 'Flags'),
    session: optString(e, 'Session'),
    value: projected && e.ValueSummary !== undefined ? valueSummary(e.ValueSummary) : summarizeValue(e.Value),
  };
}

/** keyprefix: an array of KVPair; `null` means no key under the prefix (all deleted). */
export function normalizeKeyprefix(parsed: unknown, projected = false): Normalized<KvObservation> {
  return normalizeArray(parsed, 'a keyprefix watch body', (entry) => normalizeKvPair(entry, projected));
}

/** key: one KVPair, or `null` when the key does not exist. */
export function normalizeKey(parsed: unknown, projected = false): Normalized<KvObservation> {
  if (parsed === null) return { observations: [], rejected: [] };
  if (Array.isArray(parsed)) throw new InputError('a key watch body must be one KVPair object or null');
  try {
    return { observations: [normalizeKvPair(parsed, projected)], rejected: [] };
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return { observations: [], rejected: [{ index: 0, reason: err.message }] };
  }
}

export const kvSubject = (key: string): string => `kv/${key}`;

export interface KvContext {
  cluster: string;
  at: string;
  /** First snapshot of the scope: record nothing, alert nothing. */
  baseline: boolean;
  /**
   * The scope is re-baselined after its index went backwards: a known key without a
   * record (unchanged since the baseline, its value never stored) is taken as unchanged.
   */
  reset?: boolean;
  /** The scope already knew this key (existed at its baseline or since). */
  known: boolean;
  /** Watch index of the snapshot (CONSUL_INDEX), when known. */
  snapshotIndex?: number;
}

function stateOf(o: KvObservation, at: string): KvRecordState {
  return {
    key: o.key,
    deleted: false,
    modifyIndex: o.modifyIndex,
    createIndex: o.createIndex,
    flags: o.flags,
    session: o.session,
    valueDigest: o.value.digest,
    valueExcerpt: o.value.stored,
    since: at,
  };
}

function valueDetails(o: KvObservation): Array<[string, string]> {
  return [
    ['Value', o.value.shown],
    ['Value encoding', o.value.kind === 'binary' ? 'binary' : o.value.kind === 'text' ? 'UTF-8 text' : 'none (null)'],
    ['Flags', o.flags ? String(o.flags) : ''],
    ['Session', o.session],
    ['LockIndex', o.lockIndex ? String(o.lockIndex) : ''],
    ['CreateIndex', String(o.createIndex)],
    ['ModifyIndex', String(o.modifyIndex)],
  ];
}

/** A key present in the snapshot whose ModifyIndex is above the scope's watermark. */
export function decideKvPresent(previous: KvRecordState | undefined, o: KvObservation, ctx: KvContext): Verdict<KvRecordState> {
  if (ctx.baseline) return ignore('baseline', true);
  if (ctx.reset && !previous && ctx.known) return ignore('unchanged', true);
  if (previous && o.modifyIndex <= previous.modifyIndex) {
    // Older than what is stored: a lagging agent. Deleted later stays deleted.
    return ignore('stale', !previous.deleted);
  }
  const state = stateOf(o, ctx.at);
  const existed = previous ? !previous.deleted : ctx.known;
  if (previous && !previous.deleted && previous.valueDigest === state.valueDigest && previous.flags === o.flags) {
    // Lock/session bookkeeping bumps ModifyIndex without changing the value: record, no alert.
    return { decision: { kind: 'write', state: { ...state, since: previous.since } }, member: true };
  }
  const change: KvChange = existed ? 'changed' : 'created';
  const details: Array<[string, string]> = [['Key', o.key], ...valueDetails(o)];
  if (previous && !previous.deleted) details.splice(2, 0, ['Previous value', previous.valueExcerpt]);
  return {
    decision: {
      kind: 'write',
      state,
      alert: buildAlert(KV_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: '',
        what: `key ${o.key} ${change}`,
        ...(previous ? { from: previous.deleted ? 'deleted' : 'present' } : {}),
        to: change,
        at: ctx.at,
        ...(previous ? { since: previous.since } : {}),
        details,
        idParts: [kvSubject(o.key), change, o.modifyIndex],
      }),
    },
    member: true,
  };
}

/**
 * A key the scope knew is missing from the snapshot. `snapshotIndex` orders the
 * deletion against the stored ModifyIndex; unknown, the deletion is taken as current.
 */
export function decideKvGone(previous: KvRecordState | undefined, key: string, ctx: KvContext): Verdict<KvRecordState> {
  if (previous?.deleted) return ignore('unchanged', false);
  if (previous && ctx.snapshotIndex !== undefined && ctx.snapshotIndex <= previous.modifyIndex) return ignore('stale');
  const modifyIndex = Math.max(ctx.snapshotIndex ?? 0, previous?.modifyIndex ?? 0);
  const state: KvRecordState = {
    key,
    deleted: true,
    modifyIndex,
    createIndex: previous?.createIndex ?? 0,
    flags: previous?.flags ?? 0,
    session: '',
    valueDigest: 'none',
    valueExcerpt: previous?.valueExcerpt ?? '',
    since: ctx.at,
  };
  return {
    decision: {
      kind: 'write',
      state,
      ttlSeconds: GONE_RETENTION_SECONDS,
      alert: buildAlert(KV_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: '',
        what: `key ${key} deleted`,
        from: 'present',
        to: 'deleted',
        at: ctx.at,
        ...(previous ? { since: previous.since } : {}),
        details: [
          ['Key', key],
          ['Last value', previous ? previous.valueExcerpt : '(not recorded: the key was unchanged since tocsin started watching)'],
          ['Watch index', ctx.snapshotIndex !== undefined ? String(ctx.snapshotIndex) : 'unknown'],
        ],
        idParts: [kvSubject(key), 'deleted', ctx.snapshotIndex ?? previous?.modifyIndex],
      }),
    },
    member: false,
  };
}
