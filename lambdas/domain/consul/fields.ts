/**
 * Field readers for Consul's JSON (Go's encoding/json): nil slices and maps arrive
 * as `null`, absent `omitempty` fields are missing. Each reader throws InputError
 * naming the field, so a normalizer can reject one entry and keep the others.
 */
import { CHECK_LIMITS } from './checks';
import { InputError, type Normalized, type Rejection } from '../input-errors';
import { safeText } from '../input-limits';

export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`${what} must be a JSON object`);
  return value as JsonObject;
}

/**
 * A string field with unsafe characters replaced (input-limits.ts); null or missing
 * reads as ''. Longer than `maxChars` is an error (identities end up in keys).
 */
export function optString<E extends object>(o: E, field: keyof E & string, maxChars = 4096): string {
  const value = (o as JsonObject)[field];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InputError(`${field} must be a string, got ${typeof value}`);
  if (value.length > maxChars) throw new InputError(`${field} is longer than ${maxChars} characters`);
  return safeText(value);
}

/** A non-empty identity (node name, service ID ...): part of a subject, so of a DynamoDB key. */
export function reqString<E extends object>(o: E, field: keyof E & string, maxChars: number = CHECK_LIMITS.idChars): string {
  const value = optString(o, field, maxChars);
  if (value === '') throw new InputError(`${field} is missing or empty`);
  return value;
}

/** A uint64 field that must be exact here (indexes); null or missing reads as 0. */
export function optIndex<E extends object>(o: E, field: keyof E & string): number {
  const value = (o as JsonObject)[field] ?? 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new InputError(`${field} must be a non-negative integer`);
  return value;
}

/** A number field where precision does not matter (Flags, Port, Version); null or missing reads as 0. */
export function optNumber<E extends object>(o: E, field: keyof E & string): number {
  const value = (o as JsonObject)[field] ?? 0;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InputError(`${field} must be a number`);
  return value;
}

export function stringArray<E extends object>(o: E, field: keyof E & string): string[] {
  const value = (o as JsonObject)[field] ?? [];
  if (!Array.isArray(value) || !value.every((t) => typeof t === 'string')) throw new InputError(`${field} must be an array of strings`);
  if (value.length > CHECK_LIMITS.tags) throw new InputError(`${field} has more than ${CHECK_LIMITS.tags} entries`);
  if (value.some((t: string) => t.length > CHECK_LIMITS.tagChars)) throw new InputError(`${field} has an entry longer than ${CHECK_LIMITS.tagChars} characters`);
  return (value as string[]).map(safeText);
}

/** Consul allows 64 Meta pairs; TaggedAddresses has a handful. */
const MAX_MAP_ENTRIES = 64;

/** map[string]string; null reads as {}. Non-string values are kept as their JSON. */
export function stringMap<E extends object>(o: E, field: keyof E & string): Record<string, string> {
  const value = (o as JsonObject)[field] ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError(`${field} must be an object`);
  const keys = Object.keys(value).sort();
  if (keys.length > MAX_MAP_ENTRIES) throw new InputError(`${field} has more than ${MAX_MAP_ENTRIES} entries`);
  const out: Record<string, string> = {};
  for (const key of keys) {
    const v = (value as JsonObject)[key];
    out[safeText(key).slice(0, 128)] = safeText(typeof v === 'string' ? v : JSON.stringify(v)).slice(0, 512);
  }
  return out;
}

/** A watch body that is an array (or null, Consul's "no data"), entry by entry. */
export function normalizeArray<T>(parsed: unknown, what: string, normalize: (entry: unknown) => T): Normalized<T> {
  if (parsed === null) return { observations: [], rejected: [] };
  if (!Array.isArray(parsed)) throw new InputError(`${what} must be a JSON array or null`);
  const observations: T[] = [];
  const rejected: Rejection[] = [];
  parsed.forEach((entry, index) => {
    try {
      observations.push(normalize(entry));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      rejected.push({ index, reason: err.message });
    }
  });
  return { observations, rejected };
}

/**
 * CONSUL_INDEX / X-Consul-Index as a number when it is a Raft index that fits.
 * 0 (hash-based watches such as agent_service report 0) reads as unknown.
 * Never use this for `event` watches: their index is a hash of an event ID.
 */
export function raftIndex(index: string | null | undefined): number | undefined {
  if (index === null || index === undefined || !/^\d{1,16}$/.test(index)) return undefined;
  const n = Number(index);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** Order-insensitive, duplicate-free tags. */
export function tagSet(tags: readonly string[]): string[] {
  return [...new Set(tags)].sort();
}

/** JSON with object keys sorted at every level: maps read back from DynamoDB come in any order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, (v as Record<string, unknown>)[k]])) : v,
  );
}

/** Deep equality of JSON values, whatever the order of object keys (array order counts). */
export function sameJson(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

/** `{a: 1}` -> `a=1, b=2` for alert details; '' for an empty map. */
export function formatMap(map: Readonly<Record<string, string>>): string {
  return Object.keys(map)
    .sort()
    .map((k) => `${k}=${map[k]}`)
    .join(', ');
}
