/** TimerQueue on an SQS queue: per-message DelaySeconds (at most 900 s; longer timers hop). */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { TimerQueue } from '../app/delivery-ports';
import type { Clock } from '../app/runtime';
import { TIMERS_QUEUE } from '../commons/deployment';
import type { Timer } from '../domain/rules/outbox';
import { awsCall } from './aws-errors';

export function delaySeconds(dueAt: number, nowMs: number): number {
  return Math.max(0, Math.min(TIMERS_QUEUE.maxDelaySeconds, Math.ceil((dueAt - nowMs) / 1000)));
}

export class SqsTimerQueue implements TimerQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly clock: Clock,
  ) {}

  async schedule(timer: Timer): Promise<void> {
    await awsCall(this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(timer), DelaySeconds: delaySeconds(timer.dueAt, this.clock.nowMs()) }),
    ));
  }
}
