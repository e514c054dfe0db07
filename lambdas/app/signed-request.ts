/**
 * An HMAC-signed request as both signed APIs (ingest, silences) read it: the signing
 * headers mapped onto domain/signing's verify, and how long its replay record must live.
 */
import { HEADERS, LIMITS } from '../commons/topology';
import { verify } from '../domain/signing';
import type { HttpRequest } from './ingest-http';

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
