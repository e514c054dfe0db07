/**
 * Request signing shared by agent-shim and the ingest API.
 * HMAC-SHA256 over method, path, timestamp and the SHA-256 of the body bytes
 * exactly as transmitted (after any compression).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalString, KEY_ID_HEX_DIGITS, KEY_ID_MESSAGE, SIGNATURE_VERSION, signatureValue } from './signing-canonical';

export { SIGNATURE_VERSION };

export function bodyDigest(body: Uint8Array | string): string {
  return createHash('sha256').update(body).digest('hex');
}

export function canonicalRequest(method: string, path: string, timestamp: string, body: Uint8Array | string): string {
  return canonicalString(method, path, timestamp, bodyDigest(body));
}

/** Header value: `v1=<hex>`. */
export function sign(key: string, method: string, path: string, timestamp: string, body: Uint8Array | string): string {
  const mac = createHmac('sha256', key).update(canonicalRequest(method, path, timestamp, body)).digest('hex');
  return signatureValue(mac);
}

/**
 * The keys a cluster's secret (or TOCSIN_KEY) holds: one key, or during a rotation
 * several separated by white space, the newest first. Keys never contain white space
 * (generated keys are alphanumeric). A sender signs with the first.
 */
export function keyList(secret: string): string[] {
  return secret.split(/\s+/).filter((k) => k !== '');
}

/** A key's public fingerprint (HEADERS.keyId): 16 hex digits of an HMAC under the key, which reveals nothing of it. */
export function keyId(key: string): string {
  let id = KEY_IDS.get(key);
  if (id === undefined) {
    id = createHmac('sha256', key).update(KEY_ID_MESSAGE).digest('hex').slice(0, KEY_ID_HEX_DIGITS);
    if (KEY_IDS.size >= MAX_KEY_IDS) KEY_IDS.clear();
    KEY_IDS.set(key, id);
  }
  return id;
}
/**
 * The ids of the keys seen, kept: a signed request names its key's id, and every check of
 * it took an HMAC per key of the cluster (bench figure 6). Bounded: a process holds a few keys.
 */
const KEY_IDS = new Map<string, string>();
const MAX_KEY_IDS = 256;

const KEY_ID_RE = /^[0-9a-f]{16}$/;

export type SignatureVerdict =
  | { ok: true }
  | { ok: false; reason: 'missing signature' | 'malformed signature' | 'malformed timestamp' | 'timestamp outside window' | 'unknown key' | 'signature mismatch' };

export interface VerifyInput {
  /** The key, or the keys the cluster holds (any of them may have signed). */
  key: string | readonly string[];
  /**
   * The key id the request names, if any: only that key is tried, and none of `key` having
   * it is 'unknown key' (a rotation under way) rather than 'signature mismatch'. A malformed
   * id counts as none.
   */
  keyId?: string;
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
  let keys = typeof input.key === 'string' ? [input.key] : input.key;
  if (input.keyId !== undefined && KEY_ID_RE.test(input.keyId)) {
    keys = keys.filter((k) => keyId(k) === input.keyId);
    if (keys.length === 0) return { ok: false, reason: 'unknown key' };
  }
  const given = Buffer.from(input.signature);
  for (const key of keys) {
    const expected = Buffer.from(sign(key, input.method, input.path, input.timestamp, input.body));
    // Same length is guaranteed by the regex above; compare in constant time.
    if (expected.length === given.length && timingSafeEqual(expected, given)) return { ok: true };
  }
  return { ok: false, reason: 'signature mismatch' };
}
