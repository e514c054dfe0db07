/**
 * The silence API (create, list, expire), transport-neutral like ingest-http.ts.
 * Requests are signed exactly like the shim's (HMAC-SHA256 over method, path,
 * timestamp and body digest; lambdas/domain/signing.ts), but with the cluster's ADMIN
 * key (admin-auth.ts): the shim key sits on every node of the cluster, and a
 * compromised node must not be able to silence its own alerts. A silence applies to
 * the cluster whose admin key signed it, and to nothing else.
 */
import { randomBytes } from 'node:crypto';
import { ROUTES } from '../domain/protocol';
import { parseSilenceRequest, SilenceError, silenceState, SILENCE_LIMITS, type Silence } from '../domain/rules/silences';
import type { SilenceStore } from './delivery-ports';
import type { HttpRequest, HttpResponse } from './http';
import type { Clock, Logger } from './runtime';
import type { ClusterKeys } from './credentials';
import { authenticateAdmin } from './admin-auth';
import type { ReplayGuard } from './signed-request';

export interface SilenceApiDeps {
  /** Per-cluster admin keys (not the shim keys). */
  adminKeys: ClusterKeys;
  replay: ReplayGuard;
  silences: SilenceStore;
  clock: Clock;
  logger: Logger;
}

const EXPIRE_PATH = new RegExp(`^${ROUTES.silenceExpire.path.replace('{id}', '([A-Za-z0-9_-]{1,64})')}$`);
const MAX_BODY_BYTES = 64 * 1024;

export function isSilenceRoute(path: string): boolean {
  return path === ROUTES.silenceCreate.path || EXPIRE_PATH.test(path);
}

const json = (status: number, body: Record<string, unknown>): HttpResponse => ({ status, body });
const fail = (status: number, error: string, message: string): HttpResponse => json(status, { error, message });

function view(s: Silence, nowMs: number): Record<string, unknown> {
  return { ...s, state: silenceState(s, nowMs) };
}

export function createSilenceApi(deps: SilenceApiDeps): (req: HttpRequest) => Promise<HttpResponse> {
  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    try {
      const expireId = EXPIRE_PATH.exec(req.path)?.[1];
      const route =
        req.path === ROUTES.silenceCreate.path && req.method === ROUTES.silenceCreate.method
          ? 'create'
          : req.path === ROUTES.silenceList.path && req.method === ROUTES.silenceList.method
            ? 'list'
            : expireId && req.method === ROUTES.silenceExpire.method
              ? 'expire'
              : undefined;
      if (!route) return fail(isSilenceRoute(req.path) ? 405 : 404, isSilenceRoute(req.path) ? 'method_not_allowed' : 'not_found', `no route for ${req.method} ${req.path.slice(0, 100)}`);
      if (req.body.length > MAX_BODY_BYTES) return fail(413, 'body_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
      const auth = await authenticateAdmin(deps, req);
      if (typeof auth !== 'string') return auth;
      const cluster = auth;
      const nowMs = deps.clock.nowMs();

      if (route === 'list') {
        const all = await deps.silences.list(cluster);
        const wantAll = req.query?.all === '1' || req.query?.all === 'true';
        const shown = all.filter((s) => wantAll || silenceState(s, nowMs) !== 'expired').sort((a, b) => a.endsAt.localeCompare(b.endsAt));
        return json(200, { cluster, silences: shown.map((s) => view(s, nowMs)) });
      }
      if (route === 'expire') {
        const out = await deps.silences.expire(cluster, expireId as string, nowMs);
        if (out.kind === 'not_found') return fail(404, 'not_found', `no silence ${expireId} in cluster ${cluster}`);
        deps.logger.info('silence expired', { cluster, id: expireId, already: out.kind === 'already_expired' });
        return json(200, { silence: view(out.silence, nowMs), ...(out.kind === 'already_expired' ? { note: 'it had already ended' } : {}) });
      }
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch {
        return fail(400, 'malformed_json', 'the body must be JSON');
      }
      const active = (await deps.silences.list(cluster)).filter((s) => silenceState(s, nowMs) !== 'expired');
      if (active.length >= SILENCE_LIMITS.perCluster) return fail(409, 'too_many_silences', `cluster ${cluster} already has ${active.length} silences; expire some first`);
      const silence = parseSilenceRequest(body, cluster, randomBytes(9).toString('base64url'), nowMs);
      await deps.silences.create(silence);
      deps.logger.info('silence created', { cluster, id: silence.id, author: silence.author, endsAt: silence.endsAt });
      return json(201, { silence: view(silence, nowMs) });
    } catch (err) {
      if (err instanceof SilenceError) return fail(400, 'invalid_silence', err.message);
      deps.logger.error('silence api failed', { error: (err as Error).message });
      return fail(500, 'internal', 'internal error; the request can be retried');
    }
  };
}
