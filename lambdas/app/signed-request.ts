/**
 * An HMAC-signed request as both signed APIs (ingest, silences) read it: the signing
 * headers mapped onto domain/signing's verify, and how long its replay record must live
 * (ReplayGuard).
 */
import { HEADERS, LIMITS } from '../domain/protocol';
import { verify } from '../domain/signing';
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

export function verifySignedRequest(req: HttpRequest, key: string, nowMs: number): ReturnType<typeof verify> {
  return verify({
    key,
    method: req.method,
    path: req.path,
    timestamp: req.headers[HEADERS.timestamp],
    signature: req.headers[HEADERS.signature],
    body: req.body,
    nowSeconds: Math.floor(nowMs / 1000),
    windowSeconds: LIMITS.signatureWindowSeconds,
  });
}

/** Epoch seconds until which a verified request's signature could still pass the window (+60 s slack). */
export function replayRecordExpiry(req: HttpRequest): number {
  return Number(req.headers[HEADERS.timestamp]) + LIMITS.signatureWindowSeconds + 60;
}
