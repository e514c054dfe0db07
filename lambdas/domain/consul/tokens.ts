/**
 * Bearer tokens of Consul's own HTTP watch handler (`handler_type: "http"`). Only
 * the SHA-256 of a token is stored; a presented token is hashed and compared in
 * constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Lower-case hex SHA-256 of the token's UTF-8 bytes: what the stores hold. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** True when `storedDigest` is a SHA-256 hex digest and `token` hashes to it (constant time). */
export function tokenMatches(token: string, storedDigest: string | undefined): boolean {
  if (!storedDigest) return false;
  const stored = storedDigest.trim().toLowerCase();
  if (!HEX_DIGEST.test(stored)) return false; // a placeholder or a raw token: never matches
  const a = Buffer.from(tokenDigest(token), 'hex');
  const b = Buffer.from(stored, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `Authorization: Bearer <token>` header value; undefined otherwise. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer[ \t]+([\x21-\x7e]{1,512})[ \t]*$/i.exec(header);
  return m ? m[1] : undefined;
}
