/**
 * The runner's record of what went out: every notification published on the alerts topic,
 * whatever its channels and however they deliver it, one JSON line in
 * <data dir>/notifications.jsonl (tests and the bench read it: test/support/notifications.ts).
 * A subscription of its own, so that the record does not depend on any channel's delivery.
 * At least once: a kill -9 between the append and the acknowledgement repeats a line
 * (`messageId` tells repeats apart).
 */
import { appendFile } from 'node:fs/promises';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { CHANNELS_ATTRIBUTE } from '../../lambdas/commons/deployment';
import { startQueueWorker, type QueueWorker } from '../queue-worker';
import type { LocalBus } from './bus';

/** One line of notifications.jsonl. */
export interface NotificationRecord {
  /** The bus's message id: the same on a repeated line. */
  messageId: string;
  publishedAt: string;
  subject: string;
  /** The `channels` message attribute (what subscriptions filter on); [] when absent. */
  channels: string[];
  /** Every message attribute, as SNS delivers them to a subscribed queue. */
  attributes: Record<string, { Type: string; Value: string }>;
  alert: Alert;
}

interface Envelope {
  MessageId: string;
  Timestamp: string;
  Subject: string;
  Message: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

export function recordOf(body: string): NotificationRecord {
  const n = JSON.parse(body) as Envelope;
  const attributes = n.MessageAttributes ?? {};
  const channels = attributes[CHANNELS_ATTRIBUTE] ? (JSON.parse(attributes[CHANNELS_ATTRIBUTE].Value) as string[]) : [];
  return { messageId: n.MessageId, publishedAt: n.Timestamp, subject: n.Subject, channels, attributes, alert: alertFromNotification(n.Message) };
}

export function startNotificationRecorder(opts: { bus: LocalBus; queue: string; file: string; onError: (err: Error) => void }): QueueWorker {
  return startQueueWorker({
    bus: opts.bus,
    queue: opts.queue,
    batchSize: 100,
    onError: opts.onError,
    handle: async (messages) => {
      const lines = messages.map((m) => {
        try {
          return JSON.stringify(recordOf(m.body));
        } catch (err) {
          // Kept as it came rather than dropped: the record is where one looks for it.
          opts.onError(new Error(`unreadable notification ${m.id} recorded raw: ${(err as Error).message}`));
          return JSON.stringify({ messageId: m.id, unreadable: m.body });
        }
      });
      try {
        await appendFile(opts.file, lines.map((l) => `${l}\n`).join(''));
        return messages.map((m) => ({ id: m.id, ok: true as const }));
      } catch (err) {
        opts.onError(new Error(`cannot append to ${opts.file}: ${(err as Error).message}`));
        return messages.map((m) => ({ id: m.id, ok: false as const, retryAfterSeconds: 5 }));
      }
    },
  });
}
