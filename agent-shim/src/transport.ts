/**
 * Signed POST of one envelope with node:http(s). Not fetch: loading undici costs
 * more start-up time than the rest of the shim together.
 */
import type * as http from 'node:http';
import type * as https from 'node:https';
import type { Envelope } from '../../lambdas/domain/types';
import { BODY_TYPES, CLOCK_SKEW, HEADERS, LIMITS, REPLAYED, UNKNOWN_KEY } from '../../lambdas/domain/protocol';
import { keyId, sign } from './sign';
import { offsetFromDate, TOLERANCE_MS } from './clock';

/** Above this the JSON is gzipped; snapshots of big clusters compress ~10x. */
export const GZIP_THRESHOLD_BYTES = 8 * 1024;
const MAX_ERROR_BODY_BYTES = 16 * 1024;
const MAX_REASON_CHARS = 500;

export type Outcome =
  | { kind: 'sent'; status: number }
  /** Worth retrying later: network error, timeout, 408/425/429, 5xx, unexpected 1xx/3xx. */
  | { kind: 'retry'; reason: string }
  /**
   * Refused for a reason that can pass (protocol.ts CLOCK_SKEW even after correcting the
   * clock, UNKNOWN_KEY): kept in the spool and resent later, loudly.
   */
  | { kind: 'held'; status: number; reason: string; code: string }
  /** The API refused this request; retrying the same bytes would not help. */
  | { kind: 'rejected'; status: number; reason: string; auth: boolean; tooLarge?: boolean };

export interface Prepared {
  body: Buffer;
  headers: Record<string, string>;
  /** JSON size before compression (what LIMITS.maxInflatedBytes applies to; `body.length` is what LIMITS.maxWireBytes does). */
  plainBytes: number;
}

/** Serialise, maybe gzip, and sign the exact bytes that will go on the wire. */
export function prepare(envelope: Envelope, key: string, pathname: string, nowMs: number, userAgent: string): Prepared {
  let body = Buffer.from(JSON.stringify(envelope), 'utf8');
  const plainBytes = body.length;
  const headers: Record<string, string> = { 'content-type': BODY_TYPES.json, 'user-agent': userAgent };
  if (body.length > GZIP_THRESHOLD_BYTES) {
    // Lazy: most invocations are small and never pay for loading zlib.
    const zlib = require('node:zlib') as typeof import('node:zlib');
    body = zlib.gzipSync(body);
    // Binary, so that API Gateway hands it to the Lambda as base64, byte for byte (BODY_TYPES).
    headers['content-type'] = BODY_TYPES.compressed;
    headers['content-encoding'] = 'gzip';
  }
  const ts = String(Math.floor(nowMs / 1000));
  headers[HEADERS.cluster] = envelope.cluster;
  headers[HEADERS.timestamp] = ts;
  headers[HEADERS.keyId] = keyIdOf(key);
  headers[HEADERS.signature] = sign(key, 'POST', pathname, ts, body);
  headers['content-length'] = String(body.length);
  return { body, headers, plainBytes };
}

let lastKey: string | undefined;
let lastKeyId = '';
function keyIdOf(key: string): string {
  if (key !== lastKey) {
    lastKeyId = keyId(key);
    lastKey = key;
  }
  return lastKeyId;
}

export class Transport {
  private client: { mod: typeof http | typeof https; agent: http.Agent } | undefined;

  /**
   * `offsetMs`: the API's clock minus ours as last seen (clock.ts), added to our clock when
   * signing. Answers' Date headers update it; `onOffset` hears of each change.
   */
  constructor(
    protected readonly url: URL,
    private readonly key: string,
    private readonly userAgent: string,
    private offsetMs = 0,
    private readonly onOffset?: (offsetMs: number, previousMs: number) => void,
  ) {}

  /**
   * node:http(s) and its agent, loaded at the first request: the same cost for the shim, and
   * a subclass with another HTTP client (bench/shim/fetch-transport.ts) never loads them.
   */
  private http(): { mod: typeof http | typeof https; agent: http.Agent } {
    if (!this.client) {
      const mod = (this.url.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof http | typeof https;
      // One kept-alive connection serves a whole spool flush.
      this.client = { mod, agent: new mod.Agent({ keepAlive: true, maxSockets: 1 }) };
    }
    return this.client;
  }

  /**
   * POST `envelope`, giving up at `deadline` (epoch ms). Never throws. `onSent` runs once
   * the whole request has been handed to the OS, while the API works on it (not if the
   * outcome is known before that). Refused for clock skew, it signs again once with the
   * time of the refusal's Date header, as the AWS SDKs do.
   */
  async send(envelope: Envelope, deadline: number, onSent?: () => void): Promise<Outcome> {
    const used = this.offsetMs;
    const first = await this.attempt(envelope, deadline, onSent);
    if (first.kind !== 'held' || first.code !== CLOCK_SKEW.error) return first;
    if (this.offsetMs === used) return { ...first, reason: `${first.reason} (its Date header, if any, gives no other time)` };
    const second = await this.attempt(envelope, deadline, onSent);
    if (second.kind !== 'held' || second.code !== CLOCK_SKEW.error) return second;
    return { ...second, reason: `${second.reason} (even signed with the API's time: off by ${Math.round(this.offsetMs / 1000)} s from this host's clock)` };
  }

  /**
   * A Date header (not from a cache) moves the offset when it disagrees by more than the
   * tolerance, or by anything on a clock_skew refusal: that one is retried at once.
   */
  protected observe(date: string | undefined, age: string | undefined, receivedMs: number, refusedForSkew: boolean): void {
    if (age !== undefined) return;
    const sample = offsetFromDate(date, receivedMs);
    if (sample === undefined) return;
    const moved = Math.abs(sample - this.offsetMs);
    if (refusedForSkew ? moved < 1000 : moved <= TOLERANCE_MS) return;
    // Within the tolerance our own clock is good enough: no offset, no file.
    const next = Math.abs(sample) > TOLERANCE_MS ? sample : 0;
    if (next === this.offsetMs) return;
    const previous = this.offsetMs;
    this.offsetMs = next;
    this.onOffset?.(next, previous);
  }

  private attempt(envelope: Envelope, deadline: number, onSent?: () => void): Promise<Outcome> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve({ kind: 'retry', reason: 'no time left' });
    const { body, headers, plainBytes } = prepare(envelope, this.key, this.url.pathname, Date.now() + this.offsetMs, this.userAgent);
    // The API would answer 413 after we uploaded it all; say so without the upload.
    const over = overLimit(plainBytes, body.length);
    if (over) return Promise.resolve({ kind: 'rejected', status: 413, reason: over, auth: false, tooLarge: true });
    return this.post(body, headers, remaining, onSent);
  }

  /**
   * One POST of prepared bytes within `remaining` ms: the outcome by classify(), the answer's
   * Date header passed to observe(). Never rejects.
   */
  protected post(body: Buffer, headers: Record<string, string>, remaining: number, onSent?: () => void): Promise<Outcome> {
    const { mod, agent } = this.http();
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      const req = mod.request(
        this.url,
        { method: 'POST', headers, agent },
        (res) => {
          const status = res.statusCode ?? 0;
          const receivedMs = Date.now();
          if (status >= 200 && status < 300) {
            this.observe(res.headers.date, res.headers.age, receivedMs, false);
            // Success is the status line; do not wait on a slow body. The body is drained
            // (which frees the kept-alive socket) after the caller has acted on the outcome:
            // a run that exits right away never spends time on it.
            finish({ kind: 'sent', status });
            setImmediate(() => res.resume());
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < MAX_ERROR_BODY_BYTES) chunks.push(c);
            size += c.length;
          });
          const done = (): void => {
            if (settled) return;
            const o = classify(status, res.statusMessage ?? '', Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES), res.headers.location);
            this.observe(res.headers.date, res.headers.age, receivedMs, o.kind === 'held' && o.code === CLOCK_SKEW.error);
            finish(o);
          };
          res.on('end', done);
          res.on('error', done);
          res.on('close', done);
        },
      );
      const timer = setTimeout(() => {
        finish({ kind: 'retry', reason: `no answer within the time bound (${Math.round(remaining)} ms)` });
        req.destroy();
      }, remaining);
      if (onSent) req.once('finish', () => settled || onSent());
      req.on('error', (e: NodeJS.ErrnoException) =>
        finish({ kind: 'retry', reason: e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : e.message }),
      );
      req.end(body);
    });
  }
}

/**
 * Why the API would refuse an envelope of this size (protocol.ts LIMITS), or undefined. The
 * limits apply to what is sent: the bytes on the wire (gzipped above GZIP_THRESHOLD_BYTES)
 * and the plain JSON the API inflates them to.
 */
export function overLimit(plainBytes: number, wireBytes: number): string | undefined {
  const size = wireBytes === plainBytes ? `${plainBytes} bytes` : `${plainBytes} bytes of JSON, ${wireBytes} gzipped`;
  const split = ' - split the watch (one per service or key prefix, each with its --scope)';
  if (wireBytes > LIMITS.maxWireBytes) return `envelope is ${size}: over the API limit of ${LIMITS.maxWireBytes} bytes on the wire; not sent${split}`;
  if (plainBytes > LIMITS.maxInflatedBytes) return `envelope is ${size}: over the API limit of ${LIMITS.maxInflatedBytes} bytes of JSON; not sent${split}`;
  return undefined;
}

/** Non-2xx status -> retry or reject, with the API's own reason when it gave one. */
export function classify(status: number, statusMessage: string, body: Buffer, location?: string): Outcome {
  const code = apiErrorCode(body);
  // The API accepted these exact bytes before (an earlier attempt whose answer we missed,
  // resent within the same second so with the same signature): delivered, not refused.
  if (status === REPLAYED.status && code === REPLAYED.error) return { kind: 'sent', status };
  const label = `HTTP ${status}${statusMessage ? ' ' + statusMessage : ''}`;
  const reason = apiReason(body);
  const withReason = reason ? `${label}: ${reason}` : label;
  if ((status === CLOCK_SKEW.status && code === CLOCK_SKEW.error) || (status === UNKNOWN_KEY.status && code === UNKNOWN_KEY.error)) {
    return { kind: 'held', status, reason: withReason, code };
  }
  if (status === 408 || status === 425 || status === 429 || status >= 500) return { kind: 'retry', reason: withReason };
  if (status >= 400) return { kind: 'rejected', status, reason: withReason, auth: status === 401 || status === 403 };
  // 1xx/3xx: the URL is probably wrong (http->https redirect...); keep the envelope.
  return { kind: 'retry', reason: `unexpected ${label}${location ? ` (Location: ${location}) - check TOCSIN_URL` : ''}` };
}

function apiErrorCode(body: Buffer): string | undefined {
  try {
    const j = JSON.parse(body.toString('utf8')) as { error?: unknown } | null;
    return typeof j?.error === 'string' ? j.error : undefined;
  } catch {
    return undefined;
  }
}

/** `{error, message}` from the API, else the body text; single line, at most ~500 chars. */
export function apiReason(body: Buffer): string {
  const text = body.toString('utf8');
  let reason = text;
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    if (j && typeof j === 'object') {
      const parts = [j.error, j.message].filter((p): p is string => typeof p === 'string' && p !== '');
      if (parts.length > 0) reason = parts.join(': ');
    }
  } catch {
    /* not JSON: use the text */
  }
  const flat = reason.replace(/\s+/g, ' ').replace(/[\x00-\x1f\x7f]/g, '').trim();
  return flat.length > MAX_REASON_CHARS ? flat.slice(0, MAX_REASON_CHARS) + '…' : flat;
}

/** What to do about an envelope the API refused for a reason that can pass (a `held` outcome). */
export function heldHint(code: string | undefined): string {
  return code === UNKNOWN_KEY.error
    ? " - the API lacks this node's TOCSIN_KEY: in a key rotation, it is delivered once the cluster's secret lists this key; else fix TOCSIN_KEY"
    : " - this host's clock is off and the API's Date header did not correct it; check NTP";
}
