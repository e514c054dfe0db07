/**
 * A node:http server standing in for the Slack Web API (chat.postMessage, chat.update) with
 * its contract: `Authorization: Bearer <token>` (else ok:false invalid_auth / not_authed),
 * a JSON body with `channel` (known, else channel_not_found) and `text` or `blocks`
 * (else no_text), at most 50 blocks and 3,000 characters per section text (else
 * invalid_blocks, in top-level blocks and in attachments), `thread_ts` naming a top-level
 * message of the channel (else thread_not_found), chat.update of an existing ts only
 * (else message_not_found). `rateLimitOnce(method)` answers the next call of that method
 * with HTTP 429, `ok:false,error:"ratelimited"` and Retry-After. Every call is recorded.
 * chat.update as Slack documents it: `channel` and `ts` required, `text` not required when
 * blocks or attachments are given, and a field left out (attachments, blocks) keeps the
 * message's previous one. chat.postEphemeral: `channel`, `user` (U.../W...) and text or blocks
 * (else user_not_found / no_text); recorded in `ephemerals`. Interactive elements within
 * Block Kit's limits (else invalid_blocks): at most 25 elements per actions block, action_id
 * and block_id at most 255 characters, a button's value at most 2,000 and its text 75, block_ids
 * unique in a message.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackApiMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  body: Record<string, any>;
}

export interface SlackApiCall {
  method: string;
  body: Record<string, any>;
  status: number;
  answer: Record<string, unknown>;
  at: number;
}

export interface FakeSlackApi {
  /** The apiUrl (…/api). */
  readonly url: string;
  readonly calls: SlackApiCall[];
  /** Messages by ts, as last posted or updated. */
  readonly messages: Map<string, SlackApiMessage>;
  /** chat.postEphemeral messages, in order. */
  readonly ephemerals: Array<{ channel: string; user: string; text: string }>;
  /** The next call of `method` answers 429 ratelimited with Retry-After `seconds`. */
  rateLimitOnce(method: string, seconds: number): void;
  callsOf(method: string, ok?: boolean): SlackApiCall[];
  close(): Promise<void>;
}

const LIMITS = { blocks: 50, sectionText: 3000, actionElements: 25, actionId: 255, blockId: 255, buttonValue: 2000, buttonText: 75, contextElements: 10 };

function elementError(e: Record<string, any>): boolean {
  if (typeof e?.type !== 'string') return true;
  if (e.action_id !== undefined && (typeof e.action_id !== 'string' || e.action_id.length > LIMITS.actionId)) return true;
  if (e.type === 'button') {
    if (e.text?.type !== 'plain_text' || typeof e.text.text !== 'string' || e.text.text.length > LIMITS.buttonText) return true;
    if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > LIMITS.buttonValue)) return true;
    if (e.style !== undefined && !['primary', 'danger'].includes(e.style)) return true;
  }
  return false;
}

function blocksError(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'invalid_blocks_format';
  if (blocks.length > LIMITS.blocks) return 'invalid_blocks';
  const ids = new Set<string>();
  for (const b of blocks as Array<Record<string, any>>) {
    if (typeof b?.type !== 'string') return 'invalid_blocks';
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id.length > LIMITS.blockId || ids.has(b.block_id)) return 'invalid_blocks';
      ids.add(b.block_id);
    }
    if (b.type === 'section' && typeof b.text?.text === 'string' && b.text.text.length > LIMITS.sectionText) return 'invalid_blocks';
    if (b.type === 'actions' && (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.actionElements || b.elements.some(elementError))) return 'invalid_blocks';
    if (b.type === 'context' && (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > LIMITS.contextElements)) return 'invalid_blocks';
  }
  return undefined;
}

export async function startFakeSlackApi(opts: { token: string; channels: string[] }): Promise<FakeSlackApi> {
  const calls: SlackApiCall[] = [];
  const messages = new Map<string, SlackApiMessage>();
  const ephemerals: Array<{ channel: string; user: string; text: string }> = [];
  const limited = new Map<string, number>();
  let seq = 0;
  const nextTs = () => `${Math.floor(Date.now() / 1000)}.${String(++seq).padStart(6, '0')}`;

  const answer = (method: string, body: Record<string, any>, auth: string | undefined): { status: number; json: Record<string, unknown>; retryAfter?: number } => {
    const wait = limited.get(method);
    if (wait !== undefined) {
      limited.delete(method);
      return { status: 429, json: { ok: false, error: 'ratelimited' }, retryAfter: wait };
    }
    if (!auth) return { status: 200, json: { ok: false, error: 'not_authed' } };
    if (auth !== `Bearer ${opts.token}`) return { status: 200, json: { ok: false, error: 'invalid_auth' } };
    if (typeof body.channel !== 'string' || !opts.channels.includes(body.channel)) return { status: 200, json: { ok: false, error: 'channel_not_found' } };
    const hasText = typeof body.text === 'string' && body.text.length > 0;
    const hasBlocks = Array.isArray(body.blocks) && body.blocks.length > 0;
    const hasAttachments = Array.isArray(body.attachments) && body.attachments.length > 0;
    if (method === 'chat.update') {
      if (typeof body.ts !== 'string' || body.ts === '') return { status: 200, json: { ok: false, error: 'message_not_found' } };
      if (!hasText && !hasBlocks && !hasAttachments) return { status: 200, json: { ok: false, error: 'no_text' } };
    } else if (!hasText && !hasBlocks) return { status: 200, json: { ok: false, error: 'no_text' } };
    const badBlocks = blocksError(body.blocks) ?? (Array.isArray(body.attachments) ? body.attachments.map((a: any) => blocksError(a?.blocks)).find(Boolean) : undefined);
    if (badBlocks) return { status: 200, json: { ok: false, error: badBlocks } };
    if (method === 'chat.postMessage') {
      if (body.thread_ts !== undefined) {
        const parent = messages.get(String(body.thread_ts));
        if (!parent || parent.channel !== body.channel || parent.thread_ts) return { status: 200, json: { ok: false, error: 'thread_not_found' } };
      }
      const ts = nextTs();
      messages.set(ts, { channel: body.channel, ts, ...(body.thread_ts ? { thread_ts: String(body.thread_ts) } : {}), body });
      return { status: 200, json: { ok: true, channel: body.channel, ts, message: { text: body.text } } };
    }
    if (method === 'chat.update') {
      const existing = typeof body.ts === 'string' ? messages.get(body.ts) : undefined;
      if (!existing || existing.channel !== body.channel) return { status: 200, json: { ok: false, error: 'message_not_found' } };
      // Fields left out keep the message's previous ones (Slack: "If you don't include this field, the message's previous attachments will be retained").
      messages.set(existing.ts, { ...existing, body: { ...existing.body, ...body } });
      return { status: 200, json: { ok: true, channel: body.channel, ts: existing.ts, text: body.text } };
    }
    if (method === 'chat.postEphemeral') {
      if (typeof body.user !== 'string' || !/^[UW][A-Z0-9]{2,20}$/.test(body.user)) return { status: 200, json: { ok: false, error: 'user_not_found' } };
      ephemerals.push({ channel: body.channel, user: body.user, text: String(body.text ?? '') });
      return { status: 200, json: { ok: true, message_ts: nextTs() } };
    }
    return { status: 200, json: { ok: false, error: 'unknown_method' } };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = (req.url ?? '').replace(/^\/api\//, '').replace(/\?.*$/, '');
      let body: Record<string, any> = {};
      let parsed = true;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, any>;
      } catch {
        parsed = false;
      }
      const out = parsed && /^application\/json/.test(req.headers['content-type'] ?? '') ? answer(method, body, req.headers.authorization) : { status: 200, json: { ok: false, error: 'invalid_json' } };
      calls.push({ method, body, status: out.status, answer: out.json, at: Date.now() });
      res.writeHead(out.status, { 'content-type': 'application/json; charset=utf-8', ...(out.retryAfter !== undefined ? { 'retry-after': String(out.retryAfter) } : {}) });
      res.end(JSON.stringify(out.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    calls,
    messages,
    ephemerals,
    rateLimitOnce: (method, seconds) => void limited.set(method, seconds),
    callsOf: (method, ok) => calls.filter((c) => c.method === method && (ok === undefined || c.answer.ok === ok)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
