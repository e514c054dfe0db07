/**
 * The composition root's sweeper (see application.ts and sweeper.ts): the sweep tasks, in
 * the order they run, over the application's ports: heartbeats, overdue timer steps
 * (timersTask), silences that ended (silenceEndsTask). Later tasks are appended to `sweepTasks`.
 */
import { LOG_EVENTS, TIMERS_QUEUE } from '../commons/deployment';
import type { Timer } from '../domain/rules/outbox';
import { timerWorkerDeps, type Application } from './application';
import { heartbeatsOf } from './application-heartbeats';
import { mapLimit } from './concurrency';
import { runSweep, type SweepOutcome, type SweepTask } from './sweeper';
import { silenceEnded, timeMutesOf, type Episodic } from '../domain/rules/episodes';
import { silenceState, type Silence } from '../domain/rules/silences';
import { inhibitionSource } from '../domain/rules/inhibit';
import { isFiringSource } from './inhibition';
import { TransitionEngine, type Outcome } from './transition-engine';
import { handleTimer } from './timer-worker';

/** Heartbeats: every configured cluster, a few at a time; one cluster's failure does not stop the others. */
export function heartbeatTask(app: Application, clusters: readonly string[]): SweepTask {
  return {
    name: 'heartbeats',
    async run() {
      const heartbeats = heartbeatsOf(app);
      const sweeps = await mapLimit(clusters, 4, async (cluster) => {
        try {
          return await heartbeats.sweepCluster(cluster);
        } catch (err) {
          return { cluster, watchers: 0, silent: 0, transitions: 0, unsettled: 0, errors: [(err as Error).message] };
        }
      });
      const sum = (k: 'watchers' | 'silent' | 'transitions' | 'unsettled') => sweeps.reduce((n, s) => n + s[k], 0);
      return {
        summary: { clusters: clusters.length, watchers: sum('watchers'), silent: sum('silent'), transitions: sum('transitions'), unsettled: sum('unsettled') },
        // An alert recorded but not yet published counts as a failure: the next sweep publishes it.
        errors: sweeps.flatMap((s) => [...s.errors.map((e) => `${s.cluster}: ${e}`), ...(s.unsettled > 0 ? [`${s.cluster}: ${s.unsettled} alert(s) not yet published`] : [])]),
      };
    },
  };
}

/**
 * Silences that end: for each silence of the cluster's mute index that is over (ended, expired
 * early, or gone), each subject it muted is re-read and its still-firing episode announced once
 * to the routes that did not hear it (episodes.ts silenceEnded, through the engine's
 * compare-and-set: two sweeps at once give one notice). Another active silence that matches
 * mutes it again (the engine) and it waits for that one. A subject is forgotten only once its
 * episode holds no notice muted by this silence; a silence leaves the index once none is left.
 */
export function silenceEndsTask(app: Application, clusters: readonly string[]): SweepTask {
  return {
    name: 'silences',
    async run(nowMs) {
      const { ports } = app;
      const engine = new TransitionEngine({ subjects: ports.subjects, publisher: app.dispatcher, clock: ports.clock, ...(app.options.leaseMs !== undefined ? { leaseMs: app.options.leaseMs } : {}) });
      const mutes = timeMutesOf(app.rules);
      const outcomes: Outcome[] = [];
      const errors: string[] = [];
      let ended = 0;
      let subjects = 0;
      for (const cluster of clusters) {
        try {
          const ids = await ports.silences.mutingSilences(cluster);
          if (ids.length === 0) continue;
          const silences = new Map<string, Pick<Silence, 'endsAt' | 'comment'>>((await ports.silences.list(cluster)).map((s) => [s.id, s]));
          for (const id of ids) {
            const source = inhibitionSource(id);
            if (source !== undefined) {
              // An inhibition ends when its source is no longer firing (inhibition.ts).
              if (await isFiringSource(ports.subjects, cluster, source)) continue;
              silences.set(id, { endsAt: new Date(nowMs).toISOString(), comment: `inhibited by ${source}, no longer firing` });
            } else {
              const silence = silences.get(id) as Silence | undefined;
              if (silence && silenceState(silence, nowMs) !== 'expired') continue;
            }
            ended++;
            const done: string[] = [];
            for (const subject of await ports.silences.mutedSubjects(cluster, id)) {
              subjects++;
              const outcome = await engine.apply<Episodic & Record<string, unknown>>(cluster, subject, (prev) => {
                const out = silenceEnded(subject, cluster, prev?.state.episode, ports.clock.nowMs(), silences, mutes);
                return out ? { kind: 'write', state: { ...prev!.state, episode: out.episode }, outbox: out.outbox } : { kind: 'ignore' };
              });
              outcomes.push(outcome);
              if (outcome === 'unsettled') continue;
              const after = await ports.subjects.get<Episodic>(cluster, subject);
              const stillMuted = Object.values(after?.state.episode?.routes ?? {}).some((r) => r.muted?.silence === id);
              if (!stillMuted) done.push(subject);
            }
            await ports.silences.forgetMutes(cluster, id, done);
          }
        } catch (err) {
          errors.push(`${cluster}: ${(err as Error).message}`);
        }
      }
      const tally = engine.tally(outcomes);
      return {
        summary: { endedSilences: ended, subjects, announced: tally.alertsPublished, unsettled: tally.unsettled },
        errors: [...errors, ...tally.errors, ...(tally.unsettled > 0 ? [`silences: ${tally.unsettled} alert(s) not yet published`] : [])],
      };
    },
  };
}

/**
 * Timers that survive (docs/ARCHITECTURE.md, "Episodes"): every pending `for`, `repeat` or
 * storm digest step overdue by more than the grace is fired through the timer worker's own
 * code, as if its queue message had arrived. A step already done is stale and leaves the
 * index; a step fired twice at once (two sweeps, or a sweep and its late message) fires once.
 */
export function timersTask(app: Application, clusters: readonly string[]): SweepTask {
  const graceMs = app.options.timerGraceMs ?? TIMERS_QUEUE.sweepGraceSeconds * 1000;
  const limit = TIMERS_QUEUE.sweepLimitPerCluster;
  return {
    name: 'timers',
    async run(nowMs) {
      const deps = timerWorkerDeps(app);
      const counts: Record<string, number> = { clusters: clusters.length, overdue: 0 };
      const errors: string[] = [];
      await mapLimit(clusters, 4, async (cluster) => {
        let due: Timer[];
        try {
          due = await app.ports.pendingTimers.due(cluster, nowMs - graceMs, limit);
        } catch (err) {
          errors.push(`${cluster}: ${(err as Error).message}`);
          return;
        }
        counts.overdue = (counts.overdue ?? 0) + due.length;
        if (due.length >= limit) errors.push(`${cluster}: ${limit} or more overdue timer steps; the rest go next sweep`);
        await mapLimit(due, 4, async (timer) => {
          try {
            const outcome = await handleTimer(deps, timer);
            counts[outcome] = (counts[outcome] ?? 0) + 1;
            if (outcome === 'notified' || outcome === 'digest-sent' || outcome === 'continued' || outcome === 'continuation-done') {
              app.ports.logger.info(LOG_EVENTS.timerSwept, { cluster, kind: timer.kind, dueAt: new Date(timer.dueAt).toISOString(), outcome, ...timerFields(timer) });
            }
          } catch (err) {
            errors.push(`${cluster}: timer ${timer.kind} ${Object.values(timerFields(timer))[0]}: ${(err as Error).message}`);
          }
        });
      });
      return { summary: counts, errors };
    },
  };
}

/** The tasks of one sweep, in order. */
export function sweepTasks(app: Application, clusters: readonly string[]): SweepTask[] {
  return [heartbeatTask(app, clusters), timersTask(app, clusters), silenceEndsTask(app, clusters)];
}

/** One sweep of `clusters` (default: the config's), as the sweeper Lambda and `npm start` run it. */
export function sweeper(app: Application, opts: { clusters?: readonly string[] } = {}): () => Promise<SweepOutcome> {
  const clusters = opts.clusters ?? app.options.config.clusters;
  const tasks = sweepTasks(app, clusters);
  const { ports } = app;
  return () =>
    runSweep({
      tasks,
      ledger: ports.sweepLedger,
      alerts: ports.alertsProbe,
      ...(ports.watchdog ? { watchdog: ports.watchdog } : {}),
      clock: ports.clock,
      logger: ports.logger,
      metrics: app.metrics,
    });
}

/** What names a timer step in a log line. */
function timerFields(timer: Timer): Record<string, string> {
  if (timer.kind === 'digest') return { channel: timer.channel };
  if (timer.kind === 'continue') return { continuation: timer.id, source: timer.source };
  if (timer.kind === 'flapping') return { subject: timer.subject, flapping: timer.flap };
  return { subject: timer.subject, rule: timer.rule };
}
