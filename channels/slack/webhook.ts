/**
 * Slack incoming webhooks: the sender (a JSON POST over fetch) and where each channel's
 * webhook URL comes from (Secrets Manager when deployed, tocsin.yaml under `npm start`).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ChannelSender, SendResponse } from '../../lambdas/app/channel-delivery';

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

/** Secret value: the webhook URL, or JSON {"url": "..."}; cached for five minutes. */
export class SecretsManagerWebhookUrls implements WebhookUrls {
  private readonly cache = new Map<string, { url: string; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretNames: Readonly<Record<string, string>>,
    private readonly cacheMs = 5 * 60 * 1000,
  ) {}

  async urlFor(channel: string): Promise<string> {
    const hit = this.cache.get(channel);
    if (hit && hit.until > Date.now()) return hit.url;
    const secretName = this.secretNames[channel];
    if (!secretName) throw new Error(`no webhook secret configured for channel ${channel}`);
    // Required here, not at the top: reading tocsin.yaml (the CLI) loads this module but never the SDK.
    const { GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretName }));
    const raw = (out.SecretString ?? '').trim();
    const url = raw.startsWith('{') ? String((JSON.parse(raw) as { url?: unknown }).url ?? '') : raw;
    if (!/^https:\/\//.test(url)) throw new Error(`secret ${secretName} does not hold an https webhook URL`);
    this.cache.set(channel, { url, until: Date.now() + this.cacheMs });
    return url;
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
