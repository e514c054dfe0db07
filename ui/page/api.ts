/**
 * The page's API client: every request signed in the browser exactly as the CLI signs it
 * (ui/signer.ts; bin/commands/admin-client.ts), re-signed in the next second when refused
 * as a replay (two identical reads within one second carry the same signature), and once
 * more with the API's clock when refused for clock skew (the answer's Date header).
 */
import { CLOCK_SKEW, REPLAYED } from '../../lambdas/domain/protocol';
import { signedHeaders } from '../signer';

export interface Reply {
  status: number;
  json: Record<string, unknown>;
}

const REPLAYED_ATTEMPTS = 5;
/** Correction of this browser's clock by the API's, learnt from a clock_skew refusal. */
let clockOffsetMs = 0;

/** The API's base: the page is served at `<base>/ui` (or `<base>/` by npm start). */
function apiUrl(path: string, query: string): URL {
  return new URL(`${path.replace(/^\//, '')}${query}`, new URL('.', window.location.href));
}

async function send(cluster: string, key: string, method: string, url: URL, payload: string): Promise<{ reply: Reply; date: string | null }> {
  const headers = await signedHeaders(cluster, key, method, url.pathname, payload, Date.now() + clockOffsetMs);
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(method === 'GET' ? {} : { 'content-type': 'application/json' }) },
    ...(method === 'GET' ? {} : { body: payload }),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { error: 'not_json', message: text.slice(0, 300) };
  }
  return { reply: { status: res.status, json }, date: res.headers.get('date') };
}

export async function apiCall(cluster: string, key: string, method: string, path: string, body?: unknown, query = ''): Promise<Reply> {
  const payload = body === undefined ? '' : JSON.stringify(body);
  const url = apiUrl(path, query);
  let skewFixed = false;
  for (let attempt = 1; ; attempt++) {
    const { reply, date } = await send(cluster, key, method, url, payload);
    if (reply.json.error === CLOCK_SKEW.error && !skewFixed && date) {
      skewFixed = true;
      clockOffsetMs = Date.parse(date) - Date.now();
      continue;
    }
    if (attempt >= REPLAYED_ATTEMPTS || reply.status !== REPLAYED.status || reply.json.error !== REPLAYED.error) return reply;
    await new Promise((r) => setTimeout(r, 1000 - ((Date.now() + clockOffsetMs) % 1000) + 10));
  }
}

/** "403 forbidden: the viewer key may only read; ..." */
export function replyText(r: Reply): string {
  return `${r.status} ${String(r.json.error ?? '')}: ${String(r.json.message ?? '')}`;
}
