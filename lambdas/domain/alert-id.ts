/** Alert ids, shared by every source: one id per change, so a repeated delivery of it is recognised. */
import { createHash } from 'node:crypto';

/** Deterministic: the same parts (cluster, kind, subject, change ...) always give the same 32 hex digits. */
export function alertId(parts: ReadonlyArray<string | number | undefined>): string {
  return createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\u0000')).digest('hex').slice(0, 32);
}
