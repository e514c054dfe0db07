/**
 * The ingest API, independent of its transport: API Gateway (lambdas/functions)
 * and the local server (local/) both adapt their requests to HttpRequest (http.ts).
 */
import { gunzipSync } from 'node:zlib';
import { LOG_EVENTS, METRICS } from '../commons/deployment';
import { InputError } from '../domain/input-errors';
import { parseEnvelope } from '../domain/envelope';
import { BODY_ALTERED, CLUSTER_NAME_PATTERN, CONSUL_HTTP, HEADERS, HEARTBEAT_ENVELOPE, LIMITS, REPLAYED, ROUTES } from '../domain/protocol';
import { jsonDepthExceeds } from '../domain/input-limits';
import { bearerToken } from '../domain/consul/tokens';
import type { Envelope } from '../domain/types';
import { TransientError } from './errors';
import type { HttpRequest, HttpResponse } from './http';
import type { ClusterKeys, ConsulTokens } from './credentials';
import type { SignOfLife } from './heartbeats';
import type { Logger, Metrics } from './runtime';
import { handlerFor, repeatIsNoOp, type SourceContext } from './sources';
import { processingDeadline } from './time-budget';
import { replayRecordExpiry, signatureRefusal, verifyWithKeys, type ReplayGuard } from './signed-request';

export interface IngestDeps {
  keys: ClusterKeys;
  /** Rejects a second use of an accepted signature. */
  replay: ReplayGuard;
  sources: SourceContext;
  logger: Logger;
  /** Transitions (by source) and refused requests (by status, by error code); absent: none. */
  metrics?: Metrics;
  /** Largest body as received (LIMITS.maxWireBytes) and inflated (LIMITS.maxInflatedBytes); tests make them small. */
  maxWireBytes?: number;
  maxInflatedBytes?: number;
  /** Bearer tokens of Consul's own HTTP watch handler; without them that route is off (404). */
  consulTokens?: ConsulTokens;
  /**
   * Heartbeats: every envelope a handler processed is a sign of life from its (cluster,
   * node). Never throws (failures are logged). Without it nothing is recorded.
   */
  signOfLife?: (s: SignOfLife) => Promise<void>;
  /** How long a request may start subjects (ms); default PROCESSING_BUDGET.stopStartingAfterMs. */
  processingBudgetMs?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const json = (status: number, body: Record<string, unknown>, headers?: Record<string, string>): HttpResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

/** The 413 of a body over the wire limit: what limit, and what a sender can do. */
function tooLargeOnWire(limit: number): HttpError {
  return new HttpError(
    413,
    'body_too_large',
    `the body exceeds the API's limit of ${limit} bytes on the wire (LIMITS.maxWireBytes: what fits base64 in a 6 MB Lambda event); gzip it (tocsin-shim does), or split the watch (docs/ARCHITECTURE.md "Big datacenters on the wire")`,
  );
}

function decodeBody(req: HttpRequest, maxBytes: number): Buffer {
  // Consul's route (bearer token); the shim's route refuses it before its signature check.
  if (req.bodyAltered) throw new HttpError(BODY_ALTERED.status, BODY_ALTERED.error, BODY_ALTERED.message);
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return req.body;
  // Header values are never echoed back.
  if (encoding !== 'gzip') throw new HttpError(415, 'unsupported_encoding', 'this content-encoding is not supported; use gzip or none');
  try {
    return gunzipSync(req.body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(
        413,
        'body_too_large',
        `the gzip body inflates to more than ${maxBytes} bytes, the API's limit for a plain envelope (LIMITS.maxInflatedBytes); split the watch (docs/ARCHITECTURE.md "Big datacenters on the wire")`,
      );
    }
    throw new HttpError(400, 'bad_gzip', 'body is not valid gzip');
  }
}

function parseJson(text: string, what: string): unknown {
  if (jsonDepthExceeds(text, LIMITS.maxJsonDepth)) {
    throw new HttpError(400, 'too_deep', `${what} nests arrays/objects deeper than ${LIMITS.maxJsonDepth} levels`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'malformed_json', `${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

/** `/v1/consul/{watchType}` as a pattern, from the protocol route. */
const CONSUL_HTTP_PATH = new RegExp(`^${ROUTES.consulHttp.path.replace('{watchType}', '([a-z][a-z_]{0,31})')}$`);

/** What authentication learnt about a request. */
interface UsedSignature {
  /** A configured cluster named by the request (logged; an unknown name might be a misplaced key). */
  knownCluster?: string;
  /** The signature, once accepted: forgotten again if the request fails with 5xx. */
  cluster?: string;
  signature?: string;
}

export function createIngestHandler(deps: IngestDeps): (req: HttpRequest) => Promise<HttpResponse> {
  const maxWireBytes = deps.maxWireBytes ?? LIMITS.maxWireBytes;
  const maxInflatedBytes = deps.maxInflatedBytes ?? LIMITS.maxInflatedBytes;

  async function authenticate(req: HttpRequest, used: UsedSignature): Promise<string> {
    const cluster = req.headers[HEADERS.cluster];
    if (!cluster) throw new HttpError(401, 'unauthenticated', `missing ${HEADERS.cluster} header`);
    const secret = await deps.keys.keyFor(cluster);
    if (!secret) throw new HttpError(401, 'unauthenticated', 'unknown cluster');
    used.knownCluster = cluster;
    const verdict = await verifyWithKeys(req, deps.keys, cluster, secret, deps.sources.clock.nowMs());
    if (!verdict.ok) {
      const refusal = signatureRefusal(verdict);
      throw new HttpError(refusal.status, refusal.error, refusal.message);
    }
    return cluster;
  }

  /**
   * Records the first use of an authenticated request's signature; refuses a second.
   * Only with a valid signature: unauthenticated callers cannot fill the table.
   */
  async function refuseReplay(req: HttpRequest, cluster: string, used: UsedSignature): Promise<void> {
    const signature = req.headers[HEADERS.signature] as string;
    if (!(await deps.replay.firstUse(cluster, signature, replayRecordExpiry(req)))) {
      throw new HttpError(REPLAYED.status, REPLAYED.error, REPLAYED.message);
    }
    used.cluster = cluster;
    used.signature = signature;
  }

  /** `reporter`: the envelope's node names a real node (Consul's http route: only with X-Tocsin-Node). */
  async function ingest(envelope: Envelope, deadlineMs: number, reporter = true): Promise<HttpResponse> {
    const handler = handlerFor(envelope.source, envelope.type);
    if (!handler) throw new HttpError(422, 'unsupported_type', `${envelope.source} ${envelope.type} is not supported by this version of tocsin`);
    const { errors, unsettled, needFull, warnings, continued, deferred, ...summary } = await handler(envelope, { ...deps.sources, deadlineMs });
    // Processed (whatever it found): the watcher that sent it is alive.
    if (reporter && deps.signOfLife) {
      const heartbeat = envelope.source === HEARTBEAT_ENVELOPE.source && envelope.type === HEARTBEAT_ENVELOPE.type;
      await deps.signOfLife({ cluster: envelope.cluster, node: envelope.node, via: `${envelope.source}/${envelope.type}`, heartbeat });
    }
    const where = { cluster: envelope.cluster, node: envelope.node, source: envelope.source, type: envelope.type };
    for (const warning of warnings ?? []) deps.logger.error(LOG_EVENTS.inputWarning, { ...where, warning });
    if (needFull) {
      deps.logger.info('delta needs a full snapshot', { ...where, base: envelope.base });
      return json(409, { error: 'need_full', message: 'no baseline for this delta; send the whole snapshot', needFull: true });
    }
    if (summary.index?.verdict === 'reset') {
      // Rare and worth seeing: Consul's indexes restarted (rebuild, snapshot restore) or a KV list lost its newest key.
      deps.logger.info('consul index went backwards: scope re-baselined against stored state', { ...where, scope: envelope.scope ?? envelope.type, ...summary.index });
    }
    deps.logger.info('ingested', { ...where, ...summary, rejected: summary.rejected.length });
    if (summary.transitions > 0) deps.metrics?.count(METRICS.names.transitions, summary.transitions, { [METRICS.dimensions.source]: envelope.source });
    if (deferred) {
      deps.logger.info('time budget spent: the rest on the sender\'s retry', { ...where, deferred, examined: summary.examined });
      return json(503, { error: 'time_budget', message: `the request's time budget was spent after ${summary.examined} of ${summary.examined + deferred}; send it again for the rest (what was done is not repeated)`, ...summary, deferred }, { 'retry-after': '1' });
    }
    // Errors without an unsettled alert (the read model not recorded): the transitions stand, the log says what was missed.
    if (unsettled === 0 && errors.length > 0) deps.logger.error('transition side effects failed', { ...where, errors: errors.slice(0, 10) });
    if (unsettled > 0) {
      deps.logger.error('alerts not yet published', { ...where, unsettled, errors });
      return json(503, { error: 'unsettled', message: `${unsettled} alert(s) could not be published yet; retry`, ...summary }, { 'retry-after': '5' });
    }
    if (summary.rejected.length > 0) {
      // The message names the problems too: it is what the shim prints and keeps in rejected/.
      const named = summary.rejected.slice(0, 5).map((r) => `#${r.index}: ${r.reason}`).join('; ');
      const more = summary.rejected.length > 5 ? `; and ${summary.rejected.length - 5} more` : '';
      return json(422, { error: 'invalid_observations', message: `${summary.rejected.length} observation(s) rejected (${named.slice(0, 400)}${more}); the others were processed${continued ? ' or continue in the background' : ''}`, ...summary, ...(continued ? { continued } : {}) });
    }
    if (continued) {
      // Accepted and stored: the rest goes on from the timers queue (the time budget ran out,
      // or an earlier snapshot of the scope is still being processed). Nothing to resend.
      deps.logger.info(continued.queued ? 'snapshot queued behind the one being continued' : 'snapshot continues in the background', { ...where, remaining: continued.remaining, examined: summary.examined });
      const message = continued.queued
        ? `accepted; queued behind the earlier snapshot of this scope still being processed (${continued.remaining} check(s)); nothing to resend`
        : `accepted; ${continued.remaining} of ${summary.examined} subject(s) are processed in the background (time budget); nothing to resend`;
      return json(202, { ok: true, continued: true, ...(continued.queued ? { queued: true } : {}), message, ...summary, remaining: continued.remaining });
    }
    return json(200, { ok: true, ...summary });
  }

  /** Consul's token for the cluster named by `?cluster=` or the cluster header. */
  async function authenticateBearer(req: HttpRequest, tokens: ConsulTokens, used: UsedSignature): Promise<string> {
    const cluster = req.query?.[CONSUL_HTTP.clusterParam] ?? req.headers[CONSUL_HTTP.clusterHeader];
    if (!cluster) throw new HttpError(401, 'unauthenticated', `missing cluster: add ?${CONSUL_HTTP.clusterParam}=<name> to the handler path, or an ${CONSUL_HTTP.clusterHeader} header`);
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new HttpError(401, 'unauthenticated', 'missing bearer token (Authorization: Bearer <token>)');
    if (!CLUSTER_NAME_PATTERN.test(cluster) || !(await tokens.verify(cluster, token))) throw new HttpError(401, 'unauthenticated', 'unknown cluster or wrong token');
    used.knownCluster = cluster;
    return cluster;
  }

  /**
   * Consul's `handler_type: "http"` watch: the raw watch body, no shim. The envelope is
   * built from the request, then processed exactly like a shim's.
   */
  async function consulHttp(req: HttpRequest, watchType: string, used: UsedSignature, deadlineMs: number): Promise<HttpResponse> {
    if (!deps.consulTokens) throw new HttpError(404, 'not_found', 'the Consul HTTP handler route is not enabled');
    if (req.method !== ROUTES.consulHttp.method) throw new HttpError(405, 'method_not_allowed', `use ${ROUTES.consulHttp.method}`);
    const limit = Math.min(maxWireBytes, CONSUL_HTTP.maxBodyBytes);
    if (req.body.length > limit) {
      throw new HttpError(
        413,
        'body_too_large',
        `the watch body is ${req.body.length} bytes, over the ${limit} bytes Consul's http handler can send here (it cannot compress): run this watch with handler_type "script" and tocsin-shim, which gzips it (docs/consul.md)`,
      );
    }
    const cluster = await authenticateBearer(req, deps.consulTokens, used);
    const bytes = decodeBody(req, maxInflatedBytes);
    const text = bytes.toString('utf8');
    const utf8 = Buffer.from(text, 'utf8').equals(bytes);
    const index = req.headers[CONSUL_HTTP.indexHeader];
    // Without X-Tocsin-Node every agent of the cluster posts as one pseudo-node: no sign of life (docs/heartbeats.md).
    const namedNode = req.headers[CONSUL_HTTP.nodeHeader];
    const envelope = parseEnvelope({
      v: 1,
      cluster,
      source: 'consul',
      type: watchType,
      scope: req.query?.[CONSUL_HTTP.scopeParam] ?? null,
      node: namedNode || CONSUL_HTTP.defaultNode,
      index: index ? index.trim() : null,
      sentAt: new Date(deps.sources.clock.nowMs()).toISOString(),
      body: utf8 ? text : bytes.toString('base64'),
      bodyEncoding: utf8 ? 'utf8' : 'base64',
    });
    return ingest(envelope, deadlineMs, Boolean(namedNode));
  }

  async function respond(req: HttpRequest, used: UsedSignature): Promise<HttpResponse> {
    // The request's time budget counts from its arrival: authentication and parsing use it up too.
    const deadlineMs = processingDeadline(deps.sources.clock.nowMs(), {
      ...(deps.processingBudgetMs !== undefined ? { budgetMs: deps.processingBudgetMs } : {}),
      ...(req.remainingMs !== undefined ? { remainingMs: req.remainingMs } : {}),
    });
    try {
      const watchType = CONSUL_HTTP_PATH.exec(req.path)?.[1];
      if (watchType !== undefined) return await consulHttp(req, watchType, used, deadlineMs);
      if (req.path !== ROUTES.ingest.path) throw new HttpError(404, 'not_found', `no route for ${req.path.slice(0, 100)}`);
      if (req.method !== ROUTES.ingest.method) throw new HttpError(405, 'method_not_allowed', `use ${ROUTES.ingest.method}`);
      if (req.body.length > maxWireBytes) throw tooLargeOnWire(maxWireBytes);
      if (req.bodyAltered) throw new HttpError(BODY_ALTERED.status, BODY_ALTERED.error, BODY_ALTERED.message);
      const cluster = await authenticate(req, used);
      const envelope = parseEnvelope(parseJson(decodeBody(req, maxInflatedBytes).toString('utf8'), 'the request body'));
      if (envelope.cluster !== cluster) throw new HttpError(400, 'cluster_mismatch', 'envelope.cluster differs from the signed cluster header');
      // A repeat of a request Consul's indexes order changes nothing: no replay record (a write) for it.
      if (!repeatIsNoOp(envelope)) await refuseReplay(req, cluster, used);
      return await ingest(envelope, deadlineMs);
    } catch (err) {
      if (err instanceof HttpError) return json(err.status, { error: err.code, message: err.message });
      if (err instanceof InputError) return json(400, { error: 'invalid_input', message: err.message });
      deps.logger.error('ingest failed', { error: (err as Error)?.message, name: (err as Error)?.name });
      if (err instanceof TransientError) {
        return json(503, { error: 'unavailable', message: 'a backing service is throttling or unavailable; retry' }, { 'retry-after': '5' });
      }
      return json(500, { error: 'internal', message: 'internal error; the request can be retried' });
    }
  }

  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    const used: UsedSignature = {};
    const res = await respond(req, used);
    if (res.status >= 400) {
      // One line per refused request, for the authentication-failure metric filter. No header
      // values but a configured cluster name; never the signature.
      deps.logger.info(LOG_EVENTS.requestRejected, {
        status: res.status,
        error: res.body.error,
        ...(used.knownCluster ? { cluster: used.knownCluster } : {}),
      });
      // Twice: by status (what the alarms read) and by error code (the API's fixed set; what the dashboard breaks down).
      deps.metrics?.count(METRICS.names.requestsRefused, 1, { [METRICS.dimensions.status]: String(res.status) });
      deps.metrics?.count(METRICS.names.requestsRefused, 1, { [METRICS.dimensions.error]: String(res.body.error ?? 'unknown') });
    }
    if (res.status >= 500 && used.cluster && used.signature) {
      try {
        await deps.replay.forget(used.cluster, used.signature);
      } catch (err) {
        deps.logger.error('could not forget the signature of a failed request', { error: (err as Error).message });
      }
    }
    return res;
  };
}
