/**
 * The compact form of a Consul watch result (lambdas/domain/consul/wire-form.ts): each
 * entry cut to what the backend reads, long check outputs to what it keeps, long KV values
 * to their summary. Sent, spooled and rejected in that form; the backend takes it as it
 * takes the raw one. docs/ARCHITECTURE.md "Big datacenters on the wire".
 */
import type { Envelope } from '../../lambdas/domain/types';
import { hasProjection, PROJECTED_FORM, projectWatchResult } from '../../lambdas/domain/consul/wire-form';

export interface Compacted {
  /** The envelope as built from stdin: its body verbatim. */
  raw: Envelope;
  /** The body's JSON value as Consul wrote it, when the type has a compact form and it parsed. */
  parsed?: unknown;
  /**
   * The envelope to send whole (and to spool or reject): the compact form when there is one,
   * made on first use - a checks run that sends a delta never needs it.
   */
  whole(): Envelope;
}

/** `envelope` with a compact form when its watch type has one and its body is a result of the expected shape. */
export function compactEnvelope(raw: Envelope): Compacted {
  if (raw.source !== 'consul' || raw.bodyEncoding !== 'utf8' || !hasProjection(raw.type)) return { raw, whole: () => raw };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.body);
  } catch {
    return { raw, whole: () => raw }; // the backend names the problem
  }
  let made: Envelope | undefined;
  return {
    raw,
    parsed,
    whole: () => {
      if (made) return made;
      const projected = projectWatchResult(raw.type, parsed);
      made = projected === undefined ? raw : { ...raw, body: JSON.stringify(projected), form: PROJECTED_FORM };
      return made;
    },
  };
}
