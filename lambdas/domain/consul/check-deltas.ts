/**
 * The body of a `checks` delta envelope (Envelope.delta): what changed in a sender's
 * watch since the snapshot it last delivered.
 *
 *   {"changed": [HealthCheck, ...], "removed": [{"Node": "...", "CheckID": "..."}, ...]}
 *
 * An object, not an array, on purpose: a backend that predates deltas rejects it
 * (400, "must be a JSON array") instead of mistaking it for a whole snapshot.
 */
import { InputError, type Normalized } from '../input-errors';
import { checkSubject, normalizeChecks } from './checks';
import type { CheckObservation } from '../types';

export interface CheckDeltaBody {
  changed: unknown[];
  removed: Array<{ Node: string; CheckID: string }>;
}

export interface NormalizedDelta extends Normalized<CheckObservation> {
  /** Subjects (checkSubject) of the checks gone since the base snapshot. */
  removed: string[];
}

/** Most removed checks one delta may list (a whole 2,000-check cluster x 25). */
const MAX_REMOVED = 50_000;

export function normalizeCheckDelta(parsed: unknown): NormalizedDelta {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError('a checks delta body must be a JSON object {"changed": [...], "removed": [...]}');
  }
  const o = parsed as Record<string, unknown>;
  const changed = o.changed ?? [];
  const removedRaw = o.removed ?? [];
  if (!Array.isArray(changed)) throw new InputError('delta.changed must be an array of HealthCheck');
  if (!Array.isArray(removedRaw)) throw new InputError('delta.removed must be an array of {Node, CheckID}');
  if (removedRaw.length > MAX_REMOVED) throw new InputError(`delta.removed lists more than ${MAX_REMOVED} checks`);
  const removed = removedRaw.map((r, i) => {
    const e = r as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.Node !== 'string' || typeof e.CheckID !== 'string' || e.Node === '' || e.CheckID === '') {
      throw new InputError(`delta.removed[${i}] must be {"Node": string, "CheckID": string}`);
    }
    return checkSubject({ node: e.Node, checkId: e.CheckID });
  });
  return { ...normalizeChecks(changed), removed };
}
