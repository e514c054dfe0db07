/** A queue subscribed to the alerts topic, read continuously: when did each alert arrive? */
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { awsClients, subscribeQueue } from '../../test/support/fauxqs';
import { nowMs, sleep } from './stats';

export interface Arrival {
  alert: Alert;
  /** performance-clock ms when the receive call returned it. */
  at: number;
}

export class AlertsQueue {
  readonly arrivals: Arrival[] = [];
  private running = true;
  private readonly loops: Array<Promise<void>> = [];
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly clients: ReturnType<typeof awsClients>,
    private readonly queueUrl: string,
    private readonly pollers: number,
  ) {}

  /** Subscribes a new queue; reading starts with start() (or at once when `start`). */
  static async subscribe(endpoint: string, topicArn: string, name: string, opts: { pollers?: number; start?: boolean } = {}): Promise<AlertsQueue> {
    const clients = awsClients(endpoint);
    const queueUrl = await subscribeQueue(clients.sns, clients.sqs, topicArn, name);
    const q = new AlertsQueue(clients, queueUrl, opts.pollers ?? 3);
    if (opts.start !== false) q.start();
    return q;
  }

  start(): void {
    if (this.loops.length > 0) return;
    for (let i = 0; i < this.pollers; i++) this.loops.push(this.poll());
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const out = await this.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        const at = nowMs();
        const messages = out.Messages ?? [];
        for (const m of messages) {
          const body = JSON.parse(m.Body ?? '{}') as { Message: string };
          this.arrivals.push({ alert: alertFromNotification(body.Message), at });
        }
        if (messages.length > 0) {
          this.waiters.splice(0).forEach((w) => w());
          await this.clients.sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
          );
        }
      } catch (err) {
        if (!this.running) return;
        await sleep(200);
      }
    }
  }

  /** Resolves once `count` alerts have arrived in total, or after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = nowMs() + timeoutMs;
    while (this.arrivals.length < count) {
      const left = deadline - nowMs();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.clients.sns.destroy();
    this.clients.sqs.destroy();
  }
}
