/**
 * Polls an SQS queue (fauxqs locally) and hands batches to a handler: what it
 * delivered is deleted; what failed becomes visible again after its retry delay (the
 * queue's redrive policy sends it to the dead-letter queue after maxReceiveCount).
 * The local stand-in for a Lambda SQS event source with ReportBatchItemFailures.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueMessage } from '../lambdas/app/channel-delivery';

export type BatchResult = Array<{ id: string; ok: true } | { id: string; ok: false; retryAfterSeconds: number }>;

export interface QueueWorker {
  stop(): Promise<void>;
}

export function startQueueWorker(opts: {
  sqs: SQSClient;
  queueUrl: string;
  batchSize?: number;
  handle: (messages: QueueMessage[]) => Promise<BatchResult>;
  onError: (err: Error) => void;
}): QueueWorker {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const out = await opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: opts.batchSize ?? 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        const received = out.Messages ?? [];
        if (received.length === 0) continue;
        const messages: QueueMessage[] = received.map((m) => ({
          id: m.MessageId ?? '',
          body: m.Body ?? '',
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        }));
        const results = await opts.handle(messages);
        const handleOf = new Map(received.map((m) => [m.MessageId ?? '', m.ReceiptHandle ?? '']));
        const done = results.filter((r) => r.ok);
        if (done.length > 0) {
          await opts.sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: opts.queueUrl, Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: handleOf.get(r.id) })) }),
          );
        }
        for (const r of results) {
          if (!r.ok) {
            await opts.sqs.send(
              new ChangeMessageVisibilityCommand({ QueueUrl: opts.queueUrl, ReceiptHandle: handleOf.get(r.id), VisibilityTimeout: r.retryAfterSeconds }),
            );
          }
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
