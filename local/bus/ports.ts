/**
 * The application's ports on the local bus (`npm start`), in place of SNS and SQS: what the
 * channel workers and the timers worker read is what they read in AWS (an SNS notification
 * envelope with the same attributes; a timer as JSON).
 */
import type { ChannelPublisher } from '../../lambdas/app/dispatcher';
import type { TimerQueue } from '../../lambdas/app/delivery-ports';
import type { AlertsProbe } from '../../lambdas/app/heartbeat-ports';
import type { Clock } from '../../lambdas/app/runtime';
import { snsMessageAttributes } from '../../lambdas/adapters/sns-publisher';
import { emailSubject } from '../../channels/email/render';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import type { Alert } from '../../lambdas/domain/types';
import type { LocalBus } from './bus';

export class BusAlertPublisher implements ChannelPublisher {
  constructor(
    private readonly bus: LocalBus,
    private readonly topic: string,
  ) {}

  async publish(alert: Alert): Promise<void> {
    // The body an SQS subscriber of the SNS topic reads: the alert as JSON (snsMessage's `sqs`).
    await this.bus.publish(this.topic, { subject: emailSubject(alert), message: JSON.stringify(alert), attributes: snsMessageAttributes(alert) });
  }
}

/** Each timer is one message, visible when due (no 900 s cap to hop over, unlike SQS). */
export class BusTimerQueue implements TimerQueue {
  constructor(
    private readonly bus: LocalBus,
    private readonly queue: string,
    private readonly clock: Clock,
  ) {}

  async schedule(timer: Timer): Promise<void> {
    await this.bus.send(this.queue, JSON.stringify(timer), { delayMs: Math.max(0, timer.dueAt - this.clock.nowMs()) });
  }
}

export class BusAlertsProbe implements AlertsProbe {
  constructor(private readonly bus: LocalBus) {}

  reachable(): Promise<void> {
    return this.bus.probe();
  }
}
