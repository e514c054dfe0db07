/**
 * The sweep pipeline (lambdas/app/sweeper.ts): tasks in turn, a failed task does not stop
 * the next, the sweep is successful only when the table took its record and the alerts
 * topic answered, and only then is the watchdog pinged; a failed ping is logged, not thrown.
 * And the HTTPS watchdog adapter: https only, a non-2xx answer is a failure.
 */
import { HttpsWatchdog } from '../../lambdas/adapters/https-watchdog';
import type { SweepLedger, Watchdog } from '../../lambdas/app/heartbeat-ports';
import { runSweep, type SweepTask } from '../../lambdas/app/sweeper';
import { LOG_EVENTS } from '../../lambdas/commons/deployment';

function harness(opts: { tableFails?: boolean; alertsFail?: boolean; pingFails?: boolean; watchdog?: boolean } = {}) {
  const ran: string[] = [];
  const logs: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const pings: number[] = [];
  const ledger: SweepLedger = {
    record: async () => {
      if (opts.tableFails) throw new Error('ThrottlingException: slow down');
      return { previousAt: 1000 };
    },
    lastSweep: async () => undefined,
  };
  const watchdog: Watchdog = {
    target: 'hc-ping.com',
    ping: async () => {
      pings.push(1);
      if (opts.pingFails) throw new Error('hc-ping.com answered HTTP 503');
    },
  };
  const task = (name: string, fail?: 'throw' | 'errors'): SweepTask => ({
    name,
    run: async () => {
      ran.push(name);
      if (fail === 'throw') throw new Error(`${name} broke`);
      return { summary: { n: 1 }, errors: fail === 'errors' ? [`${name}: 1 alert(s) not yet published`] : [] };
    },
  });
  const sweep = (tasks: SweepTask[]) =>
    runSweep({
      tasks,
      ledger,
      alerts: { reachable: async () => (opts.alertsFail ? Promise.reject(new Error('AuthorizationError')) : undefined) },
      ...(opts.watchdog === false ? {} : { watchdog }),
      clock: { nowMs: () => 61_000 },
      logger: { info: (message, fields) => logs.push({ level: 'info', message, fields }), error: (message, fields) => logs.push({ level: 'error', message, fields }) },
    });
  return { ran, logs, pings, task, sweep };
}

describe('runSweep', () => {
  it('runs the tasks in order, proves table and alerts topic, then pings the watchdog', async () => {
    const h = harness();
    const out = await h.sweep([h.task('heartbeats'), h.task('silences')]);
    expect(h.ran).toEqual(['heartbeats', 'silences']);
    expect(out).toMatchObject({ ok: true, health: { table: true, alerts: true, errors: [] }, sincePreviousMs: 60_000, watchdog: 'pinged' });
    expect(h.pings).toHaveLength(1);
    expect(h.logs.map((l) => `${l.level} ${l.message}`)).toEqual([`info ${LOG_EVENTS.sweepDone}`]);
  });

  it('a task that throws or reports errors fails the sweep, the next task still runs, and nobody pings', async () => {
    const h = harness();
    const out = await h.sweep([h.task('heartbeats', 'throw'), h.task('silences', 'errors'), h.task('timers')]);
    expect(h.ran).toEqual(['heartbeats', 'silences', 'timers']);
    expect(out.ok).toBe(false);
    expect(out.tasks.map((t) => [t.name, t.ok, t.errors])).toEqual([
      ['heartbeats', false, ['heartbeats broke']],
      ['silences', false, ['silences: 1 alert(s) not yet published']],
      ['timers', true, undefined],
    ]);
    expect(out.watchdog).toBe('skipped');
    expect(h.pings).toHaveLength(0);
    expect(h.logs.map((l) => `${l.level} ${l.message}`)).toEqual([`error ${LOG_EVENTS.sweepFailed}`]);
  });

  it('table not writable, or alerts topic unreachable: not successful, no ping', async () => {
    for (const opts of [{ tableFails: true }, { alertsFail: true }]) {
      const h = harness(opts);
      const out = await h.sweep([h.task('heartbeats')]);
      expect(out.ok).toBe(false);
      expect(out.health.errors).toHaveLength(1);
      expect(h.pings).toHaveLength(0);
    }
  });

  it('a failed ping is a loud log line, not a failed sweep; no watchdog configured is fine', async () => {
    const h = harness({ pingFails: true });
    const out = await h.sweep([h.task('heartbeats')]);
    expect(out).toMatchObject({ ok: true, watchdog: 'failed' });
    expect(h.logs[0]).toMatchObject({ level: 'error', message: LOG_EVENTS.watchdogPingFailed, fields: { target: 'hc-ping.com', error: 'hc-ping.com answered HTTP 503' } });
    const none = harness({ watchdog: false });
    expect((await none.sweep([none.task('heartbeats')])).watchdog).toBe('not configured');
  });
});

describe('HttpsWatchdog', () => {
  it('refuses anything but https', () => {
    expect(() => new HttpsWatchdog('http://hc-ping.com/x')).toThrow('must be https');
    expect(() => new HttpsWatchdog('not a url')).toThrow('not a URL');
  });

  it('GETs the URL; a non-2xx answer or a network error rejects, naming the host only', async () => {
    const calls: string[] = [];
    const ok = new HttpsWatchdog('https://hc-ping.com/secret-uuid', async (url) => {
      calls.push(String(url));
      return new Response('OK', { status: 200 });
    });
    await ok.ping();
    expect(calls).toEqual(['https://hc-ping.com/secret-uuid']);
    expect(ok.target).toBe('hc-ping.com');
    const down = new HttpsWatchdog('https://hc-ping.com/secret-uuid', async () => new Response('no', { status: 503 }));
    await expect(down.ping()).rejects.toThrow('hc-ping.com answered HTTP 503');
    const dead = new HttpsWatchdog('https://hc-ping.com/secret-uuid', async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    });
    await expect(dead.ping()).rejects.toThrow('hc-ping.com: fetch failed (ECONNREFUSED)');
    await expect(dead.ping()).rejects.not.toThrow('secret-uuid');
  });
});
