/**
 * The generic webhook sender: a JSON POST of the payload, signed as tocsin's own ingest
 * requests are (lambdas/domain/signing.ts): HMAC-SHA256 under the channel's signing key
 * over "v1\nPOST\n<path and query of url>\n<unix seconds>\n<hex SHA-256 of the body>",
 * sent as x-tocsin-signature: v1=<hex>, with x-tocsin-timestamp and x-tocsin-key-id
 * (HEADERS). Signed afresh on every attempt, so a retry hours later still falls inside a
 * receiver's window. 2xx is delivered; 408, 429, 5xx and network errors are retried; 3xx
 * (redirects are not followed: a POST must not turn into a GET) and other 4xx go to the
 * dead-letter queue at once.
 */
import type { ChannelSender, SendResponse } from '../../lambdas/app/channel-delivery';
import type { Clock } from '../../lambdas/app/runtime';
import { HEADERS } from '../../lambdas/domain/protocol';
import { keyId, keyList, sign } from '../../lambdas/domain/signing';
import type { ChannelSecrets } from '../queue-delivered/secrets';
import { plainOrJsonField } from '../queue-delivered/secrets';
import { isPermanentHttpFailure } from '../queue-delivered/settings';
import { WEBHOOK_PAYLOAD_VERSION, type WebhookPayload } from './render';

/** Shortest signing key accepted (each key of the list). */
export const MIN_SIGNING_KEY_CHARS = 32;

/** Header naming the payload's version (also in the body). */
export const WEBHOOK_VERSION_HEADER = 'x-tocsin-webhook-version';

/** A signing key list (keyList: newest first, white space between): every key long enough, or a clear error naming where it came from. */
export function checkSigningKeys(secret: string, from: string): string {
  const keys = keyList(secret);
  if (keys.length === 0 || keys.some((k) => k.length < MIN_SIGNING_KEY_CHARS)) {
    throw new Error(`${from} does not hold a webhook signing key (at least ${MIN_SIGNING_KEY_CHARS} characters; during a rotation several, newest first, separated by white space)`);
  }
  return secret;
}

/** The stored secret (parameter or secret, named by `from`): the key (list) itself, or JSON {"signingKey": "..."}. */
export function signingKeysOfSecret(stored: string, from: string): string {
  return checkSigningKeys(plainOrJsonField(stored, 'signingKey', from), from);
}

/** The headers of one signed POST of `body` to `url` at `nowSeconds`. */
export function signedHeaders(keys: string, url: string, body: string, nowSeconds: number): Record<string, string> {
  const key = keyList(keys)[0]!;
  const { pathname, search } = new URL(url);
  const timestamp = String(Math.floor(nowSeconds));
  return {
    'content-type': 'application/json',
    [WEBHOOK_VERSION_HEADER]: String(WEBHOOK_PAYLOAD_VERSION),
    [HEADERS.timestamp]: timestamp,
    [HEADERS.signature]: sign(key, 'POST', `${pathname}${search}`, timestamp, body),
    [HEADERS.keyId]: keyId(key),
  };
}

export class WebhookPayloadSender implements ChannelSender<WebhookPayload> {
  readonly endpoint = 'webhook';

  constructor(
    /** Channel -> URL. */
    private readonly urls: Readonly<Record<string, string>>,
    private readonly keys: ChannelSecrets,
    private readonly clock: Clock,
    private readonly timeoutMs = 10_000,
  ) {}

  async destinationOf(channel: string): Promise<string> {
    const url = this.urls[channel];
    if (!url) throw new Error(`no url for webhook channel ${channel}`);
    return url;
  }

  async send(url: string, payload: WebhookPayload, channel: string): Promise<SendResponse> {
    const body = JSON.stringify(payload);
    const headers = signedHeaders(await this.keys.secretOf(channel), url, body, this.clock.nowMs() / 1000);
    const res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await res.text().catch(() => '');
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, body: text, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
  }

  isPermanent(res: SendResponse): boolean {
    return (res.status >= 300 && res.status < 400) || isPermanentHttpFailure(res);
  }
}
