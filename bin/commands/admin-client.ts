/**
 * The admin API client of `tocsin silence` and `tocsin watchers`: requests signed with the
 * cluster's admin key like the shim signs envelopes (HMAC-SHA256 over method, path,
 * timestamp and body digest; lambdas/domain/signing.ts), re-signed when refused as a replay.
 */
import { HEADERS, REPLAYED } from '../../lambdas/domain/protocol';
import { sign } from '../../lambdas/domain/signing';

export type Fetch = typeof fetch;

export interface AdminTarget {
  base: string;
  cluster: string;
  key: string;
}

export interface AdminReply {
  status: number;
  json: Record<string, unknown>;
}

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Attempts at one request refused as a replay (one per second). */
const REPLAYED_ATTEMPTS = 5;

export class UsageError extends Error {}

/** The API base from the ingest URL or the base itself. */
export function apiBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--url "${url}" is not a URL`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/v1\/.*$/, '').replace(/\/$/, '')}`;
}

export async function call(f: Fetch, target: AdminTarget, method: string, path: string, body?: unknown, query = ''): Promise<AdminReply> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const url = `${target.base}${path}${query}`;
  // A signature covers method, path, second and body: the same request twice within one
  // second (two `list`s) carries the same signature and the API refuses it as a replay.
  // Re-signed in the next second it is a new request. Of n identical requests started in
  // one second, one goes through per second, hence several attempts.
  for (let attempt = 1; ; attempt++) {
    const reply = await send(f, target, method, url, payload);
    if (attempt >= REPLAYED_ATTEMPTS || reply.status !== REPLAYED.status || reply.json.error !== REPLAYED.error) return reply;
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
  }
}

async function send(f: Fetch, target: AdminTarget, method: string, url: string, payload: string): Promise<AdminReply> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const res = await f(url, {
    method,
    headers: {
      'content-type': 'application/json',
      [HEADERS.cluster]: target.cluster,
      [HEADERS.timestamp]: timestamp,
      // Signed over the URL's path, as the shim signs (the query string is not covered: list filters only).
      [HEADERS.signature]: sign(target.key, method, new URL(url).pathname, timestamp, payload),
    },
    ...(method === 'GET' ? {} : { body: payload }),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { message: text.slice(0, 300) };
  }
  return { status: res.status, json };
}

/** A refused request as the CLI reports it: 77 for refused credentials, else 1. */
export function failed(r: AdminReply): CliOutput {
  return { code: r.status === 401 ? 77 : 1, stdout: '', stderr: `tocsin: ${r.status} ${String(r.json.error ?? '')}: ${String(r.json.message ?? '')}\n` };
}

/** Prints a CliOutput and sets the exit code. */
export function emit(run: Promise<CliOutput>): void {
  void run.then((out) => {
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.code;
  });
}

/** Columns padded to their widest cell (the last one left as is), one line per row, with a header. */
export function formatTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return `${[line(head), ...rows.map(line)].join('\n')}\n`;
}
