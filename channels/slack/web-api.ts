/**
 * The Slack Web API as the app mode uses it: chat.postMessage and chat.update, JSON over
 * fetch with the bot token as a Bearer token, and what each answer means for delivery.
 *
 * Slack answers HTTP 200 with `{"ok": false, "error": "..."}` for most failures, HTTP 429
 * with Retry-After when rate limited (also seen as `ok:false,error:"ratelimited"`), and 5xx
 * when it is down. `classifySlackAnswer` maps each to one of:
 *   ok         the call took effect (`ts`, `channel` of the message);
 *   ratelimited  wait Retry-After seconds (default 30), then retry;
 *   retry      transient (internal_error, fatal_error, service_unavailable, request_timeout,
 *              5xx, unknown errors): backoff and retry until the queue's redrive;
 *   permanent  retrying sends the same request and gets the same answer (invalid_auth,
 *              channel_not_found, not_in_channel, msg_too_long ...): to the DLQ with the reason.
 */

export const SLACK_API_URL = 'https://slack.com/api';

export type SlackMethod = 'chat.postMessage' | 'chat.update' | 'chat.postEphemeral';

/** Errors retrying cannot fix: the token, the channel or the message itself is wrong. */
export const PERMANENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  // the token
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
  'missing_scope',
  'not_allowed_token_type',
  'access_denied',
  'ekm_access_denied',
  'org_login_required',
  'team_access_not_granted',
  'enterprise_is_restricted',
  // the channel
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  // the message
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_attachments',
  'invalid_metadata_format',
  'metadata_too_large',
  'invalid_arguments',
  'invalid_array_arg',
  'invalid_form_data',
  'invalid_json',
  'json_not_object',
  'invalid_charset',
  'invalid_post_type',
  'missing_post_type',
  'as_user_not_supported',
  'cant_update_message',
  'message_not_found',
  'edit_window_closed',
  'thread_not_found',
  'method_deprecated',
  'deprecated_endpoint',
]);

/** Errors Slack itself calls transient; unknown errors are retried too (until the redrive). */
export const TRANSIENT_SLACK_ERRORS: ReadonlySet<string> = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

/** What a Slack Web API call answered. */
export interface SlackAnswer {
  status: number;
  /** The JSON body, when it was JSON. */
  json?: { ok?: unknown; error?: unknown; ts?: unknown; channel?: unknown; warning?: unknown };
  /** The raw body (for reasons), when not JSON. */
  text?: string;
  /** Seconds, from Retry-After. */
  retryAfter?: number;
}

export type SlackOutcome =
  | { kind: 'ok'; ts: string; channel: string }
  | { kind: 'ratelimited'; retryAfter?: number; reason: string }
  | { kind: 'retry'; reason: string }
  | { kind: 'permanent'; error: string; reason: string };

export function classifySlackAnswer(method: SlackMethod, answer: SlackAnswer): SlackOutcome {
  const error = typeof answer.json?.error === 'string' ? answer.json.error : undefined;
  if (answer.status === 429 || error === 'ratelimited' || error === 'rate_limited') {
    return { kind: 'ratelimited', ...(answer.retryAfter !== undefined ? { retryAfter: answer.retryAfter } : {}), reason: `${method}: ratelimited` };
  }
  if (answer.status >= 500 || answer.status === 408) return { kind: 'retry', reason: `${method}: HTTP ${answer.status}${error ? ` ${error}` : ''}` };
  if (answer.status !== 200) {
    // Not the Web API's way to answer (a wrong apiUrl, a proxy): retrying the same URL will not help.
    const body = error ?? (answer.text ?? '').slice(0, 200);
    return { kind: 'permanent', error: `http_${answer.status}`, reason: `${method}: HTTP ${answer.status}${body ? ` ${body}` : ''}` };
  }
  if (answer.json?.ok === true) {
    const ts = answer.json.ts;
    const channel = answer.json.channel;
    if (typeof ts === 'string' && typeof channel === 'string') return { kind: 'ok', ts, channel };
    return { kind: 'retry', reason: `${method}: ok without ts and channel` };
  }
  if (!error) return { kind: 'retry', reason: `${method}: answer without ok (${(answer.text ?? '').slice(0, 200)})` };
  if (PERMANENT_SLACK_ERRORS.has(error)) return { kind: 'permanent', error, reason: `${method}: ${error}` };
  return { kind: 'retry', reason: `${method}: ${error}${TRANSIENT_SLACK_ERRORS.has(error) ? '' : ' (unknown error, retried)'}` };
}

/** One JSON call to the Web API. Network errors and timeouts throw: the call may or may not have taken effect. */
export async function callSlack(apiUrl: string, token: string, method: SlackMethod, body: Record<string, unknown>, timeoutMs: number): Promise<SlackAnswer> {
  const res = await fetch(`${apiUrl.replace(/\/+$/, '')}/${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text().catch(() => '');
  const retryAfter = Number(res.headers.get('retry-after'));
  let json: SlackAnswer['json'];
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') json = parsed as SlackAnswer['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, ...(json ? { json } : { text }), ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
}

/** A bot token as Slack issues them (xoxb-..., or a rotating xoxe.xoxb-...), or a clear error naming where it came from. */
export function checkBotToken(token: string, from: string): string {
  if (!/^(xoxe\.)?xox[a-z]-\S+$/.test(token)) throw new Error(`${from} does not hold a Slack bot token (xoxb-...)`);
  return token;
}
