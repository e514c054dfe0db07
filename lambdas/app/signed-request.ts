/**
 * An HMAC-signed request as both signed APIs (ingest, silences) read it: the signing
 * headers mapped onto domain/signing's verify, the answer to a refused signature, and how
 * long its replay record must live (ReplayGuard).
 */
import { CLOCK_SKEW, HEADERS, LIMITS, UNKNOWN_KEY } from '../domain/protocol';
import { keyList, verify, type SignatureVerdict } from '../domain/signing';
import type { ClusterKeys } from './credentials';
import type { HttpRequest } from './http';

/**
 * Remembers the signatures of accepted requests for as long as they could pass the
 * signature time window, so that a captured request cannot be replayed.
 */
export interface ReplayGuard {
  /** Records the first use of `signature`; false if it was used before (a replay). */
  firstUse(cluster: string, signature: string, expiresAtSeconds: number): Promise<boolean>;
  /** Forgets a use whose request failed (5xx), so that the sender may retry it verbatim. */
  forget(cluster: string, signature: string): Promise<void>;
}

/** `secret`: the cluster's stored secret, one key or several (domain/signing keyList). */
export function verifySignedRequest(req: HttpRequest, secret: string, nowMs: number): SignatureVerdict {
  return verify({
    key: keyList(secret),
    keyId: req.headers[HEADERS.keyId],
    method: req.method,
    path: req.path,
    timestamp: req.headers[HEADERS.timestamp],
    signature: req.headers[HEADERS.signature],
    body: req.body,
    nowSeconds: Math.floor(nowMs / 1000),
    windowSeconds: LIMITS.signatureWindowSeconds,
  });
}

/**
 * Verifies `req` against the keys of `cluster` (known to `keys`). A request naming a key the
 * cached secret lacks makes the adapter read the secret again (at most now and then), so a
 * node given a new key right after the secret changed is not held back by the cache.
 */
export async function verifyWithKeys(req: HttpRequest, keys: ClusterKeys, cluster: string, secret: string, nowMs: number): Promise<SignatureVerdict> {
  const verdict = verifySignedRequest(req, secret, nowMs);
  if (verdict.ok || verdict.reason !== 'unknown key') return verdict;
  const fresh = await keys.keyFor(cluster, { fresh: true });
  return fresh && fresh !== secret ? verifySignedRequest(req, fresh, nowMs) : verdict;
}

export interface Refusal {
  status: number;
  error: string;
  message: string;
}

/**
 * The answer to a refused signature: its own code for what the sender can outlive
 * (CLOCK_SKEW, UNKNOWN_KEY: the shim keeps the envelope and resends it), `unauthenticated`
 * with the reason for the rest (a bad signature stays bad).
 */
export function signatureRefusal(verdict: Extract<SignatureVerdict, { ok: false }>): Refusal {
  if (verdict.reason === 'timestamp outside window') return { ...CLOCK_SKEW };
  if (verdict.reason === 'unknown key') return { ...UNKNOWN_KEY };
  return { status: 401, error: 'unauthenticated', message: verdict.reason };
}

/** Epoch seconds until which a verified request's signature could still pass the window (+60 s slack). */
export function replayRecordExpiry(req: HttpRequest): number {
  return Number(req.headers[HEADERS.timestamp]) + LIMITS.signatureWindowSeconds + 60;
}
