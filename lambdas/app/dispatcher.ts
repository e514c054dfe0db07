/**
 * The AlertPublisher the transition engine calls: executes an alert's routing (see
 * domain/rules/notify.ts). Timers first (idempotent: a timer re-checks the stored
 * episode when it fires), then one message per delivery, after silences and storm
 * grouping. Alerts that arrive without routing (a source that does not call
 * routeAlert) are routed here, momentarily: channels, severity, suppress, silences
 * and grouping apply; `for`, `repeat` and episodes need the source's cooperation.
 */
import { alertFacts, routeAlert } from '../domain/rules/notify';
import type { RuleSet } from '../domain/rules/evaluate';
import { silenced } from '../domain/rules/silences';
import type { Alert } from '../domain/types';
import type { SilenceReader, StormGate, TimerQueue } from './delivery-ports';
import type { AlertPublisher } from './ports';
import type { Clock, Logger } from './runtime';

/** Publishes one message for the alert's `channels` (SNS: the channels message attribute). */
export interface ChannelPublisher {
  publish(alert: Alert): Promise<void>;
}

export interface DispatcherDeps {
  rules: RuleSet;
  channels: ChannelPublisher;
  timers: TimerQueue;
  clock: Clock;
  silences?: SilenceReader;
  storm?: StormGate;
  logger?: Logger;
}

export class Dispatcher implements AlertPublisher {
  constructor(private readonly deps: DispatcherDeps) {}

  async publish(alert: Alert): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const carrier = alert.routing ? alert : routeAlert({ rules: this.deps.rules, alert, subject: '', previous: undefined, momentary: true, nowMs }).alert;
    if (!carrier?.routing) {
      this.deps.logger?.info('alert routed nowhere', { id: alert.id, cluster: alert.cluster, kind: alert.kind });
      return;
    }
    const { deliveries, timers } = carrier.routing;
    for (const timer of timers) await this.deps.timers.schedule(timer);
    if (deliveries.length === 0) return;

    const facts = carrier.facts ?? alertFacts(carrier);
    if (this.deps.silences) {
      const muting = silenced(await this.deps.silences.forCluster(carrier.cluster), facts, nowMs);
      if (muting) {
        this.deps.logger?.info('alert silenced', { id: carrier.id, cluster: carrier.cluster, silence: muting.id });
        return;
      }
    }
    for (const delivery of deliveries) {
      const admitted: string[] = [];
      for (const channel of delivery.channels) {
        if (!this.deps.storm) {
          admitted.push(channel);
          continue;
        }
        const gate = await this.deps.storm.admit(carrier.cluster, channel, delivery.alert, nowMs);
        if (gate.verdict === 'deliver') {
          admitted.push(channel);
        } else if (gate.digest) {
          try {
            await this.deps.timers.schedule(gate.digest);
          } catch (err) {
            await this.deps.storm.digestNotScheduled?.(gate.digest);
            throw err;
          }
        }
      }
      if (admitted.length > 0) await this.deps.channels.publish({ ...delivery.alert, channels: admitted });
    }
  }
}
