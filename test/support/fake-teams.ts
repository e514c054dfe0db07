/**
 * A node:http server standing in for Teams Workflows webhooks ("When a Teams webhook
 * request is received" flows), enforcing their contract as far as a sender can meet it:
 * POST to `/workflows/<flow>/triggers/manual/paths/invoke?api-version=1&sig=<sig>` with the
 * flow's signature (else 401, as Power Automate answers an unsigned or wrongly signed
 * call); a JSON body of at most 28 KB (else 413); the message shape {type: "message",
 * attachments: [{contentType: "application/vnd.microsoft.card.adaptive", content: card}]}
 * with every card valid against the Adaptive Card schema subset of
 * adaptive-card-schema.ts and every Action.OpenUrl an absolute URL (else 400 with the
 * reasons: the real flow accepts first and fails its run later, where no sender sees it; the
 * fake refuses at once so that a test does). Answers 202 Accepted, or what `reply` forces;
 * `throttleOnce` answers the flow's first request 429 with Retry-After.
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv from 'ajv';
import { ADAPTIVE_CARD_SCHEMA } from './adaptive-card-schema';

export const TEAMS_MAX_MESSAGE_BYTES = 28 * 1024;

export interface TeamsPost {
  flow: string;
  at: number;
  /** Parsed JSON, or the raw text when it is not JSON. */
  body: any;
  bytes: number;
  status: number;
  answer: string;
}

export type TeamsReply = 'contract' | { status: number; retryAfter?: number; body?: string };

export interface FakeTeams {
  /** The workflow URL of `flow` (signed). */
  url(flow: string): string;
  posts: TeamsPost[];
  /** The cards of the messages answered 202 for `flow`, in order. */
  cardsOf(flow: string): Array<Record<string, any>>;
  /** Answer the first request of every flow 429 with this Retry-After (s). */
  throttleOnce?: number;
  reply: (flow: string, attempt: number) => TeamsReply;
  close(): Promise<void>;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validateCard = ajv.compile(ADAPTIVE_CARD_SCHEMA);

function openUrls(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => openUrls(n, out));
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'Action.OpenUrl' && typeof o.url === 'string') out.push(o.url);
    Object.values(o).forEach((v) => openUrls(v, out));
  }
  return out;
}

/** The contract's errors for one message body (empty: valid). */
export function teamsMessageErrors(body: unknown): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['the body is not a JSON object'];
  const m = body as Record<string, any>;
  const errors: string[] = [];
  if (m.type !== 'message') errors.push('type must be "message"');
  if (!Array.isArray(m.attachments) || m.attachments.length === 0) return [...errors, 'attachments must be a non-empty list'];
  m.attachments.forEach((a: any, i: number) => {
    if (a?.contentType !== 'application/vnd.microsoft.card.adaptive') errors.push(`attachments[${i}].contentType must be application/vnd.microsoft.card.adaptive`);
    if (!validateCard(a?.content)) errors.push(...(validateCard.errors ?? []).map((e) => `attachments[${i}].content${e.instancePath}: ${e.message}`));
    for (const url of openUrls(a?.content)) {
      try {
        new URL(url);
      } catch {
        errors.push(`attachments[${i}]: Action.OpenUrl url ${url} is not an absolute URL`);
      }
    }
  });
  return errors;
}

export async function startFakeTeams(): Promise<FakeTeams> {
  const posts: TeamsPost[] = [];
  const sigs = new Map<string, string>();
  const sigOf = (flow: string) => {
    if (!sigs.has(flow)) sigs.set(flow, randomBytes(16).toString('base64url'));
    return sigs.get(flow)!;
  };
  let base = '';
  const fake: FakeTeams = {
    url: (flow) => `${base}/workflows/${flow}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sigOf(flow)}`,
    posts,
    cardsOf: (flow) => posts.filter((p) => p.flow === flow && p.status === 202).flatMap((p) => p.body.attachments.map((a: any) => a.content)),
    reply: () => 'contract',
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
      const url = new URL(req.url ?? '/', 'http://fake');
      const flow = /^\/workflows\/([^/]+)\/triggers\/manual\/paths\/invoke$/.exec(url.pathname)?.[1] ?? '';
      let body: any;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
      const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
        posts.push({ flow, at: Date.now(), body, bytes: raw.length, status, answer: text });
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(text);
      };
      const error = (code: string, message: string) => JSON.stringify({ error: { code, message } });
      if (req.method !== 'POST' || !flow || !sigs.has(flow)) return answer(404, error('NotFound', 'no such workflow'));
      if (url.searchParams.get('sig') !== sigs.get(flow)) return answer(401, error('DirectApiAuthorizationRequired', 'the request is not signed for this workflow'));
      const attempt = posts.filter((p) => p.flow === flow).length;
      if (fake.throttleOnce !== undefined && attempt === 0) return answer(429, error('TooManyRequests', 'rate limit is exceeded'), { 'retry-after': String(fake.throttleOnce) });
      const forced = fake.reply(flow, attempt);
      if (forced !== 'contract') return answer(forced.status, forced.body ?? error('Forced', 'forced by the test'), forced.retryAfter !== undefined ? { 'retry-after': String(forced.retryAfter) } : {});
      if (raw.length > TEAMS_MAX_MESSAGE_BYTES) return answer(413, error('MessageTooLarge', `the message is ${raw.length} bytes, over 28 KB`));
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return answer(400, error('InvalidRequestContent', 'content-type must be application/json'));
      const errors = teamsMessageErrors(body);
      if (errors.length > 0) return answer(400, error('InvalidTemplate', errors.join('; ')));
      answer(202, '');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
