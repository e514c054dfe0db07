/**
 * Heartbeats, pure parts: settings per cluster, silence, the watcher and cluster decisions
 * and their alerts; tocsin.yaml `heartbeats:` with located errors.
 */
import { parseConfigText, ConfigFileError } from '../../lambdas/commons/config-file';
import {
  decideCluster,
  decideWatcher,
  heartbeatSettings,
  isSilent,
  retireWatcher,
  silentFor,
  watcherSubject,
  type WatcherAlertState,
} from '../../lambdas/domain/heartbeats';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const S = { every: 60, missingAfter: 300 };

describe('settings', () => {
  it('defaults to every 1m, missing after 5m; a cluster entry overrides the top level', () => {
    expect(heartbeatSettings(undefined, 'prod')).toEqual({ every: 60, missingAfter: 300 });
    const spec = { every: 30, missingAfter: 120, clusters: { batch: { every: 600, missingAfter: 1800 } } };
    expect(heartbeatSettings(spec, 'prod')).toEqual({ every: 30, missingAfter: 120 });
    expect(heartbeatSettings(spec, 'batch')).toEqual({ every: 600, missingAfter: 1800 });
  });

  it('silence counts from the last sign of life, or from the grace start when that is later', () => {
    expect(isSilent(T0, T0 + 299_999, S)).toBe(false);
    expect(isSilent(T0, T0 + 300_000, S)).toBe(true);
    expect(isSilent(T0, T0 + 400_000, S, T0 + 200_000)).toBe(false);
    expect(silentFor(T0, T0 + 400_000, T0 + 200_000)).toBe(200_000);
  });
});

describe('a watcher', () => {
  const signs = { node: 'web-3', seenAt: T0, reportAt: T0 - 1000, via: 'consul/checks' };
  const observe = (silent: boolean, revision = 0, nowMs = T0 + 301_000) => ({ cluster: 'prod', revision, nowMs, signs, silent, settings: S });

  it('silent and not yet missing: a warning "watcher web-3 of prod has not reported for 5m (last at ...)"', () => {
    const d = decideWatcher(undefined, observe(true));
    expect(d.kind).toBe('write');
    if (d.kind !== 'write') return;
    expect(d.state).toEqual({ node: 'web-3', status: 'missing', since: new Date(T0 + 301_000).toISOString(), lastSeenAt: new Date(T0).toISOString() });
    expect(d.alert).toMatchObject({
      cluster: 'prod',
      source: 'tocsin',
      kind: 'heartbeat',
      severity: 'warning',
      state: 'firing',
      node: 'web-3',
      from: 'reporting',
      to: 'missing',
      title: 'WARNING: watcher web-3 of prod has not reported for 5m (last at 2026-12-01T10:00:00.000Z)',
    });
    expect(d.alert?.details).toContainEqual(['Last handler report', `${new Date(T0 - 1000).toISOString()} (consul/checks)`]);
  });

  it('already missing and still silent: nothing; reporting and not silent: nothing', () => {
    const missing: WatcherAlertState = { node: 'web-3', status: 'missing', since: new Date(T0 + 301_000).toISOString(), lastSeenAt: new Date(T0).toISOString() };
    expect(decideWatcher(missing, observe(true, 1))).toEqual({ kind: 'ignore' });
    expect(decideWatcher(undefined, observe(false))).toEqual({ kind: 'ignore' });
    expect(decideWatcher({ ...missing, status: 'reporting' }, observe(false, 2))).toEqual({ kind: 'ignore' });
  });

  it('signs older than the last sign of life the record knows are stale: a sweep that read the watcher before a report resolved it changes nothing', () => {
    const resolved: WatcherAlertState = { node: 'web-3', status: 'reporting', since: new Date(T0 + 400_000).toISOString(), lastSeenAt: new Date(T0 + 400_000).toISOString() };
    expect(decideWatcher(resolved, observe(true, 2, T0 + 401_000))).toEqual({ kind: 'ignore' });
    // The same signs against a record that knows nothing later still fire.
    expect(decideWatcher({ ...resolved, lastSeenAt: new Date(T0).toISOString() }, observe(true, 2, T0 + 401_000)).kind).toBe('write');
  });

  it('missing and heard again: resolved, saying how long it was silent', () => {
    const missing: WatcherAlertState = { node: 'web-3', status: 'missing', since: new Date(T0 + 301_000).toISOString(), lastSeenAt: new Date(T0).toISOString() };
    const d = decideWatcher(missing, { ...observe(false, 1, T0 + 432_000), signs: { ...signs, seenAt: T0 + 432_000 } });
    expect(d.kind === 'write' && d.alert).toMatchObject({ state: 'resolved', from: 'missing', to: 'reporting', title: 'RESOLVED: watcher web-3 of prod reports again (silent for 7m12s)' });
    expect(d.kind === 'write' && d.state.status).toBe('reporting');
  });

  it('one alert id per change: the same decision twice has the same id, the next episode another', () => {
    const a = decideWatcher(undefined, observe(true, 0));
    const b = decideWatcher(undefined, observe(true, 0));
    const c = decideWatcher(undefined, observe(true, 2));
    const id = (d: typeof a) => (d.kind === 'write' ? d.alert?.id : undefined);
    expect(id(a)).toBe(id(b));
    expect(id(a)).not.toBe(id(c));
    expect(watcherSubject('web-3')).toBe('watcher/web-3');
  });

  it('retired: a missing watcher resolves; a reporting one is retired quietly; kept 30 days', () => {
    const missing: WatcherAlertState = { node: 'web-3', status: 'missing', since: new Date(T0).toISOString() };
    const r = retireWatcher(missing, { cluster: 'prod', node: 'web-3', revision: 3, nowMs: T0 + 1000 });
    expect(r.kind === 'write' && r.alert).toMatchObject({ state: 'resolved', to: 'retired', title: 'RESOLVED: watcher web-3 of prod retired (no longer expected)' });
    expect(r.kind === 'write' && r.ttlSeconds).toBe(30 * 86400);
    const q = retireWatcher({ ...missing, status: 'reporting' }, { cluster: 'prod', node: 'web-3', revision: 3, nowMs: T0 });
    expect(q.kind === 'write' && q.alert).toBeUndefined();
    expect(retireWatcher(undefined, { cluster: 'prod', node: 'web-3', revision: 0, nowMs: T0 })).toEqual({ kind: 'ignore' });
  });
});

describe('a cluster', () => {
  const observe = (known: number, silent: number, extra: Record<string, unknown> = {}) => ({ cluster: 'prod', revision: 0, nowMs: T0, known, silent, latestSeenAt: T0 - 400_000, settings: S, ...extra });

  it('every known watcher silent: a critical "cluster prod is silent"', () => {
    const d = decideCluster(undefined, observe(3, 3));
    expect(d.kind === 'write' && d.alert).toMatchObject({
      severity: 'critical',
      state: 'firing',
      kind: 'heartbeat',
      node: '-',
      to: 'silent',
      title: 'CRITICAL: cluster prod is silent: none of its 3 watchers has reported for 5m',
    });
  });

  it('some silent, or no watcher at all: not silent', () => {
    expect(decideCluster(undefined, observe(3, 2))).toEqual({ kind: 'ignore' });
    expect(decideCluster(undefined, observe(0, 0))).toEqual({ kind: 'ignore' });
  });

  it('silent, then one watcher reports: resolved, naming it; silent and every watcher retired: resolved as unwatched', () => {
    const silent = { status: 'silent' as const, since: new Date(T0).toISOString() };
    const d = decideCluster(silent, observe(1, 0, { reporter: 'web-3' }));
    expect(d.kind === 'write' && d.alert).toMatchObject({ state: 'resolved', title: 'RESOLVED: cluster prod reports again (web-3)' });
    const e = decideCluster(silent, observe(0, 0));
    expect(e.kind === 'write' && e.alert?.title).toBe('RESOLVED: cluster prod is no longer watched (every watcher retired)');
    expect(decideCluster(silent, observe(2, 2))).toEqual({ kind: 'ignore' });
  });
});

describe('tocsin.yaml heartbeats', () => {
  const load = (yaml: string) => parseConfigText(yaml, '/etc/tocsin.yaml');
  const issues = (yaml: string): string[] => {
    try {
      load(yaml);
    } catch (err) {
      if (err instanceof ConfigFileError) return err.message.split('\n').slice(1).map((l) => l.trim());
      throw err;
    }
    return [];
  };

  it('defaults when absent; durations in seconds or with units; per-cluster overrides merged over the top level', () => {
    expect(load('clusters: [prod]\n').runtime.heartbeats).toEqual({ every: 60, missingAfter: 300 });
    const c = load('clusters: [prod, batch]\nheartbeats:\n  every: 2\n  missingAfter: 5\n  clusters:\n    batch: { missingAfter: 10m }\n').runtime.heartbeats;
    expect(c).toEqual({ every: 2, missingAfter: 5, clusters: { batch: { every: 2, missingAfter: 600 } } });
  });

  it('errors name the path, line and column: missingAfter under twice every, an unknown cluster, a bad duration, an unknown key', () => {
    expect(issues('clusters: [prod]\nheartbeats:\n  every: 2m\n  missingAfter: 3m\n')).toEqual([
      'heartbeats.missingAfter (line 4, column 17): missingAfter (3m) must be at least 2 x every (2m): one late heartbeat must not raise an alert',
    ]);
    expect(issues('clusters: [prod]\nheartbeats:\n  every: 10m\n')).toEqual([
      'heartbeats.every (line 3, column 10): missingAfter (5m, inherited) must be at least 2 x every (10m): one late heartbeat must not raise an alert',
    ]);
    expect(issues('clusters: [prod]\nheartbeats:\n  clusters:\n    staging: { every: 30s }\n')).toEqual([
      'heartbeats.clusters.staging (line 4, column 14): cluster "staging" is not listed under clusters (prod)',
    ]);
    expect(issues('clusters: [prod]\nheartbeats:\n  clusters:\n    prod: { missingAfter: 0 }\n')).toEqual([
      'heartbeats.clusters.prod.missingAfter (line 4, column 27): must be between 1s and 30 days',
    ]);
    expect(issues('clusters: [prod]\nheartbeats:\n  every: soon\n')).toEqual(['heartbeats.every (line 3, column 10): must be a number of seconds, or a duration such as 90s, 5m, 1h30m, 2d.']);
    expect(issues('clusters: [prod]\nheartbeats:\n  evry: 1m\n')).toEqual(['heartbeats (line 3, column 3): unknown key "evry"']);
  });

  it('deployment.watchdog.url must be https', () => {
    expect(load('clusters: [prod]\ndeployment:\n  watchdog: { url: "https://hc-ping.com/0f0e" }\n').deployment.watchdog).toEqual({ url: 'https://hc-ping.com/0f0e' });
    expect(issues('clusters: [prod]\ndeployment:\n  watchdog: { url: "http://hc-ping.com/0f0e" }\n')).toEqual([
      'deployment.watchdog.url (line 3, column 20): must match pattern "^https://[^\\s]+$"',
    ]);
  });
});
