/**
 * Consumes a queue of the local bus (local/bus) and hands batches to a handler: what it
 * delivered is acknowledged (deleted); what failed becomes visible again after its retry
 * delay (the queue's dead-letter queue takes it after maxReceiveCount receives). Woken by
 * the bus when a message becomes visible, so nothing waits on a polling interval. The local
 * stand-in for a Lambda SQS event source with ReportBatchItemFailures.
 */
import type { QueueMessage } from '../lambdas/app/channel-delivery';
import type { BusMessage, LocalBus } from './bus/bus';

export type BatchResult = Array<{ id: string; ok: true } | { id: string; ok: false; retryAfterSeconds: number }>;

export interface QueueWorker {
  stop(): Promise<void>;
}

/** Pause after a failure of the bus itself (not of a delivery), so that a broken store does not spin. */
const ERROR_PAUSE_MS = 1000;

export function startQueueWorker(opts: {
  bus: LocalBus;
  queue: string;
  batchSize?: number;
  handle: (messages: QueueMessage[]) => Promise<BatchResult>;
  onError: (err: Error) => void;
}): QueueWorker {
  const stopping = new AbortController();
  const batchSize = opts.batchSize ?? 10;
  const settle = async (received: BusMessage[], results: BatchResult) => {
    const receiptOf = new Map(received.map((m) => [m.id, m.receipt]));
    const delivered: string[] = [];
    for (const r of results) {
      const receipt = receiptOf.get(r.id);
      if (receipt === undefined) continue;
      receiptOf.delete(r.id);
      if (r.ok) delivered.push(receipt);
      else await opts.bus.retryLater(receipt, r.retryAfterSeconds);
    }
    // The batch's deliveries acknowledged in one write (one fsync), not one each.
    if (delivered.length > 0) await opts.bus.ackAll(delivered);
    // A message the handler gave no result for stays in flight until its visibility timeout.
    if (receiptOf.size > 0) opts.onError(new Error(`no result for ${receiptOf.size} message(s) of ${opts.queue}; retried after the visibility timeout`));
  };
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      try {
        const received = await opts.bus.receive(opts.queue, batchSize);
        if (received.length === 0) {
          await opts.bus.waitForMessages(opts.queue, stopping.signal);
          continue;
        }
        const results = await opts.handle(received.map((m) => ({ id: m.id, body: m.body, receiveCount: m.receiveCount })));
        await settle(received, results);
        // Fewer than asked for: what was visible is taken. Waiting looks at the queue's first
        // message anyway (one written since is seen, and wakes at once), so an empty receive
        // first would be one scan more per batch.
        if (received.length < batchSize) await opts.bus.waitForMessages(opts.queue, stopping.signal);
      } catch (err) {
        if (stopping.signal.aborted) break;
        opts.onError(err as Error);
        await new Promise((r) => setTimeout(r, ERROR_PAUSE_MS));
      }
    }
  })();
  return {
    stop: async () => {
      stopping.abort();
      await loop;
    },
  };
}
