/**
 * Local stand-in for email delivery: drains the notifications queue, prints each
 * alert as the email would read, and appends it as one JSON line to a file.
 */
import { appendFileSync } from 'node:fs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { alertFromNotification, emailBody, emailSubject } from '../lambdas/domain/render';

export interface NotificationSink {
  stop(): Promise<void>;
}

export function startNotificationPrinter(opts: {
  sqs: SQSClient;
  queueUrl: string;
  jsonlPath: string;
  print: (text: string) => void;
  onError: (err: Error) => void;
}): NotificationSink {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const out = await opts.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: opts.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        const messages = out.Messages ?? [];
        for (const m of messages) {
          const notification = JSON.parse(m.Body ?? '{}') as { Message: string };
          const alert = alertFromNotification(notification.Message);
          const subject = emailSubject(alert);
          opts.print(`\n=== notification ===\nSubject: ${subject}\n\n${emailBody(alert)}\n====================\n`);
          appendFileSync(opts.jsonlPath, `${JSON.stringify({ subject, alert })}\n`);
        }
        if (messages.length > 0) {
          await opts.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: opts.queueUrl,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
            }),
          );
        }
      } catch (err) {
        if (!running) break;
        opts.onError(err as Error);
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
