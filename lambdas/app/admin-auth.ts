/**
 * Authentication of the admin APIs (silences, watchers): signed exactly like the shim's
 * envelopes (HMAC-SHA256 over method, path, timestamp and body digest) but with the
 * cluster's ADMIN key, a separate secret: the shim key sits on every node of the cluster,
 * and a compromised node must not silence its own alerts or retire itself. What a request
 * does applies to the cluster whose admin key signed it, and to nothing else.
 */
import { HEADERS, REPLAYED } from '../domain/protocol';
import { keyId, keyList } from '../domain/signing';
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

export interface ReaderAuthDeps extends AdminAuthDeps {
  /** Per-cluster read-only viewer keys (absent: only admin keys are accepted). */
  viewerKeys?: ClusterKeys;
}

/** Who signed a request of the read APIs: the cluster, and which of its keys (the key's fingerprint). */
export interface Reader {
  cluster: string;
  role: 'admin' | 'viewer';
  keyId: string;
}

/**
 * Like authenticateAdmin, but the cluster's viewer key is accepted too (role `viewer`): the
 * caller lets a viewer only read. The admin key is tried first; a viewer signature fails it
 * as a bad signature (or an unknown key id) and is then checked against the viewer key.
 */
export async function authenticateReader(deps: ReaderAuthDeps, req: HttpRequest): Promise<Reader | HttpResponse> {
  const cluster = req.headers[HEADERS.cluster];
  if (!cluster) return adminFailure(401, 'unauthenticated', `missing ${HEADERS.cluster} header`);
  const nowMs = deps.clock.nowMs();
  let role: Reader['role'] = 'admin';
  const adminSecret = await deps.adminKeys.keyFor(cluster);
  let secret = adminSecret;
  let verdict = adminSecret ? await verifyWithKeys(req, deps.adminKeys, cluster, adminSecret, nowMs) : undefined;
  if (!verdict?.ok && deps.viewerKeys && (verdict === undefined || verdict.reason !== 'timestamp outside window')) {
    const viewerSecret = await deps.viewerKeys.keyFor(cluster);
    const viewer = viewerSecret ? await verifyWithKeys(req, deps.viewerKeys, cluster, viewerSecret, nowMs) : undefined;
    if (viewer?.ok || verdict === undefined) {
      verdict = viewer;
      secret = viewerSecret;
      role = 'viewer';
    }
  }
  if (!verdict) return adminFailure(401, 'unauthenticated', 'unknown cluster');
  if (!verdict.ok) {
    const refusal = signatureRefusal(verdict);
    return adminFailure(refusal.status, refusal.error, refusal.error === 'unauthenticated' ? `${refusal.message} (sign with the cluster's admin or viewer key)` : refusal.message);
  }
  const signature = req.headers[HEADERS.signature] as string;
  if (!(await deps.replay.firstUse(`admin/${cluster}`, signature, replayRecordExpiry(req)))) {
    return adminFailure(REPLAYED.status, REPLAYED.error, REPLAYED.message);
  }
  // The key's public fingerprint: what an acknowledgement without --by names.
  return { cluster, role, keyId: req.headers[HEADERS.keyId] ?? keyId(keyList(secret ?? '')[0] ?? '') };
}
