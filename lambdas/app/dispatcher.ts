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
import { boundTo, silenced } from '../domain/rules/silences';
import { inhibitionSource } from '../domain/rules/inhibit';
import type { OutboxEntry } from '../domain/rules/outbox';
import type { Alert } from '../domain/types';
import type { Silence } from '../domain/rules/silences';
import type { MatchFacts } from '../domain/rules/types';
import type { OutboxPublisher, Silencer } from './ports';
import type { AlertReadModel } from './read-model-ports';
import type { FiringSources, MuteLedger, SilenceReader, SilenceStore, StormGate, TimerQueue } from './delivery-ports';
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
  /** With `expire`: silences bound to an episode ("until resolved") are expired when it resolves. */
  silences?: SilenceReader & Partial<Pick<SilenceStore, 'expire'>>;
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
        active: withInhibition(
          async (facts: MatchFacts, nowMs: number, _subject?: string, episode?: string): Promise<Silence | undefined> => silenced(await silences.forCluster(facts.cluster), facts, nowMs, episode),
          inhibitor,
        ),
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
    // Nothing to deliver and no timer to schedule (every route silenced, inhibited or muted
    // by a time interval): carrying the entry out is only its log lines, so they are written
    // here, and the transition needs no outbox entry, hence no clear (one UpdateItem less
    // per such transition, e.g. a silenced or inhibited outage). A crash at any point loses
    // nothing: the retry decides again; a lost race at worst repeats the log line.
    if (routing && routing.deliveries.length === 0 && routing.timers.length === 0 && !routing.flapTimer) {
      // A resolution held back by another silence or a mute still ends its episode's "until resolved" silences.
      if (entry.alert.state === 'resolved' && entry.alert.episode) await this.endBoundSilences(entry.alert.cluster, entry.alert.episode, this.deps.clock.nowMs());
      this.logRouting(entry);
      return true;
    }
    if (!storm?.foldsForSure || !storm.foldAhead || !routing || entry.silencedBy || routing.timers.length > 0 || routing.flapTimer || routing.deliveries.length === 0) return false;
    const nowMs = this.deps.clock.nowMs();
    const { cluster } = entry.alert;
    if (!routing.deliveries.every((d) => d.channels.length > 0 && d.channels.every((channel) => storm.foldsForSure!(cluster, channel, d.alert, nowMs)))) return false;
    const facts = entry.facts ?? alertFacts(entry.alert);
    if (this.deps.silences && silenced(await this.deps.silences.forCluster(cluster), facts, nowMs, entry.alert.episode)) return false;
    // An inhibited notice is held, not folded (a digest would tell it); a Query only for alerts a rule could inhibit.
    if (this.deps.inhibitor && entry.alert.state === 'firing' && (await this.deps.inhibitor.inhibiting({ facts, ...(subject !== undefined ? { subject } : {}) }, nowMs))) return false;
    await Promise.all(routing.deliveries.flatMap((d) => d.channels.map((channel) => storm.foldAhead!(cluster, channel, d.alert, nowMs))));
    return true;
  }

  /**
   * "Until resolved" silences of the episode end with it. Expired like any silence, so the
   * sweeper's silence-ends task handles what they muted (never-blind: a muted notice of a
   * subject still firing would be announced; a resolved one has nothing left to say).
   */
  private async endBoundSilences(cluster: string, episode: string, nowMs: number): Promise<void> {
    const { silences } = this.deps;
    if (!silences?.expire) return;
    try {
      for (const s of boundTo(await silences.forCluster(cluster), episode, nowMs)) {
        await silences.expire(cluster, s.id, nowMs);
        this.deps.logger?.info('silence ended with its episode', { cluster, silence: s.id, episode });
      }
    } catch (err) {
      // Bound to this episode, the silence mutes nothing else: the resolution goes on; it shows as active until its end.
      this.deps.logger?.error('silence bound to a resolved episode not expired', { cluster, episode, error: (err as Error).message });
    }
  }

  /** What routing held back: routes muted by a time interval, a notice silenced or inhibited (announced when that ends). */
  private logRouting(entry: OutboxEntry): void {
    const { alert } = entry;
    for (const m of entry.routing?.muted ?? []) this.deps.logger?.info('route muted', { id: alert.id, cluster: alert.cluster, ...m });
    if (entry.silencedBy) this.deps.logger?.info(inhibitionSource(entry.silencedBy) === undefined ? 'alert silenced' : 'alert inhibited', { id: alert.id, cluster: alert.cluster, silence: entry.silencedBy, announcedWhenItEnds: true });
  }

  async dispatch(entry: OutboxEntry, subject?: string): Promise<void> {
    const nowMs = this.deps.clock.nowMs();
    const { alert } = entry;
    const routed = entry.routing ? entry : routeAlert({ rules: this.deps.rules, alert, subject: '', previous: undefined, momentary: true, nowMs }).outbox;
    if (!routed?.routing) {
      this.deps.logger?.info('alert routed nowhere', { id: alert.id, cluster: alert.cluster, kind: alert.kind });
      return;
    }
    if (alert.state === 'resolved' && alert.episode) await this.endBoundSilences(alert.cluster, alert.episode, nowMs);
    const { deliveries, timers } = routed.routing;
    for (const timer of timers) await this.deps.timers.schedule(timer);
    if (routed.routing.flapTimer) await this.deps.timers.schedule(routed.routing.flapTimer);
    this.logRouting(routed);
    if (deliveries.length === 0) return;

    const facts = routed.facts ?? alertFacts(alert);
    if (this.deps.silences) {
      const muting = silenced(await this.deps.silences.forCluster(alert.cluster), facts, nowMs, alert.episode);
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
