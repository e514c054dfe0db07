/** A node:http server standing in for Slack incoming webhooks: `/hook/<channel>`. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackPost {
  channel: string;
  at: number;
  /** The parsed JSON body (Block Kit message). */
  body: { text: string; attachments: Array<{ color: string; fallback: string; blocks: Array<Record<string, any>> }> };
  /** What the fake answered. */
  status: number;
}

export type SlackReply = number | { status: number; retryAfter?: number; body?: string };

export interface FakeSlack {
  url(channel: string): string;
  posts: SlackPost[];
  /** Answer per channel and per attempt (0-based count of posts to that channel). Default 200. */
  reply: (channel: string, attempt: number) => SlackReply;
  postsTo(channel: string, status?: number): SlackPost[];
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const posts: SlackPost[] = [];
  const fake: FakeSlack = {
    url: () => '',
    posts,
    reply: () => 200,
    postsTo: (channel, status) => posts.filter((p) => p.channel === channel && (status === undefined || p.status === status)),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const channel = (req.url ?? '').replace(/^\/hook\//, '');
      const attempt = posts.filter((p) => p.channel === channel).length;
      const r = fake.reply(channel, attempt);
      const reply = typeof r === 'number' ? { status: r } : r;
      posts.push({ channel, at: Date.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')), status: reply.status });
      res.writeHead(reply.status, { 'content-type': 'text/plain', ...(reply.retryAfter !== undefined ? { 'retry-after': String(reply.retryAfter) } : {}) });
      res.end(reply.body ?? (reply.status === 200 ? 'ok' : reply.status === 429 ? 'rate_limited' : 'error'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  fake.url = (channel) => `http://127.0.0.1:${port}/hook/${channel}`;
  return fake;
}

/** All the text of a Block Kit message: header, sections, fields, context. */
export function blockText(body: SlackPost['body']): string {
  const parts: string[] = [body.text];
  for (const a of body.attachments) {
    for (const b of a.blocks) {
      if (b.text?.text) parts.push(String(b.text.text));
      for (const f of b.fields ?? []) parts.push(String(f.text));
      for (const e of b.elements ?? []) if (e.text) parts.push(typeof e.text === 'string' ? e.text : String(e.text.text));
    }
  }
  return parts.join('\n');
}
