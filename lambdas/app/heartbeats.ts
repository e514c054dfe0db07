/**
 * Heartbeats (docs/heartbeats.md): signs of life on the report path, the sweep that
 * declares watchers missing and clusters silent, and what `tocsin watchers` lists and
 * forgets. Alerts go through the transition engine (compare-and-set, exactly once) and
 * the dispatcher (rules, silences, storm grouping, channels) like any source's.
 *
 * The watcher item's `missingSince` flag lets the report path resolve at once: a report
 * that finds it set resolves the watcher's (and the cluster's) alert itself instead of
 * waiting for the next sweep. The sweep reads every heartbeat subject of the cluster each
 * time, so a flag lost or a resolution that failed half-way is put right on the next sweep.
 */
import {
  CLUSTER_SILENCE_SUBJECT,
  decideCluster,
  decideWatcher,
  heartbeatSettings,
  isSilent,
  retireWatcher,
  silentFor,
  WATCHER_SUBJECT_PREFIX,
  watcherSubject,
  type ClusterSilenceState,
  type HeartbeatSettings,
  type HeartbeatsSpec,
  type WatcherAlertState,
  type WatcherSigns,
} from '../domain/heartbeats';
import type { RuleSet } from '../domain/rules/evaluate';
import { mapLimit } from './concurrency';
import type { WatcherStore } from './heartbeat-ports';
import type { OutboxPublisher, SubjectRecord, SubjectStore } from './ports';
import type { Clock, Logger } from './runtime';
import { routeDecision } from './sources/routing';
import { TransitionEngine, type Outcome } from './transition-engine';

export interface HeartbeatDeps {
  watchers: WatcherStore;
  subjects: SubjectStore;
  /** The dispatcher. */
  publisher: OutboxPublisher;
  rules?: RuleSet;
  clock: Clock;
  logger: Logger;
  heartbeats: HeartbeatsSpec | undefined;
  leaseMs?: number;
  /** Silence is counted from no earlier than this (npm start: when the runner started). */
  graceFromMs?: number;
  /** Watchers remembered per process for the write cache; past it the cache starts afresh. */
  cacheLimit?: number;
}

/** What reported: `consul/checks`, `serf/member-join` ..., or a heartbeat. */
export interface SignOfLife {
  cluster: string;
  node: string;
  /** `source/type` of the envelope. */
  via: string;
  heartbeat: boolean;
}

export interface HeartbeatSweep {
  cluster: string;
  watchers: number;
  silent: number;
  /** Alerts raised or resolved by this sweep (watchers and the cluster). */
  transitions: number;
  unsettled: number;
  errors: string[];
}

export interface WatcherView {
  node: string;
  state: 'reporting' | 'missing';
  /** The sweeper declared it missing (an alert went to the rules) at this time (ISO). */
  alertedSince?: string;
  firstSeenAt: string;
  lastSeenAt: string;
  silentForSeconds: number;
  lastReportAt?: string;
  via?: string;
}

const DEFAULT_CACHE_LIMIT = 50_000;
const iso = (ms: number) => new Date(ms).toISOString();

export class Heartbeats {
  /** (cluster, node) -> when this process last wrote its sign of life / its handler report. */
  private readonly lifeWritten = new Map<string, number>();
  private readonly reportWritten = new Map<string, number>();

  constructor(private readonly deps: HeartbeatDeps) {}

  settings(cluster: string): HeartbeatSettings {
    return heartbeatSettings(this.deps.heartbeats, cluster);
  }

  private engine(): TransitionEngine {
    return new TransitionEngine(this.deps);
  }

  /**
   * The report path: every accepted envelope. At most one sign-of-life write and one
   * handler-report write per watcher per every/2 in this process (a cache), so the
   * steady path adds no DynamoDB cost per request. Never throws: a failure is logged and
   * the next envelope writes again.
   */
  async signOfLife(s: SignOfLife): Promise<void> {
    const now = this.deps.clock.nowMs();
    const key = `${s.cluster}\u0000${s.node}`;
    const half = (this.settings(s.cluster).every * 1000) / 2;
    const lifeFresh = now - (this.lifeWritten.get(key) ?? -Infinity) < half;
    const reportFresh = s.heartbeat || now - (this.reportWritten.get(key) ?? -Infinity) < half;
    if (lifeFresh && reportFresh) return;
    try {
      const before = await this.deps.watchers.touch(s.cluster, s.node, now, s.heartbeat ? undefined : { via: s.via });
      this.remember(this.lifeWritten, key, now);
      if (!s.heartbeat) this.remember(this.reportWritten, key, now);
      if (before?.missingSince !== undefined) await this.reportedAgain(s.cluster, s.node, before.missingSince, now);
      // A watcher's first report (once in its life, or after `forget`): a silent cluster is silent no more.
      else if (before === undefined) await this.firstReport(s.cluster, s.node);
    } catch (err) {
      this.deps.logger.error('sign of life not recorded', { cluster: s.cluster, node: s.node, error: (err as Error).message });
    }
  }

  private remember(map: Map<string, number>, key: string, at: number): void {
    if (map.size >= (this.deps.cacheLimit ?? DEFAULT_CACHE_LIMIT) && !map.has(key)) map.clear();
    map.set(key, at);
  }

  /** A watcher flagged missing reported: resolve its alert and the cluster's now, then drop the flag. */
  private async reportedAgain(cluster: string, node: string, missingSince: number, nowMs: number): Promise<void> {
    const engine = this.engine();
    const settings = this.settings(cluster);
    const watcher = await this.applyWatcher(engine, cluster, { node, seenAt: nowMs }, false, settings, undefined);
    const whole = await this.applyCluster(engine, cluster, { known: 1, silent: 0, reporter: node }, settings, undefined);
    if (watcher === 'unsettled' || whole === 'unsettled') {
      // The flag stays: the next report or the next sweep finishes the resolution.
      this.deps.logger.error('heartbeat resolution not yet published', { cluster, node, errors: engine.errors });
      return;
    }
    await this.deps.watchers.clearMissing(cluster, node, missingSince);
    this.deps.logger.info('watcher reports again', { cluster, node });
  }

  private async firstReport(cluster: string, node: string): Promise<void> {
    const engine = this.engine();
    const outcome = await this.applyCluster(engine, cluster, { known: 1, silent: 0, reporter: node }, this.settings(cluster), undefined);
    if (outcome === 'unsettled') this.deps.logger.error('heartbeat resolution not yet published', { cluster, node, errors: engine.errors });
  }

  private applyWatcher(
    engine: TransitionEngine,
    cluster: string,
    signs: Pick<WatcherSigns, 'node' | 'seenAt' | 'reportAt' | 'via'>,
    silent: boolean,
    settings: HeartbeatSettings,
    record: SubjectRecord<WatcherAlertState> | null | undefined,
  ): Promise<Outcome> {
    const subject = watcherSubject(signs.node);
    const nowMs = this.deps.clock.nowMs();
    return engine.apply<WatcherAlertState>(
      cluster,
      subject,
      (prev) =>
        routeDecision(this.deps, subject, prev?.state, decideWatcher(prev?.state, { cluster, revision: prev?.rev ?? 0, nowMs, signs, silent, settings }), () => ({
          role: 'episode',
        })),
      record,
    );
  }

  private applyCluster(
    engine: TransitionEngine,
    cluster: string,
    counts: { known: number; silent: number; latestSeenAt?: number; reporter?: string },
    settings: HeartbeatSettings,
    record: SubjectRecord<ClusterSilenceState> | null | undefined,
  ): Promise<Outcome> {
    const nowMs = this.deps.clock.nowMs();
    return engine.apply<ClusterSilenceState>(
      cluster,
      CLUSTER_SILENCE_SUBJECT,
      (prev) =>
        routeDecision(this.deps, CLUSTER_SILENCE_SUBJECT, prev?.state, decideCluster(prev?.state, { cluster, revision: prev?.rev ?? 0, nowMs, settings, ...counts }), () => ({
          role: 'episode',
        })),
      record,
    );
  }

  /**
   * One cluster's sweep: every watcher silent for missingAfter gets its warning (once),
   * every watcher heard again its resolution; then the cluster's critical when all are
   * silent. Reads: the cluster's watcher items and its heartbeat subjects, two queries.
   * Two sweeps at once converge on the same writes (compare-and-set): no duplicates.
   */
  async sweepCluster(cluster: string): Promise<HeartbeatSweep> {
    const { watchers: store, clock, graceFromMs } = this.deps;
    const settings = this.settings(cluster);
    const [watchers, records] = await Promise.all([store.list(cluster), store.alertRecords<WatcherAlertState | ClusterSilenceState>(cluster)]);
    const engine = this.engine();
    const errors: string[] = [];
    const outcomes: Outcome[] = [];
    const silentNow = (w: WatcherSigns) => isSilent(w.seenAt, clock.nowMs(), settings, graceFromMs);
    let silent = 0;

    await mapLimit(watchers, 8, async (w) => {
      const isQuiet = silentNow(w);
      if (isQuiet) silent++;
      try {
        const outcome = await this.applyWatcher(engine, cluster, w, isQuiet, settings, (records.get(watcherSubject(w.node)) as SubjectRecord<WatcherAlertState> | undefined) ?? null);
        outcomes.push(outcome);
        if (isQuiet && w.missingSince === undefined) {
          const now = await store.markMissing(cluster, w.node, clock.nowMs());
          // It reported between our read and the flag: that report saw no flag, so resolve here.
          if (now && now.seenAt !== w.seenAt && now.missingSince !== undefined) await this.reportedAgain(cluster, w.node, now.missingSince, clock.nowMs());
        } else if (!isQuiet && w.missingSince !== undefined && outcome !== 'unsettled') {
          await store.clearMissing(cluster, w.node, w.missingSince);
        }
      } catch (err) {
        errors.push(`${w.node}: ${(err as Error).message}`);
      }
    });

    // Alerts of watchers that no longer exist (forgotten while missing, the resolution lost or
    // not yet published): retire them; applying settles a pending alert first.
    const known = new Set(watchers.map((w) => watcherSubject(w.node)));
    for (const [subject, record] of records) {
      if (!subject.startsWith(WATCHER_SUBJECT_PREFIX) || known.has(subject) || (record.state.status !== 'missing' && !record.pending)) continue;
      try {
        outcomes.push(await this.retire(engine, cluster, subject.slice(WATCHER_SUBJECT_PREFIX.length), record as SubjectRecord<WatcherAlertState>));
      } catch (err) {
        errors.push(`${subject}: ${(err as Error).message}`);
      }
    }

    try {
      const countsOf = (list: WatcherSigns[], quiet: number) => ({ known: list.length, silent: quiet, ...(list.length > 0 ? { latestSeenAt: Math.max(...list.map((w) => w.seenAt)) } : {}) });
      let counts = countsOf(watchers, silent);
      const clusterRecord = records.get(CLUSTER_SILENCE_SUBJECT) as SubjectRecord<ClusterSilenceState> | undefined;
      if (counts.known > 0 && silent === counts.known && clusterRecord?.state.status !== 'silent') {
        // About to call the whole cluster silent: look again, a report may just have come in.
        const fresh = await store.list(cluster);
        counts = countsOf(fresh, fresh.filter(silentNow).length);
      }
      outcomes.push(await this.applyCluster(engine, cluster, counts, settings, clusterRecord ?? null));
    } catch (err) {
      errors.push(`${CLUSTER_SILENCE_SUBJECT}: ${(err as Error).message}`);
    }
    const tally = engine.tally(outcomes);
    return { cluster, watchers: watchers.length, silent, transitions: tally.transitions, unsettled: tally.unsettled, errors: [...errors, ...tally.errors] };
  }

  private retire(engine: TransitionEngine, cluster: string, node: string, record: SubjectRecord<WatcherAlertState> | null | undefined): Promise<Outcome> {
    const subject = watcherSubject(node);
    return engine.apply<WatcherAlertState>(
      cluster,
      subject,
      (prev) =>
        routeDecision(this.deps, subject, prev?.state, retireWatcher(prev?.state, { cluster, node, revision: prev?.rev ?? 0, nowMs: this.deps.clock.nowMs() }), () => ({
          role: 'episode',
        })),
      record,
    );
  }

  /**
   * `tocsin watchers forget`: the watcher is no longer expected (until it reports again).
   * Deleted first, then its alert retired: if the second step fails, the next sweep finds
   * the orphaned alert and retires it.
   */
  async forget(cluster: string, node: string): Promise<{ found: boolean; resolved: boolean; unsettled: boolean }> {
    const gone = await this.deps.watchers.forget(cluster, node);
    const key = `${cluster}\u0000${node}`;
    this.lifeWritten.delete(key);
    this.reportWritten.delete(key);
    const engine = this.engine();
    const outcome = await this.retire(engine, cluster, node, undefined);
    return { found: gone !== undefined || outcome !== 'none', resolved: outcome === 'published', unsettled: outcome === 'unsettled' };
  }

  /** The cluster's watchers as `tocsin watchers` shows them. */
  async list(cluster: string): Promise<{ settings: HeartbeatSettings; watchers: WatcherView[] }> {
    const settings = this.settings(cluster);
    const now = this.deps.clock.nowMs();
    const watchers = (await this.deps.watchers.list(cluster)).sort((a, b) => a.node.localeCompare(b.node));
    return {
      settings,
      watchers: watchers.map((w) => ({
        node: w.node,
        state: isSilent(w.seenAt, now, settings) ? 'missing' : 'reporting',
        ...(w.missingSince !== undefined ? { alertedSince: iso(w.missingSince) } : {}),
        firstSeenAt: iso(w.firstSeenAt),
        lastSeenAt: iso(w.seenAt),
        silentForSeconds: Math.floor(silentFor(w.seenAt, now) / 1000),
        ...(w.reportAt !== undefined ? { lastReportAt: iso(w.reportAt) } : {}),
        ...(w.via ? { via: w.via } : {}),
      })),
    };
  }
}
