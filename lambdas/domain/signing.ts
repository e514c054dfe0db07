/**
 * Request signing shared by agent-shim and the ingest API.
 * HMAC-SHA256 over method, path, timestamp and the SHA-256 of the body bytes
 * exactly as transmitted (after any compression).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';

export function bodyDigest(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function canonicalRequest(method: string, path: string, timestamp: string, body: Uint8Array | string): string {
  return [SIGNATURE_VERSION, method.toUpperCase(), path, timestamp, bodyDigest(body)].join('\n');
}

/** Header value: `v1=<hex>`. */
export function sign(key: string, method: string, path: string, timestamp: string, body: Uint8Array | string): string {
  const mac = createHmac('sha256', key).update(canonicalRequest(method, path, timestamp, body)).digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; reason: 'missing signature' | 'malformed signature' | 'malformed timestamp' | 'timestamp outside window' | 'signature mismatch' };

export interface VerifyInput {
  key: string;
  method: string;
  path: string;
  timestamp: string | undefined;
  signature: string | undefined;
  body: Uint8Array | string;
  nowSeconds: number;
  windowSeconds: number;
}

export function verify(input: VerifyInput): SignatureVerdict {
  if (!input.signature || !input.timestamp) return { ok: false, reason: 'missing signature' };
  if (!/^v1=[0-9a-f]{64}$/.test(input.signature)) return { ok: false, reason: 'malformed signature' };
  if (!/^\d{1,12}$/.test(input.timestamp)) return { ok: false, reason: 'malformed timestamp' };
  if (Math.abs(input.nowSeconds - Number(input.timestamp)) > input.windowSeconds) {
    return { ok: false, reason: 'timestamp outside window' };
  }
  const expected = Buffer.from(sign(input.key, input.method, input.path, input.timestamp, input.body));
  const given = Buffer.from(input.signature);
  // Same length is guaranteed by the regex above; compare in constant time.
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'signature mismatch' };
  }
  return { ok: true };
}
