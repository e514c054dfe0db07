/**
 * Authentication of the admin APIs (silences, watchers): signed exactly like the shim's
 * envelopes (HMAC-SHA256 over method, path, timestamp and body digest) but with the
 * cluster's ADMIN key, a separate secret: the shim key sits on every node of the cluster,
 * and a compromised node must not silence its own alerts or retire itself. What a request
 * does applies to the cluster whose admin key signed it, and to nothing else.
 */
import { HEADERS, REPLAYED } from '../domain/protocol';
import type { ClusterKeys } from './credentials';
import type { HttpRequest, HttpResponse } from './http';
import type { Clock } from './runtime';
import { replayRecordExpiry, signatureRefusal, verifyWithKeys, type ReplayGuard } from './signed-request';

export interface AdminAuthDeps {
  /** Per-cluster admin keys (not the shim keys). */
  adminKeys: ClusterKeys;
  replay: ReplayGuard;
  clock: Clock;
}

export const adminFailure = (status: number, error: string, message: string): HttpResponse => ({ status, body: { error, message } });

/** The signing cluster, or the 401 to answer. Each signature is accepted once (replay guard, `admin/<cluster>`). */
export async function authenticateAdmin(deps: AdminAuthDeps, req: HttpRequest): Promise<string | HttpResponse> {
  const cluster = req.headers[HEADERS.cluster];
  if (!cluster) return adminFailure(401, 'unauthenticated', `missing ${HEADERS.cluster} header`);
  const secret = await deps.adminKeys.keyFor(cluster);
  if (!secret) return adminFailure(401, 'unauthenticated', 'unknown cluster');
  const verdict = await verifyWithKeys(req, deps.adminKeys, cluster, secret, deps.clock.nowMs());
  if (!verdict.ok) {
    const refusal = signatureRefusal(verdict);
    return adminFailure(refusal.status, refusal.error, refusal.error === 'unauthenticated' ? `${refusal.message} (sign with the cluster's admin key)` : refusal.message);
  }
  const signature = req.headers[HEADERS.signature] as string;
  if (!(await deps.replay.firstUse(`admin/${cluster}`, signature, replayRecordExpiry(req)))) {
    return adminFailure(REPLAYED.status, REPLAYED.error, REPLAYED.message);
  }
  return cluster;
}
