/**
 * Delivery for every channel kind tocsin sends itself, the same code in the channel-worker
 * Lambda and in `npm start`: a batch of queue messages (SNS notifications of one channel's
 * queue) rendered by the kind and sent one by one, paced per destination. Each message's
 * outcome is returned: the transport deletes the delivered ones and makes the others
 * visible again after `retryAfterSeconds` (a 429's Retry-After, else a backoff); the
 * queue's redrive policy moves a message that keeps failing to the dead-letter queue. An
 * answer the kind's sender calls permanent (a 400 of PagerDuty: retrying sends the same
 * event) is `deadLetter`: the transport moves that message to the dead-letter queue at
 * once, with its reason (DEAD_LETTER_REASON_ATTRIBUTE).
 */
import { CHANNELS_ATTRIBUTE } from '../commons/deployment';
import { alertFromNotification, alertLink } from '../domain/render';
import type { Alert } from '../domain/types';
import type { Clock, Logger } from './runtime';

export interface QueueMessage {
  id: string;
  /** The SQS body: an SNS notification (JSON with Message and MessageAttributes). */
  body: string;
  /** ApproximateReceiveCount (1 on the first delivery). */
  receiveCount: number;
}

export type MessageResult =
  | { id: string; ok: true; skipped?: 'not-for-this-channel' | 'unreadable' }
  | { id: string; ok: false; retryAfterSeconds: number; reason: string; deadLetter?: true };

/** A send's answer, in HTTP terms (what every delivery API speaks). */
export interface SendResponse {
  status: number;
  /** Seconds, from a Retry-After header. */
  retryAfter?: number;
  body?: string;
  /** The sender already knows retrying cannot help (an API that answers errors inside a 200, as Slack's Web API). */
  permanent?: true;
}

/** How one channel kind sends a rendered message. */
export interface ChannelSender<Payload> {
  /** What the failure reasons call the far end ("webhook"). */
  readonly endpoint: string;
  /** Where a channel's messages go (a webhook URL, an integration ...); pacing is per destination. */
  destinationOf(channel: string): Promise<string>;
  send(destination: string, payload: Payload, channel: string): Promise<SendResponse>;
  /** Answers retrying cannot change (absent: every failure is retried until the redrive). */
  isPermanent?(res: SendResponse): boolean;
}

/** A template's output for the title and body (channels/templates.ts). */
export interface RenderedText {
  title?: string;
  body?: string;
}

export interface ChannelDeliveryDeps<Payload> {
  render: (alert: Alert, link: string | undefined, text?: RenderedText) => Payload;
  /** The templated title and body of an alert for a channel (tocsin.yaml templates); absent or undefined: the kind's default. */
  texts?: (alert: Alert, link: string | undefined, channel: string) => RenderedText | undefined;
  sender: ChannelSender<Payload>;
  clock: Clock;
  sleep: (ms: number) => Promise<void>;
  /** At least this long between two sends to one destination from this process (≈1 msg/s). */
  minIntervalMs: number;
  /** First retry delay after a failure other than 429; doubles per receive, capped at 900 s. */
  retryBaseSeconds: number;
  /** tocsin.yaml links.alert. */
  linkTemplate?: string;
  logger?: Logger;
}

/** A 429 without Retry-After: wait this long. */
const DEFAULT_RETRY_AFTER_SECONDS = 30;
const MAX_RETRY_SECONDS = 900;

/** Last send per destination, for pacing (module scope: survives warm Lambda invocations). */
const lastSend = new Map<string, number>();

export function backoffSeconds(receiveCount: number, base: number): number {
  return Math.min(MAX_RETRY_SECONDS, Math.max(1, base * 2 ** Math.max(0, receiveCount - 1)));
}

interface SnsNotification {
  Message?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** Whether an SNS notification is for `channel`; no channels attribute: yes (filtered upstream). */
export function isForChannel(n: SnsNotification, channel: string): boolean {
  const attr = n.MessageAttributes?.[CHANNELS_ATTRIBUTE];
  if (!attr) return true;
  try {
    const list = JSON.parse(attr.Value) as unknown;
    return Array.isArray(list) ? list.includes(channel) : attr.Value === channel;
  } catch {
    return attr.Value === channel;
  }
}

export async function deliverBatch<Payload>(deps: ChannelDeliveryDeps<Payload>, channel: string, messages: QueueMessage[]): Promise<MessageResult[]> {
  const { sender } = deps;
  const results: MessageResult[] = [];
  let destination: string | undefined;
  let throttledFor: number | undefined;
  const rateLimited = `${sender.endpoint} rate limited (429)`;
  for (const m of messages) {
    if (throttledFor !== undefined) {
      results.push({ id: m.id, ok: false, retryAfterSeconds: throttledFor, reason: rateLimited });
      continue;
    }
    let payload: Payload;
    try {
      const notification = JSON.parse(m.body) as SnsNotification;
      if (!isForChannel(notification, channel)) {
        results.push({ id: m.id, ok: true, skipped: 'not-for-this-channel' });
        continue;
      }
      const alert = alertFromNotification(notification.Message ?? '');
      const link = alertLink(deps.linkTemplate, alert);
      payload = deps.render(alert, link, deps.texts?.(alert, link, channel));
    } catch (err) {
      // Retrying cannot fix an unreadable message; dropping it is logged.
      deps.logger?.error('unreadable notification dropped', { channel, id: m.id, error: (err as Error).message });
      results.push({ id: m.id, ok: true, skipped: 'unreadable' });
      continue;
    }
    try {
      destination ??= await sender.destinationOf(channel);
      const wait = (lastSend.get(destination) ?? 0) + deps.minIntervalMs - deps.clock.nowMs();
      if (wait > 0) await deps.sleep(wait);
      lastSend.set(destination, deps.clock.nowMs());
      const res = await sender.send(destination, payload, channel);
      if (res.status >= 200 && res.status < 300) {
        results.push({ id: m.id, ok: true });
      } else if (res.status === 429) {
        throttledFor = Math.min(MAX_RETRY_SECONDS, Math.max(1, Math.ceil(res.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS)));
        deps.logger?.info('delivery rate limited', { channel, retryAfter: throttledFor });
        results.push({ id: m.id, ok: false, retryAfterSeconds: throttledFor, reason: rateLimited });
      } else if (res.permanent || sender.isPermanent?.(res)) {
        const reason = `${sender.endpoint} refused it (${res.status})${res.body ? `: ${res.body.slice(0, 1000)}` : ''}`;
        deps.logger?.error('delivery refused, not retried: to the dead-letter queue', { channel, id: m.id, status: res.status, reason });
        results.push({ id: m.id, ok: false, retryAfterSeconds: 0, reason, deadLetter: true });
      } else {
        const reason = `${sender.endpoint} answered ${res.status}${res.body ? `: ${res.body.slice(0, 200)}` : ''}`;
        deps.logger?.error('delivery failed', { channel, id: m.id, status: res.status, receiveCount: m.receiveCount });
        results.push({ id: m.id, ok: false, retryAfterSeconds: backoffSeconds(m.receiveCount, deps.retryBaseSeconds), reason });
      }
    } catch (err) {
      deps.logger?.error('delivery failed', { channel, id: m.id, error: (err as Error).message, receiveCount: m.receiveCount });
      results.push({ id: m.id, ok: false, retryAfterSeconds: backoffSeconds(m.receiveCount, deps.retryBaseSeconds), reason: (err as Error).message });
    }
  }
  return results;
}
