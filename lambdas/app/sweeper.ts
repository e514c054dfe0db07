/**
 * The sweeper: a short pipeline of sweep tasks run in turn, once a minute (an EventBridge
 * schedule in AWS, a timer in `npm start`). Heartbeats are the first task; later ones
 * (silences that end, overdue timers) are added to the list in application-sweeper.ts.
 * A task that fails does not stop the next. After the tasks, the sweep proves the pipeline
 * can still alert: its record is written to the table and the alerts topic answers. Only
 * then is the sweep successful, and only then is the external dead-man's switch pinged
 * (a failed ping is logged loudly, not thrown). Every task must be safe to run twice at
 * once (two sweeps can overlap): through the transition engine's compare-and-set.
 */
import { LOG_EVENTS, METRICS } from '../commons/deployment';
import type { AlertsProbe, SweepLedger, Watchdog } from './heartbeat-ports';
import type { Clock, Logger, Metrics } from './runtime';

/** What a task reports: counts worth a log line, and problems that make the sweep fail. */
export interface SweepTaskResult {
  summary: Record<string, number>;
  errors: string[];
}

export interface SweepTask {
  readonly name: string;
  run(nowMs: number): Promise<SweepTaskResult>;
}

export interface SweepDeps {
  tasks: readonly SweepTask[];
  ledger: SweepLedger;
  alerts: AlertsProbe;
  watchdog?: Watchdog;
  clock: Clock;
  logger: Logger;
  /** Sweeps, failed sweeps, the lag since the previous sweep, heartbeat transitions; absent: none. */
  metrics?: Metrics;
}

export interface SweepOutcome {
  ok: boolean;
  at: string;
  tasks: Array<{ name: string; ok: boolean; ms: number; summary?: Record<string, number>; errors?: string[] }>;
  /** The table took the sweep's record; the alerts topic answered. */
  health: { table: boolean; alerts: boolean; errors: string[] };
  /** Since the previous sweep (ms), when there was one: how late this one is. */
  sincePreviousMs?: number;
  watchdog: 'pinged' | 'failed' | 'not configured' | 'skipped';
}

export async function runSweep(deps: SweepDeps): Promise<SweepOutcome> {
  const { clock, logger } = deps;
  const startedAt = clock.nowMs();
  const tasks: SweepOutcome['tasks'] = [];
  for (const task of deps.tasks) {
    const t0 = clock.nowMs();
    try {
      const r = await task.run(t0);
      tasks.push({ name: task.name, ok: r.errors.length === 0, ms: clock.nowMs() - t0, summary: r.summary, ...(r.errors.length ? { errors: r.errors.slice(0, 20) } : {}) });
    } catch (err) {
      tasks.push({ name: task.name, ok: false, ms: clock.nowMs() - t0, errors: [(err as Error).message] });
    }
  }
  const tasksOk = tasks.every((t) => t.ok);

  const health: SweepOutcome['health'] = { table: false, alerts: false, errors: [] };
  let sincePreviousMs: number | undefined;
  try {
    const { previousAt } = await deps.ledger.record(startedAt, { ok: tasksOk, tasks: tasks.map((t) => t.name) });
    health.table = true;
    if (previousAt !== undefined) sincePreviousMs = startedAt - previousAt;
  } catch (err) {
    health.errors.push(`table: ${(err as Error).message}`);
  }
  try {
    await deps.alerts.reachable();
    health.alerts = true;
  } catch (err) {
    health.errors.push(`alerts topic: ${(err as Error).message}`);
  }
  const ok = tasksOk && health.table && health.alerts;

  let watchdog: SweepOutcome['watchdog'] = deps.watchdog ? 'skipped' : 'not configured';
  if (ok && deps.watchdog) {
    try {
      await deps.watchdog.ping();
      watchdog = 'pinged';
    } catch (err) {
      watchdog = 'failed';
      // Loud, but not a failed sweep: the dead-man's switch itself will notice the missing pings.
      logger.error(LOG_EVENTS.watchdogPingFailed, { target: deps.watchdog.target, error: (err as Error).message });
    }
  }
  const outcome: SweepOutcome = {
    ok,
    at: new Date(startedAt).toISOString(),
    tasks,
    health,
    ...(sincePreviousMs !== undefined ? { sincePreviousMs } : {}),
    watchdog,
  };
  const metrics = deps.metrics;
  if (metrics) {
    metrics.count(METRICS.names.sweeps);
    // Always written (0 on success): the failure alarm then sees data every minute.
    metrics.count(METRICS.names.sweepFailures, ok ? 0 : 1);
    if (sincePreviousMs !== undefined) metrics.milliseconds(METRICS.names.sweepLag, sincePreviousMs);
    const transitions = tasks.reduce((n, t) => n + (t.summary?.transitions ?? 0), 0);
    if (transitions > 0) metrics.count(METRICS.names.transitions, transitions, { [METRICS.dimensions.source]: 'sweeper' });
  }
  if (ok) logger.info(LOG_EVENTS.sweepDone, { ...outcome, ms: clock.nowMs() - startedAt });
  else logger.error(LOG_EVENTS.sweepFailed, { ...outcome, ms: clock.nowMs() - startedAt });
  return outcome;
}
