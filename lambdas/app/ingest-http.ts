/**
 * The ingest API, independent of its transport: API Gateway (lambdas/functions)
 * and the local server (local/) both adapt their requests to HttpRequest.
 */
import { gunzipSync } from 'node:zlib';
import { HEADERS, LIMITS, ROUTES } from '../commons/topology';
import { InputError } from '../domain/consul-checks';
import { parseEnvelope } from '../domain/envelope';
import { verify } from '../domain/signing';
import type { Envelope } from '../domain/types';
import type { ClusterKeys } from './ports';
import { handlerFor, type SourceContext } from './sources';

export interface HttpRequest {
  method: string;
  path: string;
  /** Lower-case header names. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export interface HttpResponse {
  status: number;
  headers?: Record<string, string>;
  body: Record<string, unknown>;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface IngestDeps {
  keys: ClusterKeys;
  sources: SourceContext;
  logger: Logger;
  maxBodyBytes?: number;
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

function decodeBody(req: HttpRequest, maxBytes: number): Buffer {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return req.body;
  if (encoding !== 'gzip') throw new HttpError(415, 'unsupported_encoding', `content-encoding ${encoding.slice(0, 32)} is not supported; use gzip or none`);
  try {
    return gunzipSync(req.body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new HttpError(413, 'body_too_large', `decompressed body exceeds ${maxBytes} bytes`);
    }
    throw new HttpError(400, 'bad_gzip', 'body is not valid gzip');
  }
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'malformed_json', `${what} is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
}

export function createIngestHandler(deps: IngestDeps): (req: HttpRequest) => Promise<HttpResponse> {
  const maxBodyBytes = deps.maxBodyBytes ?? LIMITS.maxBodyBytes;

  async function authenticate(req: HttpRequest): Promise<string> {
    const cluster = req.headers[HEADERS.cluster];
    if (!cluster) throw new HttpError(401, 'unauthenticated', `missing ${HEADERS.cluster} header`);
    const key = await deps.keys.keyFor(cluster);
    if (!key) throw new HttpError(401, 'unauthenticated', 'unknown cluster');
    const verdict = verify({
      key,
      method: req.method,
      path: req.path,
      timestamp: req.headers[HEADERS.timestamp],
      signature: req.headers[HEADERS.signature],
      body: req.body,
      nowSeconds: Math.floor(deps.sources.clock.nowMs() / 1000),
      windowSeconds: LIMITS.signatureWindowSeconds,
    });
    if (!verdict.ok) throw new HttpError(401, 'unauthenticated', verdict.reason);
    return cluster;
  }

  async function ingest(envelope: Envelope): Promise<HttpResponse> {
    const handler = handlerFor(envelope.source, envelope.type);
    if (!handler) throw new HttpError(422, 'unsupported_type', `${envelope.source} ${envelope.type} is not supported by this version of tocsin`);
    const { errors, unsettled, ...summary } = await handler(envelope, deps.sources);
    const where = { cluster: envelope.cluster, node: envelope.node, source: envelope.source, type: envelope.type };
    deps.logger.info('ingested', { ...where, ...summary, rejected: summary.rejected.length });
    if (unsettled > 0) {
      deps.logger.error('alerts not yet published', { ...where, unsettled, errors });
      return json(503, { error: 'unsettled', message: `${unsettled} alert(s) could not be published yet; retry`, ...summary }, { 'retry-after': '5' });
    }
    if (summary.rejected.length > 0) {
      return json(422, { error: 'invalid_observations', message: `${summary.rejected.length} observation(s) rejected; the others were processed`, ...summary });
    }
    return json(200, { ok: true, ...summary });
  }

  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    try {
      if (req.path !== ROUTES.ingest.path) throw new HttpError(404, 'not_found', `no route for ${req.path.slice(0, 100)}`);
      if (req.method !== ROUTES.ingest.method) throw new HttpError(405, 'method_not_allowed', `use ${ROUTES.ingest.method}`);
      if (req.body.length > maxBodyBytes) throw new HttpError(413, 'body_too_large', `body exceeds ${maxBodyBytes} bytes`);
      const cluster = await authenticate(req);
      const envelope = parseEnvelope(parseJson(decodeBody(req, maxBodyBytes).toString('utf8'), 'the request body'));
      if (envelope.cluster !== cluster) throw new HttpError(400, 'cluster_mismatch', 'envelope.cluster differs from the signed cluster header');
      return await ingest(envelope);
    } catch (err) {
      if (err instanceof HttpError) return json(err.status, { error: err.code, message: err.message });
      if (err instanceof InputError) return json(400, { error: 'invalid_input', message: err.message });
      deps.logger.error('ingest failed', { error: (err as Error).message, name: (err as Error).name });
      return json(500, { error: 'internal', message: 'internal error; the request can be retried' });
    }
  };
}
