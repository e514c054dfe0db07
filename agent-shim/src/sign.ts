/**
 * The shim's request signature: lambdas/domain/signing.ts's sign() and keyId(), byte for
 * byte, without loading node:crypto for the usual small request (sha256.ts says why). A
 * body over JS_HASH_MAX_BYTES (a whole list of a big watch, gzipped) is hashed with
 * node:crypto, loaded then: there native hashing is faster than JavaScript that has not
 * been optimised yet, and the run pays for zlib anyway.
 */
// signing-canonical.ts imports nothing: no node:crypto comes with it.
import { canonicalString, KEY_ID_HEX_DIGITS, KEY_ID_MESSAGE, signatureValue } from '../../lambdas/domain/signing-canonical';
import { hmacSha256, sha256 } from './sha256';

/** Largest body hashed in JavaScript. A delta or a small watch's envelope is well under it. */
export const JS_HASH_MAX_BYTES = 8 * 1024;

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

function bodySha256Hex(body: Uint8Array): string {
  if (body.length <= JS_HASH_MAX_BYTES) return hex(sha256(body));
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(body).digest('hex');
}

/** Header value `v1=<hex>`, as signing.ts sign() makes it. */
export function sign(key: string, method: string, path: string, timestamp: string, body: Uint8Array): string {
  const mac = hmacSha256(utf8(key), utf8(canonicalString(method, path, timestamp, bodySha256Hex(body))));
  return signatureValue(hex(mac));
}

/** signing.ts keyId(). */
export function keyId(key: string): string {
  return hex(hmacSha256(utf8(key), utf8(KEY_ID_MESSAGE))).slice(0, KEY_ID_HEX_DIGITS);
}
