/**
 * The watchers API (`tocsin watchers`): list a cluster's heartbeat watchers with their last
 * report and state, and forget (retire) one. Transport-neutral like ingest-http.ts, signed
 * with the cluster's ADMIN key (admin-auth.ts): a node holding only the shim key cannot
 * retire itself. Applies to the signing cluster only.
 */
import { formatDuration } from '../domain/rules/duration';
import { ROUTES } from '../domain/protocol';
import { adminFailure, authenticateAdmin, type AdminAuthDeps } from './admin-auth';
import type { Heartbeats } from './heartbeats';
import type { SweepLedger } from './heartbeat-ports';
import type { HttpRequest, HttpResponse } from './http';
import type { Logger } from './runtime';

export interface WatchersApiDeps extends AdminAuthDeps {
  heartbeats: Heartbeats;
  ledger: SweepLedger;
  logger: Logger;
}

const MAX_BODY_BYTES = 4 * 1024;
const MAX_NODE_CHARS = 256;

export function isWatcherRoute(path: string): boolean {
  return path === ROUTES.watcherList.path || path === ROUTES.watcherForget.path;
}

export function createWatchersApi(deps: WatchersApiDeps): (req: HttpRequest) => Promise<HttpResponse> {
  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    try {
      const route =
        req.path === ROUTES.watcherList.path && req.method === ROUTES.watcherList.method
          ? 'list'
          : req.path === ROUTES.watcherForget.path && req.method === ROUTES.watcherForget.method
            ? 'forget'
            : undefined;
      if (!route) return adminFailure(isWatcherRoute(req.path) ? 405 : 404, isWatcherRoute(req.path) ? 'method_not_allowed' : 'not_found', `no route for ${req.method} ${req.path.slice(0, 100)}`);
      if (req.body.length > MAX_BODY_BYTES) return adminFailure(413, 'body_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
      const auth = await authenticateAdmin(deps, req);
      if (typeof auth !== 'string') return auth;
      const cluster = auth;

      if (route === 'list') {
        const [{ settings, watchers }, last] = await Promise.all([deps.heartbeats.list(cluster), deps.ledger.lastSweep()]);
        return {
          status: 200,
          body: {
            cluster,
            every: formatDuration(settings.every),
            missingAfter: formatDuration(settings.missingAfter),
            sweeper: last ? { lastSweepAt: new Date(last.at).toISOString(), ok: last.ok } : { lastSweepAt: null },
            watchers,
          },
        };
      }
      let body: unknown;
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch {
        return adminFailure(400, 'malformed_json', 'the body must be JSON: {"node": "<name>"}');
      }
      const node = (body as { node?: unknown } | null)?.node;
      if (typeof node !== 'string' || node.length === 0 || node.length > MAX_NODE_CHARS) {
        return adminFailure(400, 'invalid_node', `"node" must be a string of 1-${MAX_NODE_CHARS} characters`);
      }
      const out = await deps.heartbeats.forget(cluster, node);
      if (!out.found) return adminFailure(404, 'not_found', `no watcher ${node.slice(0, 100)} in cluster ${cluster}`);
      deps.logger.info('watcher forgotten', { cluster, node, resolved: out.resolved, unsettled: out.unsettled });
      return {
        status: 200,
        body: {
          cluster,
          node,
          forgotten: true,
          resolved: out.resolved,
          ...(out.unsettled ? { note: 'its resolved notice could not be published yet; the next sweep publishes it' } : {}),
        },
      };
    } catch (err) {
      deps.logger.error('watchers api failed', { error: (err as Error).message });
      return adminFailure(500, 'internal', 'internal error; the request can be retried');
    }
  };
}
