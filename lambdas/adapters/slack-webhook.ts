/** WebhookPoster over fetch, and WebhookUrls from Secrets Manager or a fixed map. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { WebhookPoster, WebhookResponse, WebhookUrls } from '../app/slack-notifier';

export class FetchWebhookPoster implements WebhookPoster {
  constructor(private readonly timeoutMs = 10_000) {}

  async post(url: string, payload: unknown): Promise<WebhookResponse> {
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
