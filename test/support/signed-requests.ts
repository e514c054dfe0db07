/** Build HttpRequests for the ingest handler the way agent-shim signs them. */
import { gzipSync } from 'node:zlib';
import type { HttpRequest } from '../../lambdas/app/http';
import { HEADERS, ROUTES } from '../../lambdas/domain/protocol';
import { sign } from '../../lambdas/domain/signing';
import type { Envelope } from '../../lambdas/domain/types';
import { goJsonLine, type HealthCheckFixture } from './consul-fixtures';

export interface SignOptions {
  key: string;
  cluster: string;
  /** Epoch seconds; default now. */
  timestamp?: number;
  gzip?: boolean;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
}

/** Sign `body` (bytes as sent) exactly like the shim: method, path, timestamp, body digest. */
export function signedRaw(body: Buffer, opts: SignOptions): HttpRequest {
  const method = opts.method ?? ROUTES.ingest.method;
  const path = opts.path ?? ROUTES.ingest.path;
  const ts = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    method,
    path,
    headers: {
      'content-type': 'application/json',
      ...(opts.gzip ? { 'content-encoding': 'gzip' } : {}),
      [HEADERS.cluster]: opts.cluster,
      [HEADERS.timestamp]: ts,
      [HEADERS.signature]: sign(opts.key, method, path, ts, body),
      ...opts.headers,
    },
    body,
  };
}

export function signedEnvelope(envelope: unknown, opts: SignOptions): HttpRequest {
  const json = Buffer.from(typeof envelope === 'string' ? envelope : JSON.stringify(envelope), 'utf8');
  return signedRaw(opts.gzip ? gzipSync(json) : json, opts);
}

let sequence = 0;

/** A `checks` watch envelope as the shim builds it; sentAt differs per call. */
export function checksEnvelope(cluster: string, checks: HealthCheckFixture[] | string, extra: Partial<Envelope> = {}): Envelope {
  const at = new Date(Date.now() + (sequence++ % 1000)).toISOString();
  return {
    v: 1,
    cluster,
    source: 'consul',
    type: 'checks',
    scope: 'checks',
    node: 'agent-1',
    index: null,
    sentAt: at,
    body: typeof checks === 'string' ? checks : goJsonLine(checks),
    bodyEncoding: 'utf8',
    ...extra,
  };
}
