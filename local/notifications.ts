/**
 * Local stand-in for email delivery: drains the notifications queue, prints each
 * alert as the email would read, and appends it as one JSON line to a file.
 */
import { appendFileSync } from 'node:fs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { alertFromNotification, emailBody, emailSubject } from '../lambdas/domain/render';
import { startQueueWorker, type QueueWorker } from './queue-worker';

export function startNotificationPrinter(opts: {
  sqs: SQSClient;
  queueUrl: string;
  jsonlPath: string;
  print: (text: string) => void;
  onError: (err: Error) => void;
}): QueueWorker {
  return startQueueWorker({
    sqs: opts.sqs,
    queueUrl: opts.queueUrl,
    onError: opts.onError,
    handle: async (messages) =>
      messages.map((m) => {
        const notification = JSON.parse(m.body || '{}') as { Message: string };
        const alert = alertFromNotification(notification.Message);
        const subject = emailSubject(alert);
        opts.print(`\n=== notification ===\nSubject: ${subject}\n\n${emailBody(alert)}\n====================\n`);
        appendFileSync(opts.jsonlPath, `${JSON.stringify({ subject, alert })}\n`);
        return { id: m.id, ok: true as const };
      }),
  });
}
