/**
 * Normalize the stdin of a Consul `checks` watch (an array of HealthCheck, as
 * written by Go's json.Encoder) into CheckObservations. Each malformed entry is
 * rejected on its own so that the valid ones are still processed.
 */
import { safeText, truncateText } from '../input-limits';
import { InputError, type Normalized, type Rejection } from '../input-errors';
import { CHECK_STATUSES, type CheckObservation, type CheckStatus } from '../types';
import { keptOutput, type CHECK_FIELDS, type EntryOf } from './wire-form';

export { MAX_OUTPUT_CHARS, OUTPUT_KEPT_CHARS } from './wire-form';

/** A HealthCheck as read here: only the fields wire-form.ts lists (the compact form sends no others). */
type CheckEntry = EntryOf<typeof CHECK_FIELDS>;

const STATUSES: ReadonlySet<string> = new Set<string>(CHECK_STATUSES);

/**
 * Per-field limits. Identities (node, check and service ids) end up in DynamoDB keys
 * (1 KB per sort key), attributes and titles: too long is an error. Free text is cut.
 * Together they keep a stored check and its alert far below DynamoDB's 400 KB item and
 * SNS's 256 KB message limits.
 */
export const CHECK_LIMITS = {
  idChars: 256,
  typeChars: 64,
  nameChars: 512,
  notesChars: 4096,
  tags: 64,
  tagChars: 256,
  definitionChars: 8192,
  definitionDepth: 8,
} as const;

/** A string field with unsafe characters replaced (input-limits.ts); longer than `maxChars` is an error. */
function str(entry: CheckEntry, field: keyof CheckEntry, required: boolean, maxChars?: number): string {
  const value = entry[field];
  if (value === undefined || value === null) {
    if (required) throw new InputError(`${field} is missing`);
    return '';
  }
  if (typeof value !== 'string') throw new InputError(`${field} must be a string, got ${typeof value}`);
  if (maxChars !== undefined && value.length > maxChars) throw new InputError(`${field} is longer than ${maxChars} characters`);
  return safeText(value);
}

/** Free text: cut to `maxChars` (never mid surrogate pair), unsafe characters replaced. */
function text(entry: CheckEntry, field: keyof CheckEntry, maxChars: number): string {
  const value = entry[field];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InputError(`${field} must be a string, got ${typeof value}`);
  return safeText(truncateText(value, maxChars));
}

/**
 * A copy of the check's Definition with safe strings and keys, or an InputError naming the
 * problem. Adds to `size.bound` an upper bound of the original's JSON length (every
 * character counted as a 6-character escape), so that the exact JSON.stringify, which
 * costs about a third of normalizing a check, runs only for the rare large Definition.
 */
function definitionCopy(value: unknown, depth: number, size: { bound: number }): unknown {
  if (typeof value === 'string') {
    size.bound += 2 + 6 * value.length;
    return safeText(value);
  }
  if (typeof value !== 'object' || value === null) {
    size.bound += value === null ? 4 : String(value).length;
    return value;
  }
  if (depth > CHECK_LIMITS.definitionDepth) throw new InputError(`Definition nests deeper than ${CHECK_LIMITS.definitionDepth} levels`);
  size.bound += 2;
  if (Array.isArray(value)) {
    size.bound += Math.max(0, value.length - 1);
    return value.map((v) => definitionCopy(v, depth + 1, size));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__' || k === 'constructor' || k === 'prototype') throw new InputError(`Definition has a forbidden key "${k}"`);
    size.bound += 4 + 6 * k.length; // "key": and a comma
    out[safeText(k)] = definitionCopy(v, depth + 1, size);
  }
  return out;
}

/** Output as the backend keeps it (wire-form.ts keptOutput: what the compact form sends). */
function output(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InputError(`Output must be a string, got ${typeof value}`);
  return keptOutput(value);
}

export function normalizeCheck(entry: unknown): CheckObservation {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new InputError('a HealthCheck must be a JSON object');
  }
  const e = entry as CheckEntry;
  const node = str(e, 'Node', true, CHECK_LIMITS.idChars);
  const checkId = str(e, 'CheckID', true, CHECK_LIMITS.idChars);
  if (node === '') throw new InputError('Node is empty');
  if (checkId === '') throw new InputError('CheckID is empty');
  const status = str(e, 'Status', true);
  if (!STATUSES.has(status)) throw new InputError(`Status "${status.slice(0, 40)}" is not one of ${CHECK_STATUSES.join(', ')}`);
  const modifyIndex = e.ModifyIndex;
  if (typeof modifyIndex !== 'number' || !Number.isSafeInteger(modifyIndex) || modifyIndex < 0) {
    throw new InputError('ModifyIndex must be a non-negative integer');
  }
  const createIndex = e.CreateIndex ?? 0;
  if (typeof createIndex !== 'number' || !Number.isSafeInteger(createIndex) || createIndex < 0) {
    throw new InputError('CreateIndex must be a non-negative integer');
  }
  const tags = e.ServiceTags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    throw new InputError('ServiceTags must be an array of strings');
  }
  if (tags.length > CHECK_LIMITS.tags) throw new InputError(`ServiceTags has more than ${CHECK_LIMITS.tags} tags`);
  if (tags.some((t: string) => t.length > CHECK_LIMITS.tagChars)) throw new InputError(`ServiceTags has a tag longer than ${CHECK_LIMITS.tagChars} characters`);
  const definition = e.Definition;
  if (definition !== undefined && definition !== null && (typeof definition !== 'object' || Array.isArray(definition))) {
    throw new InputError('Definition must be an object');
  }
  // Copied now, its problems reported below in the same order as ever: size first.
  let copied: unknown;
  let copyError: unknown;
  if (definition) {
    const size = { bound: 0 };
    try {
      copied = definitionCopy(definition, 1, size);
    } catch (err) {
      copyError = err;
    }
    if ((copyError !== undefined || size.bound > CHECK_LIMITS.definitionChars) && JSON.stringify(definition).length > CHECK_LIMITS.definitionChars) {
      throw new InputError(`Definition is larger than ${CHECK_LIMITS.definitionChars} characters of JSON`);
    }
  }
  const observation: CheckObservation = {
    node,
    checkId,
    name: text(e, 'Name', CHECK_LIMITS.nameChars) || checkId,
    status: status as CheckStatus,
    serviceId: str(e, 'ServiceID', false, CHECK_LIMITS.idChars),
    serviceName: str(e, 'ServiceName', false, CHECK_LIMITS.idChars),
    serviceTags: (tags as string[]).map(safeText),
    type: str(e, 'Type', false, CHECK_LIMITS.typeChars),
    output: output(e.Output),
    notes: text(e, 'Notes', CHECK_LIMITS.notesChars),
    modifyIndex,
    createIndex,
  };
  if (copyError !== undefined) throw copyError;
  if (definition && Object.keys(definition).length > 0) observation.definition = copied as Record<string, unknown>;
  return observation;
}

/** `parsed` is the already JSON-parsed body. */
export function normalizeChecks(parsed: unknown): Normalized<CheckObservation> {
  if (parsed === null) return { observations: [], rejected: [] };
  if (!Array.isArray(parsed)) throw new InputError('a checks watch body must be a JSON array of HealthCheck');
  const observations: CheckObservation[] = [];
  const rejected: Rejection[] = [];
  parsed.forEach((entry, index) => {
    try {
      observations.push(normalizeCheck(entry));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      rejected.push({ index, reason: err.message });
    }
  });
  return { observations, rejected };
}

/** Stable identity of a check within a cluster. */
export function checkSubject(obs: Pick<CheckObservation, 'node' | 'checkId'>): string {
  return `check/${obs.node}/${obs.checkId}`;
}
