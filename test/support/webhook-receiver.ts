/**
 * A webhook receiver as docs/webhook.md tells one to write it: it verifies the signature
 * (HMAC-SHA256 under the shared key over "v1\nPOST\n<path>\n<timestamp>\n<sha256(body)>",
 * with lambdas/domain/signing.ts verify), refuses a timestamp more than 300 s away (401),
 * validates the body against schema/webhook-payload.v1.json (400), and drops a repeated
 * notification id (200, not kept twice). `reply` forces an answer per attempt (429, 5xx ...).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Ajv from 'ajv';
import { HEADERS } from '../../lambdas/domain/protocol';
import { verify } from '../../lambdas/domain/signing';

export const WEBHOOK_SCHEMA_FILE = join(__dirname, '..', '..', 'schema', 'webhook-payload.v1.json');

/** The payload schema, compiled with the two formats it uses. */
export function webhookPayloadValidator() {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)) });
  ajv.addFormat('uri', { type: 'string', validate: (s: string) => URL.canParse(s) });
  return ajv.compile(JSON.parse(readFileSync(WEBHOOK_SCHEMA_FILE, 'utf8')) as object);
}

export interface ReceivedWebhook {
  at: number;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
  status: number;
  /** Why it was refused (401/400), or the forced answer. */
  refused?: string;
}

export interface WebhookReceiver {
  url(path: string): string;
  /** Every request, refused ones included. */
  requests: ReceivedWebhook[];
  /** Verified, valid payloads, each notification id once. */
  accepted: Array<Record<string, any>>;
  reply: (path: string, attempt: number) => number | { status: number; retryAfter?: number } | undefined;
  close(): Promise<void>;
}

export async function startWebhookReceiver(keys: readonly string[], windowSeconds = 300): Promise<WebhookReceiver> {
  const validate = webhookPayloadValidator();
  const requests: ReceivedWebhook[] = [];
  const accepted: Array<Record<string, any>> = [];
  const receiver: WebhookReceiver = {
    url: () => '',
    requests,
    accepted,
    reply: () => undefined,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
      const record = (status: number, body: unknown, refused?: string) => {
        requests.push({ at: Date.now(), path, headers: req.headers, body, status, ...(refused ? { refused } : {}) });
        res.writeHead(status, { 'content-type': 'text/plain', ...(status === 429 ? { 'retry-after': '1' } : {}) });
        res.end(refused ?? 'ok');
      };
      const forced = receiver.reply(path, requests.filter((r) => r.path === path).length);
      if (forced !== undefined) {
        const f = typeof forced === 'number' ? { status: forced } : forced;
        return record(f.status, raw.toString('utf8'), `forced ${f.status}`);
      }
      // 1. The signature over the exact bytes received, within the window: before parsing anything.
      const verdict = verify({
        key: keys,
        keyId: header(HEADERS.keyId),
        method: req.method ?? '',
        path,
        timestamp: header(HEADERS.timestamp),
        signature: header(HEADERS.signature),
        body: raw,
        nowSeconds: Math.floor(Date.now() / 1000),
        windowSeconds,
      });
      if (!verdict.ok) return record(401, raw.toString('utf8'), verdict.reason);
      // 2. The payload against its schema.
      let body: any;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return record(400, raw.toString('utf8'), 'not JSON');
      }
      if (!validate(body)) return record(400, body, JSON.stringify(validate.errors));
      // 3. Idempotency: a notification id seen before is acknowledged, not kept twice.
      const payload = body as Record<string, any>;
      if (!accepted.some((a) => a.id === payload.id)) accepted.push(payload);
      record(200, payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  receiver.url = (path) => `http://127.0.0.1:${port}${path}`;
  return receiver;
}
