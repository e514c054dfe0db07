/** node:http adapter for the transport-neutral ingest handler. */
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { HttpRequest, HttpResponse } from '../lambdas/app/http';
import { systemClock, type Clock } from '../lambdas/app/runtime';

/** Reads at most `limit` + 1 bytes, so oversized bodies are refused without buffering them whole. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit + 1) {
        req.pause();
        resolve(Buffer.concat([...chunks, chunk]).subarray(0, limit + 1));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * `clock`: the one the application checks signature windows with. Every answer's `Date`
 * header comes from it (not from Node's own), so a sender refused for clock skew corrects
 * itself by the clock that refused it (protocol.ts CLOCK_SKEW).
 */
export function createHttpServer(handle: (req: HttpRequest) => Promise<HttpResponse>, maxWireBytes: number, clock: Clock = systemClock): Server {
  return createServer(ingestRequestListener(handle, maxWireBytes, clock));
}

/** The request listener of createHttpServer, for node:http and node:https servers alike. */
export function ingestRequestListener(handle: (req: HttpRequest) => Promise<HttpResponse>, maxWireBytes: number, clock: Clock = systemClock): RequestListener {
  return (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(',') : value;
      const body = await readBody(req, maxWireBytes);
      const out = await handle({ method: req.method ?? 'GET', path: url.pathname, headers, query: Object.fromEntries(url.searchParams), body });
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers, date: new Date(clock.nowMs()).toUTCString() });
      res.end(out.text ?? JSON.stringify(out.body));
      // An oversized body was left unread; do not keep the connection around for it.
      if (body.length > maxWireBytes) req.destroy();
    })().catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', date: new Date(clock.nowMs()).toUTCString() });
      res.end(JSON.stringify({ error: 'internal', message: err.message }));
    });
  };
}
