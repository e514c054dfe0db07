/** Issue 14 in the domain: acknowledgement semantics, the read model's changes per write, filters. */
import { ackHolds, parseAckRequest, AckError, type Acknowledgement } from '../../lambdas/domain/rules/acknowledgements';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { fireTimer, routeAlert } from '../../lambdas/domain/rules/episodes';
import type { SubjectTimer } from '../../lambdas/domain/rules/outbox';
import { ALERT_FILTERS, alertRef, CARRIED_HISTORY, carriedHistory, FilterError, historySummary, matchesFilters, mergeHistory, parseFilters, placeHistory, readModelChange, type CarriedEntry, type FiringAlert, type HistoryEntry } from '../../lambdas/domain/rules/read-model';
import type { RuntimeConfig } from '../../lambdas/domain/rules/types';
import type { Alert, Severity } from '../../lambdas/domain/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const rules = compileRules({
  clusters: ['prod'],
  channels: { slack: { type: 'slack' } },
  defaults: { channels: ['slack'], resolved: true },
  rules: [{ name: 'page', channels: ['slack'], repeat: 600 }],
  grouping: { windowSeconds: 60, threshold: 20 },
} satisfies RuntimeConfig);
const alert = (severity: Severity, state: Alert['state'] = 'firing', id = `a-${severity}-${state}`): Alert => ({
  id, cluster: 'prod', source: 'consul', kind: 'check', severity, state, node: 'web-1', service: 'web', check: 'http',
  title: `${state === 'resolved' ? 'RESOLVED' : severity.toUpperCase()}: http on web-1`, from: 'passing', to: severity, at: new Date(T0).toISOString(), details: [],
});
const ACK: Acknowledgement = { by: 'ann', at: T0 + 1000, severity: 'warning' };
const route = (severity: Severity, previous: ReturnType<typeof routeAlert>['episode'], nowMs: number, state: Alert['state'] = 'firing') =>
  routeAlert({ rules, alert: alert(severity, state), subject: 'check/web-1/http', previous, nowMs });

describe('acknowledgements', () => {
  const opened = route('warning', undefined, T0);
  const repeat = opened.outbox!.routing!.timers[0] as SubjectTimer;

  test('an acknowledged episode gets no reminder; the next one stays planned; after the ack expires reminders resume', () => {
    const acked = { ...opened.episode!, ack: { ...ACK, until: T0 + 1_000_000 } };
    const skipped = fireTimer(repeat, acked, T0 + 600_000);
    expect(skipped.outbox!.routing!.deliveries).toEqual([]);
    const next = skipped.outbox!.routing!.timers[0] as SubjectTimer;
    expect(next).toMatchObject({ kind: 'repeat', seq: 1 });
    const resumed = fireTimer(next, skipped.episode, T0 + 1_200_000);
    expect(resumed.outbox!.routing!.deliveries[0]!.alert).toMatchObject({ reminder: 2 });
  });

  test('without an ack the reminder goes out', () => {
    expect(fireTimer(repeat, opened.episode, T0 + 600_000).outbox!.routing!.deliveries).toHaveLength(1);
  });

  test.each<[string, Severity, boolean]>([
    ['a higher severity clears it (and notifies)', 'critical', false],
    ['the same severity keeps it', 'warning', true],
    ['a lower severity keeps it', 'info', true],
  ])('%s', (_name, severity, kept) => {
    const changed = route(severity, { ...opened.episode!, ack: ACK }, T0 + 5000);
    expect(changed.episode!.ack !== undefined).toBe(kept);
    if (severity === 'critical') expect(changed.outbox!.routing!.deliveries).toHaveLength(1);
  });

  test('a new episode (resolved, then firing again) starts unacknowledged', () => {
    const resolved = route('warning', { ...opened.episode!, ack: ACK }, T0 + 5000, 'resolved');
    expect(resolved.episode).toBeUndefined();
    const again = route('warning', resolved.episode, T0 + 9000);
    expect(again.episode!.ack).toBeUndefined();
    expect(again.outbox!.routing!.deliveries).toHaveLength(1);
  });

  test('ackHolds respects the expiry', () => {
    expect(ackHolds({ ...ACK, until: T0 + 10 }, T0 + 9)).toBe(true);
    expect(ackHolds({ ...ACK, until: T0 + 10 }, T0 + 10)).toBe(false);
    expect(ackHolds(undefined, T0)).toBe(false);
  });

  test.each<[unknown, string]>([
    [[], 'JSON object'],
    [{ untilSeconds: 0 }, 'untilSeconds'],
    [{ untilSeconds: 1.5 }, 'untilSeconds'],
    [{ by: '' }, '"by"'],
    [{ comment: 'x'.repeat(513) }, '"comment"'],
    [{ bogus: 1 }, 'unknown field'],
  ])('bad ack body %j is refused', (body, message) => {
    expect(() => parseAckRequest(body, 'key k', 'warning', T0)).toThrow(AckError);
    expect(() => parseAckRequest(body, 'key k', 'warning', T0)).toThrow(message);
  });

  test('the ack body: by defaults to the key, untilSeconds becomes an expiry', () => {
    expect(parseAckRequest({ comment: ' on it ', untilSeconds: 60 }, 'key abc', 'critical', T0)).toEqual({ by: 'key abc', at: T0, severity: 'critical', comment: 'on it', until: T0 + 60_000 });
  });
});

describe('readModelChange', () => {
  const opened = route('warning', undefined, T0);
  test('a new episode: index put before the write, history firing + notified', () => {
    const c = readModelChange('prod', 'check/web-1/http', undefined, opened.episode, opened.outbox, T0);
    expect(c.index).toMatchObject({ kind: 'put', alert: { id: alertRef('check/web-1/http'), severity: 'warning', since: T0, channels: ['slack'], node: 'web-1', service: 'web' } });
    expect(c.history.map((e) => e.type)).toEqual(['firing', 'notified']);
  });
  test('an acknowledgement: no index write (readers take it from the episode), an acknowledged event', () => {
    const c = readModelChange('prod', 's', opened.episode, { ...opened.episode!, ack: ACK }, undefined, T0 + 1000);
    expect(c.index).toBeUndefined();
    expect(c.history).toEqual([{ type: 'acknowledged', by: 'ann' }]);
  });
  test('the end of the episode: removal and a resolved event with the time to recover', () => {
    const resolved = route('warning', opened.episode, T0 + 90_000, 'resolved');
    const c = readModelChange('prod', 's', opened.episode, resolved.episode, resolved.outbox, T0 + 90_000);
    expect(c.index).toEqual({ kind: 'remove' });
    expect(c.history[0]).toMatchObject({ type: 'resolved', recoveredMs: 90_000 });
  });
  test('a write that changes nothing the operator sees: nothing', () => {
    expect(readModelChange('prod', 's', opened.episode, opened.episode, undefined, T0 + 1)).toEqual({ history: [] });
  });
  test('long titles are cut', () => {
    const long = { ...opened.outbox!, alert: { ...opened.outbox!.alert, title: 'x'.repeat(5000) } };
    const c = readModelChange('prod', 's', undefined, opened.episode, long, T0);
    expect(c.index?.kind === 'put' && c.index.alert.title.length).toBe(300);
  });
});

describe('filters', () => {
  const a: FiringAlert = { id: 'x', subject: 'check/web-1/http', cluster: 'prod', episode: 'e', severity: 'critical', status: 'critical', title: 'CRITICAL: HTTP on web-1', source: 'consul', kind: 'check', node: 'web-1', service: 'web', check: 'http', since: T0, lastChange: T0, channels: [] };
  test.each<[keyof typeof ALERT_FILTERS, string, FiringAlert, boolean]>([
    ['cluster', 'prod', a, true],
    ['cluster', 'stage', a, false],
    ['severity', 'warning,critical', a, true],
    ['severity', 'info', a, false],
    ['state', 'firing', a, true],
    ['state', 'acknowledged', { ...a, ack: ACK }, true],
    ['state', 'firing', { ...a, ack: { ...ACK, until: T0 } }, true],
    ['state', 'silenced', { ...a, silencedBy: 's1' }, true],
    ['service', 'web', a, true],
    ['service', 'db', a, false],
    ['node', 'web-1', a, true],
    ['text', 'http ON', a, true],
    ['text', 'nothing', a, false],
  ])('%s=%s', (name, value, alertIn, expected) => {
    expect(ALERT_FILTERS[name](alertIn, value, T0 + 1)).toBe(expected);
    expect(matchesFilters(alertIn, [[name, value]], T0 + 1)).toBe(expected);
  });
  test('unknown filters and values are refused', () => {
    expect(() => parseFilters({ colour: 'red' })).toThrow(FilterError);
    expect(() => parseFilters({ severity: 'fatal' })).toThrow('none of critical, warning, info');
    expect(parseFilters({ node: 'web-1', severity: 'critical' })).toEqual([['node', 'web-1'], ['severity', 'critical']]);
  });
});

test('historySummary: episodes, flaps, times to recover', () => {
  const s = historySummary([
    { at: 1, subject: 's', events: [{ type: 'firing', severity: 'warning', status: 'warning', title: 't', change: false }] },
    { at: 2, subject: 's', events: [{ type: 'resolved', status: 'passing', title: 't', recoveredMs: 1000 }] },
    { at: 3, subject: 's', events: [{ type: 'firing', severity: 'warning', status: 'warning', title: 't', change: false }] },
    { at: 4, subject: 's', events: [{ type: 'firing', severity: 'critical', status: 'critical', title: 't', change: true }] },
    { at: 5, subject: 's', events: [{ type: 'resolved', status: 'passing', title: 't', recoveredMs: 3000 }] },
  ]);
  expect(s).toEqual({ episodes: 2, flaps: 1, lastRecoveryMs: 3000, meanRecoveryMs: 2000 });
});

describe('history.retention (tocsin.yaml)', () => {
  const base = { clusters: ['prod'], channels: { ops: { type: 'email' } }, defaults: { channels: ['ops'] } };
  test.each<[unknown, number | undefined, boolean]>([
    [undefined, undefined, true],
    ['45d', 45, true],
    ['36h', 2, true],
    ['12h', undefined, false],
    ['11000d', undefined, false],
  ])('retention %p -> %p days', (retention, days, ok) => {
    const { config, issues } = normalizeConfig({ ...base, ...(retention !== undefined ? { history: { retention } } : {}) });
    expect(issues.length === 0).toBe(ok);
    if (ok) expect(config.history?.retentionDays).toBe(days);
    else expect(issues[0]!.path).toEqual(['history', 'retention']);
  });
});

describe('history carried by the subject record', () => {
  const DAY = 86_400_000;
  const RETENTION = 30 * DAY;
  const e = (at: number, title = 't'): CarriedEntry => ({ at, events: [{ type: 'notice', severity: 'info', title }] });
  const entries = (n: number, from = T0) => Array.from({ length: n }, (_, i) => e(from + i));
  const opts = (recordTtlMs?: number) => ({ nowMs: T0 + 100, retentionMs: RETENTION, ...(recordTtlMs !== undefined ? { recordTtlMs } : {}) });

  test.each([
    ['a first entry is carried', undefined, e(T0 + 100), opts(), { carried: [e(T0 + 100)], spillBefore: [] }],
    ['a write without events keeps what was carried', [e(T0)], undefined, opts(), { carried: [e(T0)], spillBefore: [] }],
    ['a record living as long as the retention carries', [e(T0)], e(T0 + 100), opts(RETENTION), { carried: [e(T0), e(T0 + 100)], spillBefore: [] }],
    ['a record expiring sooner: carried entries before, the new one after the write', [e(T0)], e(T0 + 100), opts(7 * DAY), { carried: [], spillBefore: [e(T0)], spillAfter: e(T0 + 100) }],
    ['entries past the retention are dropped', [e(T0 - RETENTION)], e(T0 + 100), opts(), { carried: [e(T0 + 100)], spillBefore: [] }],
    ['full: the oldest go until half is left, the new entry stays', entries(CARRIED_HISTORY.maxEntries), e(T0 + 100), opts(), { carried: [...entries(CARRIED_HISTORY.maxEntries).slice(5), e(T0 + 100)], spillBefore: entries(5) }],
    ['an entry too big to carry alone goes after the write', [e(T0)], e(T0 + 100, 'x'.repeat(CARRIED_HISTORY.maxChars)), opts(), { carried: [], spillBefore: [e(T0)], spillAfter: e(T0 + 100, 'x'.repeat(CARRIED_HISTORY.maxChars)) }],
  ] as const)('%s', (_name, previous, entry, o, expected) => {
    expect(placeHistory(previous as CarriedEntry[] | undefined, entry, o)).toEqual(expected);
  });

  test('bounded by characters too: long titles spill sooner', () => {
    const long = Array.from({ length: 4 }, (_, i) => e(T0 + i, 'y'.repeat(280)));
    const placed = placeHistory(long, e(T0 + 100, 'y'.repeat(280)), opts());
    expect(placed.spillBefore.length).toBeGreaterThan(0);
    expect(JSON.stringify(placed.carried).length).toBeLessThanOrEqual(CARRIED_HISTORY.maxChars / 2 + 400);
    expect([...placed.spillBefore, ...placed.carried]).toEqual([...long, e(T0 + 100, 'y'.repeat(280))]);
  });

  test('carriedHistory reads the field, tolerant of records without it or with junk', () => {
    expect(carriedHistory({ history: [e(T0), { at: 'x' }, null] })).toEqual([e(T0)]);
    expect(carriedHistory({ status: 'critical' })).toEqual([]);
    expect(carriedHistory(undefined)).toEqual([]);
  });

  test.each([
    ['items and carried entries in time order', [{ at: T0, subject: 's', events: e(T0).events }], [e(T0 + 2)], 10, [T0, T0 + 2]],
    ['an entry both spilled and carried once', [{ at: T0, subject: 's', events: e(T0).events }], [e(T0), e(T0 + 1)], 10, [T0, T0 + 1]],
    ['the newest `limit`', [{ at: T0, subject: 's', events: e(T0).events }], [e(T0 + 1), e(T0 + 2)], 2, [T0 + 1, T0 + 2]],
    ['carried entries past the retention are not shown', [], [e(T0 - RETENTION - 1), e(T0)], 10, [T0]],
  ] as const)('mergeHistory: %s', (_name, stored, carried, limit, ats) => {
    const merged = mergeHistory(stored as unknown as HistoryEntry[], carried as unknown as CarriedEntry[], 's', limit, T0 - RETENTION);
    expect(merged.map((m) => m.at)).toEqual(ats);
    expect(merged.every((m) => m.subject === 's')).toBe(true);
  });
});
