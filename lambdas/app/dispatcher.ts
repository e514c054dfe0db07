/**
 * The OutboxPublisher the transition engine calls: carries out an outbox entry's routing
 * (see domain/rules/episodes.ts). Timers first (idempotent: a timer re-checks the stored
 * episode when it fires), then one message per delivery, after silences and storm
 * grouping. Entries that arrive without routing (no rules when the source decided) are
 * routed here, momentarily: channels, severity, suppress, silences and grouping apply;
 * `for`, `repeat` and episodes need the source's cooperation. A firing episode's notice an
 * active silence matches reaches here already muted by the transition engine (`silencedBy`,
 * through `silencer`), so that the episode records it and the sweeper announces it when the
 * silence ends; the check here covers the rest (momentary alerts, reminders, resolved).
 */
import { alertFacts, routeAlert } from '../domain/rules/episodes';
import type { RuleSet } from '../domain/rules/evaluate';
import { silenced } from '../domain/rules/silences';
import { inhibitionSource } from '../domain/rules/inhibit';
import type { OutboxEntry } from '../domain/rules/outbox';
import type { Alert } from '../domain/types';
import type { Silence } from '../domain/rules/silences';
import type { MatchFacts } from '../domain/rules/types';
import type { OutboxPublisher, Silencer } from './ports';
import type { AlertReadModel } from './read-model-ports';
import type { FiringSources, MuteLedger, SilenceReader, StormGate, TimerQueue } from './delivery-ports';
import { withInhibition, type Inhibitor } from './inhibition';
import type { Clock, Logger } from './runtime';

/**
 * Publishes one message: a published alert, for its `channels` (SNS: the channels message
 * attribute). What the dispatcher and the digest sender call, never the engine.
 */
export interface ChannelPublisher {
  publish(alert: Alert): Promise<void>;
}

export interface DispatcherDeps {
  rules: RuleSet;
  channels: ChannelPublisher;
  timers: TimerQueue;
  clock: Clock;
  silences?: SilenceReader;
  /** With `silences`: what silences muted, for the sweeper to announce when they end. */
  mutes?: MuteLedger;
  storm?: StormGate;
  logger?: Logger;
  /** tocsin.yaml `inhibit`: firing alerts hold back the alerts they inhibit (app/inhibition.ts). */
  inhibitor?: Inhibitor;
  /** The operator's read model, kept by the transition engine (app/read-model-ports.ts). */
  readModel?: AlertReadModel;
}

export class Dispatcher implements OutboxPublisher {
  readonly silencer?: Silencer;
  readonly firingSources?: FiringSources;
  readonly readModel?: AlertReadModel;

  constructor(private readonly deps: DispatcherDeps) {
    const { silences, mutes, inhibitor } = deps;
    if (deps.readModel) this.readModel = deps.readModel;
    if (inhibitor) this.firingSources = inhibitor.sources;
    if (silences && mutes) {
      this.silencer = {
        active: withInhibition(async (facts: MatchFacts, nowMs: number): Promise<Silence | undefined> => silenced(await silences.forCluster(facts.cluster), facts, nowMs), inhibitor),
        recordMute: (cluster, silenceId, subject) => mutes.recordMute(cluster, silenceId, subject),
      };
    }
  }

  /**
   * In a storm, a notification this process knows will fold (its level's budget spent, the
   * window's digest scheduled) is folded before its transition is written: the fold item is
   * keyed by the alert's id, so a repeat (the write lost its race, a crash before it) folds
   * nothing twice, and the transition needs no outbox entry to clear. Anything else (timers,
   * a silence, a channel that might still deliver) goes the outbox's way.
   */
  async settleAhead(entry: OutboxEntry, subject?: string): Promise<boolean> {
    const { storm } = this.deps;
    const routing = entry.routing;
    if (!storm?.foldsForSure || !storm.foldAhead || !routing || entry.silencedBy || routing.timers.length > 0 || routing.flapTimer || routing.deliveries.length === 0) return false;
    const nowMs = this.deps.clock.nowMs();
    const { cluster } = entry.alert;
    if (!routing.deliveries.every((d) => d.channels.length > 0 && d.channels.every((channel) => storm.foldsForSure!(cluster, channel, d.alert, nowMs)))) return false;
    const facts = entry.facts ?? alertFacts(entry.alert);
    if (this.deps.silences && silenced(await this.deps.silences.forCluster(cluster), facts, nowMs)) return false;
    // An inhibited notice is held, not folded (a digest would tell it); a Query only for alerts a rule could inhibit.
    if (this.deps.inhibitor && entry.alert.state === 'firing' && (await this.deps.inhibitor.inhibiting({ facts, ...(subject !== undefined ? { subject } : {}) }, nowMs))) return false;
    await Promise.all(routing.deliveries.flatMap((d) => d.channels.map((channel) => storm.foldAhead!(cluster, channel, d.alert, nowMs))));
    return true;
  }

  async dispatch(entry: OutboxEntry, subject?: string): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const { alert } = entry;
    const routed = entry.routing ? entry : routeAlert({ rules: this.deps.rules, alert, subject: '', previous: undefined, momentary: true, nowMs }).outbox;
    if (!routed?.routing) {
      this.deps.logger?.info('alert routed nowhere', { id: alert.id, cluster: alert.cluster, kind: alert.kind });
      return;
    }
    const { deliveries, timers } = routed.routing;
    for (const timer of timers) await this.deps.timers.schedule(timer);
    if (routed.routing.flapTimer) await this.deps.timers.schedule(routed.routing.flapTimer);
    for (const m of routed.routing.muted ?? []) this.deps.logger?.info('route muted', { id: alert.id, cluster: alert.cluster, ...m });
    if (routed.silencedBy) this.deps.logger?.info(inhibitionSource(routed.silencedBy) === undefined ? 'alert silenced' : 'alert inhibited', { id: alert.id, cluster: alert.cluster, silence: routed.silencedBy, announcedWhenItEnds: true });
    if (deliveries.length === 0) return;

    const facts = routed.facts ?? alertFacts(alert);
    if (this.deps.silences) {
      const muting = silenced(await this.deps.silences.forCluster(alert.cluster), facts, nowMs);
      if (muting) {
        this.deps.logger?.info('alert silenced', { id: alert.id, cluster: alert.cluster, silence: muting.id });
        return;
      }
    }
    if (this.deps.inhibitor && alert.state === 'firing') {
      const inhibition = await this.deps.inhibitor.inhibiting({ facts, ...(subject !== undefined ? { subject } : {}) }, nowMs);
      if (inhibition) {
        this.deps.logger?.info('alert inhibited', { id: alert.id, cluster: alert.cluster, by: inhibition.source.subject, rule: inhibition.rule.builtin ?? `inhibit[${inhibition.rule.index}]` });
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
        const gate = await this.deps.storm.admit(alert.cluster, channel, delivery.alert, nowMs);
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
