/**
 * The AlertPublisher the transition engine calls: executes an alert's routing (see
 * domain/rules/episodes.ts). Timers first (idempotent: a timer re-checks the stored
 * episode when it fires), then one message per delivery, after silences and storm
 * grouping. Alerts that arrive without routing (a source that does not call
 * routeAlert) are routed here, momentarily: channels, severity, suppress, silences
 * and grouping apply; `for`, `repeat` and episodes need the source's cooperation.
 */
import { alertFacts, routeAlert, type DigestTimer, type Timer } from '../domain/rules/episodes';
import type { RuleSet } from '../domain/rules/evaluate';
import { silenced, type Silence } from '../domain/rules/silences';
import type { Alert } from '../domain/types';
import type { AlertPublisher, Clock } from './ports';

/** Publishes one message for the alert's `channels` (SNS: the channels message attribute). */
export interface ChannelPublisher {
  publish(alert: Alert): Promise<void>;
}

/** Delivers a timer at (or shortly after) its dueAt. */
export interface TimerQueue {
  schedule(timer: Timer): Promise<void>;
}

/** Silences of a cluster, expired ones included or not: the dispatcher checks the end time. */
export interface SilenceReader {
  forCluster(cluster: string): Promise<Silence[]>;
}

/** Storm grouping: may this notification go out on its own, or is it folded into the window's digest? */
export interface StormGate {
  /** 'deliver', or 'fold' (kept for the digest; `digest` is the timer to schedule once per window). */
  admit(cluster: string, channel: string, alert: Alert, nowMs: number): Promise<{ verdict: 'deliver' } | { verdict: 'fold'; digest?: DigestTimer }>;
  /** Undo the "digest scheduled" mark when scheduling failed, so a retry schedules it. */
  digestNotScheduled?(timer: DigestTimer): Promise<void>;
}

export interface DispatcherLogger {
  info(message: string, fields?: Record<string, unknown>): void;
}

export interface DispatcherDeps {
  rules: RuleSet;
  channels: ChannelPublisher;
  timers: TimerQueue;
  clock: Clock;
  silences?: SilenceReader;
  storm?: StormGate;
  logger?: DispatcherLogger;
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
