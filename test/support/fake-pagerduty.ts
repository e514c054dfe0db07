/**
 * A node:http server standing in for the PagerDuty Events API v2 (POST /v2/enqueue) that
 * enforces its contract: a JSON object; routing_key a string of 32 characters;
 * event_action trigger, acknowledge or resolve; dedup_key at most 255 characters, required
 * to acknowledge or resolve; a trigger's payload with summary (1 to 1024 characters),
 * source and severity (critical, error, warning, info), an ISO 8601 timestamp if any,
 * custom_details an object, links and images with href; at most 512 KB. Answers 202
 * {status, message, dedup_key} (a trigger without dedup_key gets one), 400 {status:
 * "invalid event", message, errors}, or what `reply` forces (429 rate limiting, a 5xx,
 * a 400 for a routing key the test calls unknown). Keeps every request and the accepted events.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PagerDutyRequest {
  at: number;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: any;
  status: number;
  answer: any;
}

export type PagerDutyReply = 'contract' | { status: number; retryAfter?: number; body?: unknown };

export interface FakePagerDuty {
  url: string;
  requests: PagerDutyRequest[];
  /** Events answered 202, in order. */
  events: Array<Record<string, any>>;
  /** What to answer, per routing key and attempt (0-based count of requests with that key). Default: the contract's answer. */
  reply: (routingKey: string, attempt: number) => PagerDutyReply;
  eventsFor(routingKey: string): Array<Record<string, any>>;
  close(): Promise<void>;
}

const ACTIONS = ['trigger', 'acknowledge', 'resolve'];
const SEVERITIES = ['critical', 'error', 'warning', 'info'];
const MAX_BYTES = 512 * 1024;

/** The contract's errors for one event (empty: valid). */
export function pagerDutyEventErrors(event: unknown): string[] {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return ['Event object is not an object'];
  const e = event as Record<string, any>;
  const errors: string[] = [];
  if (typeof e.routing_key !== 'string' || e.routing_key.length !== 32) errors.push("Length of 'routing_key' is incorrect (should be 32 characters)");
  if (!ACTIONS.includes(e.event_action)) errors.push("'event_action' is missing or invalid");
  if (e.dedup_key !== undefined && (typeof e.dedup_key !== 'string' || e.dedup_key.length === 0 || e.dedup_key.length > 255)) errors.push("'dedup_key' must be a string of at most 255 characters");
  if ((e.event_action === 'resolve' || e.event_action === 'acknowledge') && typeof e.dedup_key !== 'string') errors.push("'dedup_key' is required to acknowledge or resolve");
  if (e.event_action === 'trigger') {
    const p = e.payload;
    if (typeof p !== 'object' || p === null) errors.push("'payload' is missing");
    else {
      if (typeof p.summary !== 'string' || p.summary.length === 0) errors.push("'payload.summary' is missing");
      else if ([...p.summary].length > 1024) errors.push("'payload.summary' is longer than 1024 characters");
      if (typeof p.source !== 'string' || p.source.length === 0) errors.push("'payload.source' is missing");
      if (!SEVERITIES.includes(p.severity)) errors.push("'payload.severity' must be one of critical, error, warning, info");
      if (p.timestamp !== undefined && (typeof p.timestamp !== 'string' || Number.isNaN(Date.parse(p.timestamp)))) errors.push("'payload.timestamp' is not ISO 8601");
      for (const f of ['component', 'group', 'class']) if (p[f] !== undefined && typeof p[f] !== 'string') errors.push(`'payload.${f}' must be a string`);
      if (p.custom_details !== undefined && (typeof p.custom_details !== 'object' || Array.isArray(p.custom_details))) errors.push("'payload.custom_details' must be an object");
    }
    for (const f of ['links', 'images']) {
      if (e[f] === undefined) continue;
      if (!Array.isArray(e[f]) || e[f].some((l: any) => typeof l?.href !== 'string' && typeof l?.src !== 'string')) errors.push(`'${f}' must be a list of objects with href`);
    }
  }
  return errors;
}

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const requests: PagerDutyRequest[] = [];
  const events: Array<Record<string, any>> = [];
  const fake: FakePagerDuty = {
    url: '',
    requests,
    events,
    reply: () => 'contract',
    eventsFor: (key) => events.filter((e) => e.routing_key === key),
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
      const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      let body: any;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
      const record = (status: number, a: unknown) => requests.push({ at: Date.now(), body, status, answer: a });
      if (req.method !== 'POST' || req.url !== '/v2/enqueue') {
        record(404, 'not found');
        return answer(404, { status: 'not found' });
      }
      const key = typeof body?.routing_key === 'string' ? body.routing_key : '';
      const forced = fake.reply(key, requests.filter((r) => r.body?.routing_key === key).length);
      if (forced !== 'contract') {
        const a = forced.body ?? (forced.status === 429 ? { status: 'throttle event', message: 'Requests for this service are arriving too quickly' } : { status: 'error' });
        record(forced.status, a);
        return answer(forced.status, a, forced.retryAfter !== undefined ? { 'retry-after': String(forced.retryAfter) } : {});
      }
      const errors = raw.length > MAX_BYTES ? ['Event object is larger than 512 KB'] : typeof body === 'string' ? ['Event object is not JSON'] : pagerDutyEventErrors(body);
      if (errors.length > 0) {
        const a = { status: 'invalid event', message: 'Event object is invalid', errors };
        record(400, a);
        return answer(400, a);
      }
      const dedupKey = body.dedup_key ?? randomUUID().replace(/-/g, '');
      const a = { status: 'success', message: 'Event processed', dedup_key: dedupKey };
      record(202, a);
      events.push({ ...body, dedup_key: dedupKey });
      answer(202, a);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/enqueue`;
  return fake;
}
