/**
 * The compact ("projected") form of Consul watch results: each entry cut down to what the
 * backend reads. One place for that fact: the normalizers (checks.ts, kv.ts, catalog.ts,
 * health-service.ts) type their entries with these field lists, so that reading a field not
 * listed here does not compile, and keep long values through the same functions the shim
 * projects with; the shim (agent-shim/src/compact.ts) bundles this module. Hence it imports
 * only pure domain leaves and node:crypto (which the shim loads for signing anyway).
 *
 * Lossless by construction and by test (test/unit/wire-form.test.ts): for every watch
 * result R, normalize(project(R)) deep-equals normalize(R). A projected envelope says so
 * (`Envelope.form: 'projected'`); the backend takes both forms (Consul's own http handler
 * and older shims send raw ones). docs/ARCHITECTURE.md "Big datacenters on the wire".
 */
import { excerpt } from '../excerpt';
import { safeText, truncateText } from '../input-limits';
import { bytesDigest, decodeBase64Field, describeBytes } from './payload';

/** `Envelope.form` of a projected watch result. */
export const PROJECTED_FORM = 'projected';

/** An entry of which only the fields in `L` can be read. */
export type EntryOf<L extends readonly string[]> = { readonly [K in L[number]]?: unknown };

/** HealthCheck fields the backend reads (normalizeCheck); ExposedPort, Namespace, Partition... are not. */
export const CHECK_FIELDS = ['Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Definition', 'CreateIndex', 'ModifyIndex'] as const;
/** /v1/catalog/nodes entry fields the backend reads (normalizeCatalogNode). */
export const CATALOG_NODE_FIELDS = ['ID', 'Node', 'Address', 'Datacenter', 'TaggedAddresses', 'Meta', 'CreateIndex', 'ModifyIndex'] as const;
/** A /v1/health/service entry: its parts, and of each the fields the backend reads (normalizeServiceEntry). */
export const SERVICE_ENTRY_FIELDS = ['Node', 'Service', 'Checks'] as const;
export const SERVICE_NODE_FIELDS = ['Node', 'Address', 'Meta', 'ModifyIndex'] as const;
export const SERVICE_FIELDS = ['ID', 'Service', 'Tags', 'Address', 'Port', 'TaggedAddresses', 'Meta', 'ModifyIndex'] as const;
/** KVPair fields the backend reads (normalizeKvPair). */
export const KV_FIELDS = ['Key', 'CreateIndex', 'ModifyIndex', 'LockIndex', 'Flags', 'Session', 'Value'] as const;
/** In the projected form a long `Value` is replaced by `ValueSummary` (read only in that form). */
export const PROJECTED_KV_FIELDS = [...KV_FIELDS, 'ValueSummary'] as const;

/** Longest check Output read at all (Consul itself caps it at 4096 bytes by default). */
export const MAX_OUTPUT_CHARS = 4096;
/**
 * Characters of check output the backend keeps: the most any alert shows (the check alert's
 * Output detail; a service instance's failing check shows 300, a storm digest 200).
 */
export const OUTPUT_KEPT_CHARS = 1000;

/**
 * A check's Output as the backend keeps it: cut, unsafe characters replaced, trimmed and cut
 * again to OUTPUT_KEPT_CHARS (an excerpt, ending in "…" when cut). Idempotent, which is what
 * makes sending it instead of the whole output lossless.
 */
export function keptOutput(output: string): string {
  return excerpt(safeText(truncateText(output, MAX_OUTPUT_CHARS)), OUTPUT_KEPT_CHARS);
}

/** Characters of a KV value kept in its record (to show "was ..." in a later alert). */
export const STORED_VALUE_CHARS = 200;

/** What the backend keeps of a KV value (kv.ts): its kind, a digest, and two descriptions. */
export interface ValueSummary {
  kind: 'none' | 'text' | 'binary';
  /** bytesDigest: tells "value changed" from "only metadata changed". */
  digest: string;
  /** describeBytes at its default length: the alert's Value detail. */
  shown: string;
  /** describeBytes at STORED_VALUE_CHARS: the record's excerpt. */
  stored: string;
}

/** A KVPair's base64 `Value` (or null) as the backend keeps it; throws InputError when it is not base64. */
export function summarizeValue(value: unknown): ValueSummary {
  const d = decodeBase64Field(value, 'Value');
  return { kind: d.kind, digest: bytesDigest(d), shown: describeBytes(d), stored: describeBytes(d, STORED_VALUE_CHARS) };
}

/** A Value in base64 longer than this goes as its ValueSummary (~100 characters plus its two descriptions). */
const SUMMARIZE_ABOVE_CHARS = 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hasOwn = Object.prototype.hasOwnProperty;

/** The listed fields of `entry` that it has; anything but an object is left as it is (the normalizer refuses it alike). */
function pick(entry: unknown, fields: readonly string[]): unknown {
  if (!isObject(entry)) return entry;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (hasOwn.call(entry, f)) out[f] = entry[f];
  return out;
}

export function projectCheck(entry: unknown): unknown {
  const out = pick(entry, CHECK_FIELDS);
  if (isObject(out) && typeof out.Output === 'string') out.Output = keptOutput(out.Output);
  return out;
}

export function projectCatalogNode(entry: unknown): unknown {
  return pick(entry, CATALOG_NODE_FIELDS);
}

export function projectServiceEntry(entry: unknown): unknown {
  const out = pick(entry, SERVICE_ENTRY_FIELDS);
  if (!isObject(out)) return out;
  if ('Node' in out) out.Node = pick(out.Node, SERVICE_NODE_FIELDS);
  if ('Service' in out) out.Service = pick(out.Service, SERVICE_FIELDS);
  if (Array.isArray(out.Checks)) out.Checks = out.Checks.map(projectCheck);
  return out;
}

export function projectKvPair(entry: unknown): unknown {
  const out = pick(entry, KV_FIELDS);
  if (!isObject(out)) return out;
  if (typeof out.Value === 'string' && out.Value.length > SUMMARIZE_ABOVE_CHARS) {
    try {
      out.ValueSummary = summarizeValue(out.Value);
      delete out.Value;
    } catch {
      /* not base64: sent as it is, the backend names the problem */
    }
  }
  return out;
}

/** Watch types with a compact form, and how each entry is projected. */
const PROJECTIONS: Readonly<Record<string, (entry: unknown) => unknown>> = {
  checks: projectCheck,
  keyprefix: projectKvPair,
  key: projectKvPair,
  service: projectServiceEntry,
  nodes: projectCatalogNode,
};

export function hasProjection(type: string): boolean {
  return hasOwn.call(PROJECTIONS, type);
}

/**
 * The watch result `parsed` of a Consul `type` watch in the compact form, or undefined when
 * the type has none or the result is not of the expected shape (sent raw, judged by the backend).
 */
export function projectWatchResult(type: string, parsed: unknown): unknown {
  const project = hasOwn.call(PROJECTIONS, type) ? PROJECTIONS[type] : undefined;
  if (!project) return undefined;
  if (type === 'key') return parsed === null || isObject(parsed) ? (parsed === null ? null : project(parsed)) : undefined;
  return Array.isArray(parsed) ? parsed.map(project) : undefined;
}
