/**
 * Slack's request signature (https://api.slack.com/authentication/verifying-requests-from-slack):
 * `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{X-Slack-Request-Timestamp}:{raw body}">`
 * under the app's signing secret. A request is taken only with a timestamp within five
 * minutes of our clock (either way: a replay outside the window, or a forged future time),
 * and a signature equal in constant time to one computed under one of the secrets (one per
 * Slack app; several while a secret is rotated). Pure (no I/O).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_SIGNATURE = {
  version: 'v0',
  signatureHeader: 'x-slack-signature',
  timestampHeader: 'x-slack-request-timestamp',
  /** Slack's advice: refuse requests older (or newer) than five minutes. */
  windowSeconds: 300,
} as const;

export type SlackSignatureVerdict =
  | { ok: true; secretIndex: number }
  | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' | 'no_secret'; message: string };

export function slackSignature(secret: string, timestamp: string, rawBody: Uint8Array | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${SLACK_SIGNATURE.version}:${timestamp}:`);
  mac.update(rawBody);
  return `${SLACK_SIGNATURE.version}=${mac.digest('hex')}`;
}

/** `headers`: lower-case names. `rawBody`: the exact bytes Slack sent. */
export function verifySlackSignature(
  secrets: readonly string[],
  headers: Readonly<Record<string, string | undefined>>,
  rawBody: Uint8Array,
  nowMs: number,
): SlackSignatureVerdict {
  const signature = headers[SLACK_SIGNATURE.signatureHeader];
  const timestamp = headers[SLACK_SIGNATURE.timestampHeader];
  if (!signature || !timestamp) return { ok: false, reason: 'missing_headers', message: `X-Slack-Signature and X-Slack-Request-Timestamp are required` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp', message: 'X-Slack-Request-Timestamp must be whole seconds since the epoch' };
  const skew = Math.abs(nowMs / 1000 - Number(timestamp));
  if (skew > SLACK_SIGNATURE.windowSeconds) {
    return { ok: false, reason: 'stale_timestamp', message: `request timestamp ${Math.round(skew)} s away from now (at most ${SLACK_SIGNATURE.windowSeconds} s): replayed or clock skew` };
  }
  if (secrets.length === 0) return { ok: false, reason: 'no_secret', message: 'no Slack signing secret is configured' };
  const given = Buffer.from(signature, 'utf8');
  let match = -1;
  // Every secret is tried (no early exit), each comparison in constant time.
  secrets.forEach((secret, i) => {
    const expected = Buffer.from(slackSignature(secret, timestamp, rawBody), 'utf8');
    if (expected.length === given.length && timingSafeEqual(expected, given) && match < 0) match = i;
  });
  return match >= 0 ? { ok: true, secretIndex: match } : { ok: false, reason: 'bad_signature', message: 'the request signature does not match the Slack signing secret' };
}
