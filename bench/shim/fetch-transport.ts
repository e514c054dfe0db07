/**
 * Benchmark-only stand-in for agent-shim/src/transport.ts that POSTs with the global
 * `fetch` (undici) instead of node:http. bench/shim/build-variant.ts swaps it in with an
 * esbuild alias; it is never shipped. Same contract: signed bytes, time bound, outcome
 * classes. Deliberately self-contained (no import of the real transport, which would
 * load node:http and blur the comparison).
 */
import type { Envelope } from '../../lambdas/domain/types';
import { HEADERS, LIMITS } from '../../lambdas/domain/protocol';
import { sign } from '../../lambdas/domain/signing';

export const GZIP_THRESHOLD_BYTES = 8 * 1024;

export type Outcome =
  | { kind: 'sent'; status: number }
  | { kind: 'retry'; reason: string }
  | { kind: 'rejected'; status: number; reason: string; auth: boolean };

function prepare(envelope: Envelope, key: string, pathname: string, nowMs: number, userAgent: string) {
  let body = Buffer.from(JSON.stringify(envelope), 'utf8');
  const plainBytes = body.length;
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': userAgent };
  if (body.length > GZIP_THRESHOLD_BYTES && body.length <= LIMITS.maxBodyBytes) {
    const zlib = require('node:zlib') as typeof import('node:zlib');
    body = zlib.gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  const ts = String(Math.floor(nowMs / 1000));
  headers[HEADERS.cluster] = envelope.cluster;
  headers[HEADERS.timestamp] = ts;
  headers[HEADERS.signature] = sign(key, 'POST', pathname, ts, body);
  return { body, headers, plainBytes };
}

export class Transport {
  constructor(
    private readonly url: URL,
    private readonly key: string,
    private readonly userAgent: string,
  ) {}

  async send(envelope: Envelope, deadline: number): Promise<Outcome> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return { kind: 'retry', reason: 'no time left' };
    const { body, headers, plainBytes } = prepare(envelope, this.key, this.url.pathname, Date.now(), this.userAgent);
    if (plainBytes > LIMITS.maxBodyBytes) return { kind: 'rejected', status: 413, reason: 'over the API limit', auth: false };
    try {
      const res = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(remaining) });
      if (res.status >= 200 && res.status < 300) {
        void res.body?.cancel();
        return { kind: 'sent', status: res.status };
      }
      const text = await res.text();
      const reason = `HTTP ${res.status}: ${text.slice(0, 500)}`;
      if (res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500) return { kind: 'retry', reason };
      if (res.status >= 400) return { kind: 'rejected', status: res.status, reason, auth: res.status === 401 || res.status === 403 };
      return { kind: 'retry', reason: `unexpected ${reason}` };
    } catch (e) {
      return { kind: 'retry', reason: (e as Error).message };
    }
  }

  close(): void {
    /* undici's global dispatcher keeps no socket that would hold the process */
  }
}
