/**
 * The PagerDuty Events API v2 sender: a JSON POST of the event with the channel's routing
 * key to the channel's `url` (default PAGERDUTY_EVENTS_URL). 202 is delivered; 429 and 5xx
 * (and network errors) are retried by the channel worker; any other 4xx (400: an invalid
 * event or routing key) goes to the dead-letter queue at once with PagerDuty's answer.
 */
import { createHash } from 'node:crypto';
import type { ChannelSender, SendResponse } from '../../lambdas/app/channel-delivery';
import type { ChannelSecrets } from '../queue-delivered/secrets';
import { plainOrJsonField } from '../queue-delivered/secrets';
import { isPermanentHttpFailure } from '../queue-delivered/settings';
import { PAGERDUTY_EVENTS_URL, PAGERDUTY_LIMITS, type PagerDutyEvent } from './render';

/** A routing key (secret, env or tocsin.yaml): 32 characters without white space, or a clear error naming where it came from. */
export function checkRoutingKey(key: string, from: string): string {
  if (!new RegExp(`^\\S{${PAGERDUTY_LIMITS.routingKey}}$`).test(key)) {
    throw new Error(`${from} does not hold a PagerDuty routing key (${PAGERDUTY_LIMITS.routingKey} characters, the integration key of an Events API v2 integration)`);
  }
  return key;
}

/** The stored secret (parameter or secret, named by `from`): the routing key itself, or JSON {"routingKey": "..."}. */
export function routingKeyOfSecret(stored: string, from: string): string {
  return checkRoutingKey(plainOrJsonField(stored, 'routingKey', from), from);
}

export class PagerDutySender implements ChannelSender<PagerDutyEvent> {
  readonly endpoint = 'PagerDuty';

  constructor(
    /** Channel -> its Events API URL (absent: PAGERDUTY_EVENTS_URL). */
    private readonly urls: Readonly<Record<string, string | undefined>>,
    private readonly keys: ChannelSecrets,
    private readonly timeoutMs = 10_000,
  ) {}

  private urlOf(channel: string): string {
    return this.urls[channel] ?? PAGERDUTY_EVENTS_URL;
  }

  /** PagerDuty rate-limits per routing key: pacing is per URL and key (a digest of it, never the key). */
  async destinationOf(channel: string): Promise<string> {
    const key = await this.keys.secretOf(channel);
    return `${this.urlOf(channel)}#${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
  }

  async send(_destination: string, event: PagerDutyEvent, channel: string): Promise<SendResponse> {
    const routingKey = await this.keys.secretOf(channel);
    const res = await fetch(this.urlOf(channel), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ routing_key: routingKey, ...event }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = await res.text().catch(() => '');
    const retryAfter = Number(res.headers.get('retry-after'));
    return { status: res.status, body, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
  }

  isPermanent(res: SendResponse): boolean {
    return isPermanentHttpFailure(res);
  }
}
