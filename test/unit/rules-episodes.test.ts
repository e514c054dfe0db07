/**
 * Actions, table-driven: severity and channels, for, repeat, resolved on/off, suppress,
 * severity changes within an episode, momentary events; then timers firing.
 */
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { fireTimer, routeAlert, variant, type Episode } from '../../lambdas/domain/rules/episodes';
import type { SubjectTimer } from '../../lambdas/domain/rules/outbox';
import type { RuleSpec, RuntimeConfig } from '../../lambdas/domain/rules/types';
import type { Alert, Severity } from '../../lambdas/domain/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const rules = (list: RuleSpec[]) =>
  compileRules({
    clusters: ['prod'],
    channels: { email: { type: 'email' }, slack: { type: 'slack' }, pager: { type: 'email' } },
    defaults: { channels: ['email'], resolved: true },
    rules: list,
    grouping: { windowSeconds: 60, threshold: 20 },
  } satisfies RuntimeConfig);

const alert = (to: string, severity: Severity, state: Alert['state'] = 'firing', id = `a-${to}`): Alert => ({
  id,
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity,
  state,
  node: 'web-1',
  service: 'web',
  check: 'http',
  title: `${state === 'resolved' ? 'RESOLVED' : severity.toUpperCase()}: http on web-1`,
  from: 'passing',
  to,
  at: new Date(T0).toISOString(),
  details: [],
});

/** What a result delivers now, and what it schedules. */
const summary = (r: ReturnType<typeof routeAlert>) => ({
  now: r.outbox?.routing?.deliveries.map((d) => `${d.alert.title} -> ${d.channels.join('+')}`) ?? [],
  timers: r.outbox?.routing?.timers.map((t) => `${t.kind}:${t.rule}@+${(t.dueAt - T0) / 1000}s`) ?? [],
});

const SLOW: RuleSpec = { name: 'slow', channels: ['slack'], for: 120, repeat: 600 };

describe('routeAlert: firing', () => {
  test.each([
    ['no rule: defaults, now', [], { now: ['CRITICAL: http on web-1 -> email'], timers: [] }],
    ['rule severity relabels the title', [{ name: 'r', severity: 'warning', channels: ['pager'] } as RuleSpec], { now: ['WARNING: http on web-1 -> pager'], timers: [] }],
    ['for: nothing now, a timer at +for', [SLOW], { now: [], timers: ['for:slow@+120s'] }],
    ['repeat without for: now, and a reminder at +repeat', [{ name: 'r', channels: ['slack'], repeat: 300 } as RuleSpec], { now: ['CRITICAL: http on web-1 -> slack'], timers: ['repeat:r@+300s'] }],
    [
      'continue: each route on its own clock',
      [{ ...SLOW, continue: true }, { name: 'all', channels: ['pager'] } as RuleSpec],
      { now: ['CRITICAL: http on web-1 -> pager'], timers: ['for:slow@+120s'] },
    ],
    ['suppress: nothing at all', [{ name: 'mute', suppress: true } as RuleSpec], { now: [], timers: [] }],
  ] as Array<[string, RuleSpec[], ReturnType<typeof summary>]>)('%s', (_n, list, expected) => {
    const r = routeAlert({ rules: rules(list), alert: alert('critical', 'critical'), subject: 'check/web-1/http', previous: undefined, nowMs: T0 });
    expect(summary(r)).toEqual(expected);
    expect(r.episode?.id).toBe('a-critical');
    // The outbox entry carries the facts silences match on; deliveries never do.
    if (r.outbox) expect(r.outbox.facts).toMatchObject({ cluster: 'prod', service: 'web', status: 'critical' });
    for (const d of r.outbox?.routing?.deliveries ?? []) expect(d.alert).not.toHaveProperty('facts');
  });

  test('suppress still records the episode (so nothing is "resolved" later)', () => {
    const r = routeAlert({ rules: rules([{ name: 'mute', suppress: true }]), alert: alert('critical', 'critical'), subject: 's', previous: undefined, nowMs: T0 });
    expect(r.outbox).toBeUndefined();
    expect(r.episode).toEqual({ id: 'a-critical', startedAt: T0, status: 'critical', routes: {}, severity: 'critical' });
  });

  test('a severity change within an episode: notified routes hear now; pending ones keep the episode clock', () => {
    const set = rules([{ ...SLOW, continue: true }, { name: 'all', channels: ['pager'] }]);
    const first = routeAlert({ rules: set, alert: alert('warning', 'warning'), subject: 's', previous: undefined, nowMs: T0 });
    const later = T0 + 60_000;
    const second = routeAlert({ rules: set, alert: alert('critical', 'critical'), subject: 's', previous: first.episode, nowMs: later });
    expect(summary(second)).toEqual({ now: ['CRITICAL: http on web-1 -> pager'], timers: ['for:slow@+120s'] });
    expect(second.episode!.startedAt).toBe(T0);
    expect(second.episode!.id).toBe('a-critical');
  });

  test('past the for delay already (escalation after 3 minutes): now', () => {
    const set = rules([SLOW]);
    const first = routeAlert({ rules: set, alert: alert('warning', 'warning'), subject: 's', previous: undefined, nowMs: T0 });
    const second = routeAlert({ rules: set, alert: alert('critical', 'critical'), subject: 's', previous: first.episode, nowMs: T0 + 180_000 });
    expect(summary(second)).toEqual({ now: ['CRITICAL: http on web-1 -> slack'], timers: ['repeat:slow@+780s'] });
  });
});

describe('routeAlert: resolved', () => {
  const episode = (routes: Episode['routes']): Episode => ({ id: 'a-critical', startedAt: T0, status: 'critical', routes });
  const route = (over: Partial<Episode['routes'][string]>) => ({ severity: 'critical' as Severity, channels: ['slack'], dueAt: T0, repeat: 0, resolved: true, reminders: 0, ...over });

  test.each([
    ['notified route with resolved: true hears, at its severity', { r: route({ notifiedAt: T0 }) }, ['RESOLVED: http on web-1 -> slack']],
    ['resolved: false stays quiet', { r: route({ notifiedAt: T0, resolved: false }) }, []],
    ['never notified (for still pending): quiet', { r: route({ dueAt: T0 + 120_000 }) }, []],
    [
      'routes of different severities: one message each',
      { a: route({ notifiedAt: T0 }), b: route({ notifiedAt: T0, severity: 'warning', channels: ['pager'] }) },
      ['RESOLVED: http on web-1 -> slack', 'RESOLVED: http on web-1 -> pager'],
    ],
  ] as Array<[string, Episode['routes'], string[]]>)('%s', (_n, routes, expected) => {
    const r = routeAlert({ rules: rules([]), alert: alert('passing', 'info', 'resolved'), subject: 's', previous: episode(routes), nowMs: T0 + 1000 });
    expect(summary(r).now).toEqual(expected);
    expect(r.episode).toBeUndefined();
    for (const d of r.outbox?.routing?.deliveries ?? []) expect(d.alert.state).toBe('resolved');
  });

  test('resolved without an episode: nothing', () => {
    expect(routeAlert({ rules: rules([]), alert: alert('passing', 'info', 'resolved'), subject: 's', previous: undefined, nowMs: T0 })).toEqual({ episode: undefined, outbox: undefined });
  });
});

describe('routeAlert: momentary (events)', () => {
  test('every route now; for and repeat do not apply; no episode', () => {
    const r = routeAlert({ rules: rules([SLOW]), alert: { ...alert('deploy', 'info'), kind: 'event', title: 'INFO: event deploy' }, subject: 'event/1', previous: undefined, momentary: true, nowMs: T0 });
    expect(summary(r)).toEqual({ now: ['INFO: event deploy -> slack'], timers: [] });
    expect(r.episode).toBeUndefined();
  });

  test('a resolved alert without episode skips routes with resolved: false', () => {
    const set = rules([{ name: 'quiet', channels: ['slack'], resolved: false, continue: true }, { name: 'all', channels: ['pager'] }]);
    const r = routeAlert({ rules: set, alert: alert('alive', 'info', 'resolved'), subject: 'member/x', previous: undefined, momentary: true, nowMs: T0 });
    expect(summary(r).now).toEqual(['RESOLVED: http on web-1 -> pager']);
  });
});

describe('fireTimer', () => {
  const set = rules([SLOW]);
  const opened = routeAlert({ rules: set, alert: alert('critical', 'critical'), subject: 's', previous: undefined, nowMs: T0 });
  const forTimer = opened.outbox!.routing!.timers[0] as SubjectTimer;

  test('for: the condition persisted -> notify, mark notified, schedule the first reminder', () => {
    const out = fireTimer(forTimer, opened.episode, T0 + 120_000);
    expect(out.outbox!.routing!.deliveries.map((d) => `${d.alert.title} -> ${d.channels}`)).toEqual(['CRITICAL: http on web-1 -> slack']);
    expect(out.outbox!.routing!.timers.map((t) => `${t.kind}/${(t as SubjectTimer).seq}@+${(t.dueAt - T0) / 1000}s`)).toEqual(['repeat/0@+720s']);
    expect(out.episode!.routes.slow!.notifiedAt).toBe(T0 + 120_000);
  });

  test.each([
    ['the episode ended (resolved)', undefined],
    ['a different episode (changed since)', { ...opened.episode!, id: 'other' }],
    ['already notified (duplicate timer)', { ...opened.episode!, routes: { slow: { ...opened.episode!.routes.slow!, notifiedAt: T0 + 1 } } }],
  ] as Array<[string, Episode | undefined]>)('for: %s -> nothing', (_n, stored) => {
    expect(fireTimer(forTimer, stored, T0 + 120_000).outbox).toBeUndefined();
  });

  test('repeat: a reminder with its own id and number, the next one scheduled; a duplicate does nothing', () => {
    const notified = fireTimer(forTimer, opened.episode, T0 + 120_000);
    const repeat = notified.outbox!.routing!.timers[0] as SubjectTimer;
    const first = fireTimer(repeat, notified.episode, T0 + 720_000);
    const sent = first.outbox!.routing!.deliveries[0]!.alert;
    expect(sent).toMatchObject({ reminder: 1, id: 'a-critical-r1', title: 'CRITICAL: http on web-1' });
    expect((first.outbox!.routing!.timers[0] as SubjectTimer).seq).toBe(1);
    expect(fireTimer(repeat, first.episode, T0 + 721_000).outbox).toBeUndefined();
  });
});

describe('variant', () => {
  test('relabels titles that follow the "LABEL: what" convention, leaves others', () => {
    expect(variant(alert('critical', 'critical'), 'warning', 'firing', ['r']).title).toBe('WARNING: http on web-1');
    expect(variant({ ...alert('critical', 'critical'), title: 'custom title' }, 'warning', 'firing', ['r']).title).toBe('custom title');
    expect(variant(alert('critical', 'critical'), 'critical', 'resolved', ['r']).title).toBe('RESOLVED: http on web-1');
  });
});
