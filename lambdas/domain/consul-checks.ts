/**
 * Normalize the stdin of a Consul `checks` watch (an array of HealthCheck, as
 * written by Go's json.Encoder) into CheckObservations. Each malformed entry is
 * rejected on its own so that the valid ones are still processed.
 */
import type { CheckObservation, CheckStatus } from './types';

export interface Rejection {
  index: number;
  reason: string;
}

export interface Normalized<T> {
  observations: T[];
  rejected: Rejection[];
}

const STATUSES: ReadonlySet<string> = new Set<CheckStatus>(['passing', 'warning', 'critical', 'maintenance']);

/** Longest output kept; Consul itself caps at 4096 bytes by default. */
export const MAX_OUTPUT_CHARS = 4096;

export class InputError extends Error {}

function str(entry: Record<string, unknown>, field: string, required: boolean): string {
  const value = entry[field];
  if (value === undefined || value === null) {
    if (required) throw new InputError(`${field} is missing`);
    return '';
  }
  if (typeof value !== 'string') throw new InputError(`${field} must be a string, got ${typeof value}`);
  return value;
}

export function normalizeCheck(entry: unknown): CheckObservation {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new InputError('a HealthCheck must be a JSON object');
  }
  const e = entry as Record<string, unknown>;
  const node = str(e, 'Node', true);
  const checkId = str(e, 'CheckID', true);
  if (node === '') throw new InputError('Node is empty');
  if (checkId === '') throw new InputError('CheckID is empty');
  const status = str(e, 'Status', true);
  if (!STATUSES.has(status)) throw new InputError(`Status "${status.slice(0, 40)}" is not one of passing, warning, critical, maintenance`);
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
  const definition = e.Definition;
  if (definition !== undefined && definition !== null && (typeof definition !== 'object' || Array.isArray(definition))) {
    throw new InputError('Definition must be an object');
  }
  const output = str(e, 'Output', false);
  const observation: CheckObservation = {
    node,
    checkId,
    name: str(e, 'Name', false) || checkId,
    status: status as CheckStatus,
    serviceId: str(e, 'ServiceID', false),
    serviceName: str(e, 'ServiceName', false),
    serviceTags: tags as string[],
    type: str(e, 'Type', false),
    output: output.length > MAX_OUTPUT_CHARS ? output.slice(0, MAX_OUTPUT_CHARS) : output,
    notes: str(e, 'Notes', false),
    modifyIndex,
    createIndex,
  };
  if (definition && Object.keys(definition).length > 0) observation.definition = definition as Record<string, unknown>;
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
