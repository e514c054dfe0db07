/**
 * The compact form of a Consul watch result (lambdas/domain/consul/wire-form.ts): each
 * entry cut to what the backend reads, long check outputs to what it keeps, long KV values
 * to their summary. Sent, spooled and rejected in that form; the backend takes it as it
 * takes the raw one. docs/ARCHITECTURE.md "Big datacenters on the wire".
 */
import type { Envelope } from '../../lambdas/domain/types';
import { hasProjection, PROJECTED_FORM, projectWatchResult } from '../../lambdas/domain/consul/wire-form';

export interface Compacted {
  envelope: Envelope;
  /** The body's JSON value as sent (projected), when it was parsed: checks-delta.ts reuses it. */
  parsed?: unknown;
}

/** `envelope` in the compact form when its watch type has one and its body is a result of the expected shape; else as it is. */
export function compactEnvelope(envelope: Envelope): Compacted {
  if (envelope.source !== 'consul' || envelope.bodyEncoding !== 'utf8' || !hasProjection(envelope.type)) return { envelope };
  let parsed: unknown;
  try {
    parsed = JSON.parse(envelope.body);
  } catch {
    return { envelope }; // the backend names the problem
  }
  const projected = projectWatchResult(envelope.type, parsed);
  if (projected === undefined) return { envelope, parsed };
  return { envelope: { ...envelope, body: JSON.stringify(projected), form: PROJECTED_FORM }, parsed: projected };
}
