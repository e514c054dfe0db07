/**
 * The Teams Workflows webhook sender: a JSON POST of the message to the workflow's URL.
 * The URL carries the flow's signature (`sig=`), so it is the channel's secret: Parameter
 * Store or Secrets Manager when deployed (the URL, or JSON {"url": ...}), `urlEnv` or `url` under `npm start`;
 * it is never logged (failure reasons name the endpoint "Teams", never the URL). 2xx (the
 * flow answers 202 Accepted) is delivered; 408, 429 (Retry-After honoured) and 5xx are
 * retried; 3xx (a POST is not turned into a GET) and other 4xx (400: a card the flow
 * refused, 404: the flow is gone, 413: too big) go to the dead-letter queue at once.
 */
import type { ChannelSender, SendResponse } from '../../lambdas/app/channel-delivery';
import type { ChannelSecrets } from '../queue-delivered/secrets';
import { plainOrJsonField } from '../queue-delivered/secrets';
import { isPermanentHttpFailure } from '../queue-delivered/settings';
import type { TeamsMessage } from './render';

/** A workflow URL (secret, env or tocsin.yaml): an http(s) URL, https when `httpsOnly`, or a clear error naming where it came from (never the value). */
export function checkWorkflowUrl(value: string, from: string, httpsOnly: boolean): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const schemes = httpsOnly ? ['https:'] : ['https:', 'http:'];
  if (!url || !schemes.includes(url.protocol)) {
    throw new Error(`${from} does not hold a Teams Workflows webhook URL (${httpsOnly ? 'https' : 'http(s)'}://..., the URL of a "When a Teams webhook request is received" flow)`);
  }
  return value;
}

/** The stored secret (parameter or secret, named by `from`): the URL itself, or JSON {"url": "..."}; https only. */
export function workflowUrlOfSecret(stored: string, from: string): string {
  return checkWorkflowUrl(plainOrJsonField(stored, 'url', from), from, true);
}

export class TeamsWorkflowSender implements ChannelSender<TeamsMessage> {
  readonly endpoint = 'Teams';

  constructor(
    private readonly urls: ChannelSecrets,
    private readonly timeoutMs = 10_000,
  ) {}

  /** Teams rate-limits per webhook: pacing is per URL. */
  destinationOf(channel: string): Promise<string> {
    return this.urls.secretOf(channel);
  }

  async send(url: string, message: TeamsMessage): Promise<SendResponse> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(message),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await res.text().catch(() => '');
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, body, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
  }

  isPermanent(res: SendResponse): boolean {
    return (res.status >= 300 && res.status < 400) || isPermanentHttpFailure(res);
  }
}
