/**
 * Slack incoming webhooks: the sender (a JSON POST over fetch) and where each channel's
 * webhook URL comes from (its parameter or secret when deployed, tocsin.yaml under `npm start`).
 */
import type { ChannelSender, SendResponse } from '../../lambdas/app/channel-delivery';
import { plainOrJsonField, type ChannelSecrets } from '../queue-delivered/secrets';

/** The channel's webhook URL. */
export interface WebhookUrls {
  urlFor(channel: string): Promise<string>;
}

export class WebhookSender implements ChannelSender<unknown> {
  readonly endpoint = 'webhook';

  constructor(
    private readonly urls: WebhookUrls,
    private readonly timeoutMs = 10_000,
  ) {}

  destinationOf(channel: string): Promise<string> {
    return this.urls.urlFor(channel);
  }

  async send(url: string, payload: unknown): Promise<SendResponse> {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await res.text().catch(() => '');
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, body, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
  }
}

/** The stored secret (parameter or secret, named by `from`): the webhook URL, or JSON {"url": "..."}; https only. */
export function webhookUrlOfSecret(stored: string, from: string): string {
  const url = plainOrJsonField(stored, 'url', from);
  if (!/^https:\/\/\S+$/.test(url)) throw new Error(`${from} does not hold an https webhook URL`);
  return url;
}

/** Deployed: each channel's URL from its secret (ChannelSecrets: read, checked, cached five minutes). */
export class SecretWebhookUrls implements WebhookUrls {
  constructor(private readonly secrets: ChannelSecrets) {}

  urlFor(channel: string): Promise<string> {
    return this.secrets.secretOf(channel);
  }
}

export class StaticWebhookUrls implements WebhookUrls {
  constructor(private readonly urls: Readonly<Record<string, string>>) {}

  async urlFor(channel: string): Promise<string> {
    const url = this.urls[channel];
    if (!url) throw new Error(`no webhookUrl for channel ${channel} in tocsin.yaml`);
    return url;
  }
}
