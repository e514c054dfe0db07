/**
 * The composition root's sweeper (see application.ts and sweeper.ts): the sweep tasks, in
 * the order they run, over the application's ports. Heartbeats first; later tasks (silences
 * that end, overdue timers) are appended to `sweepTasks`.
 */
import type { Application } from './application';
import { heartbeatsOf } from './application-heartbeats';
import { mapLimit } from './concurrency';
import { runSweep, type SweepOutcome, type SweepTask } from './sweeper';

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

/** The tasks of one sweep, in order. */
export function sweepTasks(app: Application, clusters: readonly string[]): SweepTask[] {
  return [heartbeatTask(app, clusters)];
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
