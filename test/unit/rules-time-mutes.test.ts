/**
 * Routes muted by time intervals (muteTimeIntervals / activeTimeIntervals), table-driven:
 * what a muted notice becomes (a firing notice waits for the mute's end, a reminder too; a
 * resolved or momentary notice is dropped), and the config checks with their paths.
 */
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { fireTimer, muteEntry, routeAlert, silenceEnded, SILENCED_UNTIL, type TimeMutes } from '../../lambdas/domain/rules/episodes';
import { routeTimes } from '../../lambdas/domain/rules/evaluate';
import type { SubjectTimer } from '../../lambdas/domain/rules/outbox';
import type { RuleSpec, RuntimeConfig } from '../../lambdas/domain/rules/types';
import type { Alert } from '../../lambdas/domain/types';

// Wednesday 2026-12-02; Berlin is UTC+1.
const NIGHT = Date.parse('2026-12-02T21:00:00Z'); // 22:00 Berlin
const MORNING = Date.parse('2026-12-03T08:00:00Z'); // 09:00 Berlin
const NOON = Date.parse('2026-12-03T11:00:00Z');

const config = (list: RuleSpec[]): RuntimeConfig => ({
  clusters: ['prod'],
  channels: { pager: { type: 'email' }, chat: { type: 'slack' } },
  defaults: { channels: ['pager'], resolved: true },
  rules: list,
  grouping: { windowSeconds: 60, threshold: 20 },
  timeIntervals: { workingHours: [{ weekdays: [[1, 5]], times: [{ start: 540, end: 1020 }], location: 'Europe/Berlin' }] },
});
const CHAT_IN_HOURS: RuleSpec = { name: 'chat', match: { severity: 'warning' }, channels: ['chat'], activeTimeIntervals: ['workingHours'], repeat: 3600 };
const rules = compileRules(config([CHAT_IN_HOURS]));
const mutes: TimeMutes = { intervals: rules.intervals, times: (rule) => routeTimes(rules, rule) };

const alert = (state: Alert['state'], at: number, id = 'a1'): Alert => ({
  id,
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: 'warning',
  state,
  node: 'web-1',
  check: 'disk',
  title: `${state === 'resolved' ? 'RESOLVED' : 'WARNING'}: disk on web-1`,
  from: state === 'resolved' ? 'warning' : 'passing',
  to: state === 'resolved' ? 'passing' : 'warning',
  at: new Date(at).toISOString(),
  details: [],
});

const iso = (ms: number) => new Date(ms).toISOString();

describe('a firing notice inside a mute waits for its end', () => {
  test.each([
    ['at night: no delivery, a `for` step at 09:00 Berlin', NIGHT, { now: [], timers: [`for:chat@${iso(MORNING)}`], muted: [`chat: outside workingHours, deferred until ${iso(MORNING)}`] }],
    ['in working hours: delivered now, a reminder after repeat', NOON, { now: ['chat'], timers: [`repeat:chat@${iso(NOON + 3600_000)}`], muted: [] }],
  ])('%s', (_n, at, expected) => {
    const r = routeAlert({ rules, alert: alert('firing', at), subject: 'check/web-1/disk', previous: undefined, nowMs: at });
    const routing = r.outbox?.routing;
    expect({
      now: routing?.deliveries.flatMap((d) => d.channels) ?? [],
      timers: routing?.timers.map((t) => `${t.kind}:${t.rule}@${iso(t.dueAt)}`) ?? [],
      muted: (routing?.muted ?? []).map((m) => `${m.rule}: ${m.reason}, ${m.outcome} until ${m.until}`),
    }).toEqual(expected);
    expect(r.episode?.routes.chat?.notifiedAt).toBe(at === NIGHT ? undefined : NOON);
  });

  test('the deferred step fires at 09:00 and notifies; fired at night again, it waits again', () => {
    const opened = routeAlert({ rules, alert: alert('firing', NIGHT), subject: 'check/web-1/disk', previous: undefined, nowMs: NIGHT });
    const step = opened.outbox!.routing!.timers[0] as SubjectTimer;
    const early = fireTimer(step, opened.episode, NIGHT + 3600_000, mutes);
    expect(early.outbox?.routing?.deliveries).toEqual([]);
    expect(early.outbox?.routing?.timers.map((t) => iso(t.dueAt))).toEqual([iso(MORNING)]);
    expect(early.episode).toBe(opened.episode);
    const fired = fireTimer(step, opened.episode, MORNING, mutes);
    expect(fired.outbox?.routing?.deliveries.map((d) => `${d.alert.title} -> ${d.channels.join('+')}`)).toEqual(['WARNING: disk on web-1 -> chat']);
    expect(fired.episode?.routes.chat?.notifiedAt).toBe(MORNING);
  });

  test('a reminder due at night goes out at 09:00 (same step)', () => {
    const opened = routeAlert({ rules, alert: alert('firing', NOON - 86_400_000), subject: 'check/web-1/disk', previous: undefined, nowMs: NOON - 86_400_000 });
    const reminder = { ...(opened.outbox!.routing!.timers[0] as SubjectTimer), dueAt: NIGHT };
    const atNight = fireTimer(reminder, opened.episode, NIGHT, mutes);
    expect(atNight.outbox?.routing?.timers.map((t) => `${t.kind}#${t.seq}@${iso(t.dueAt)}`)).toEqual([`repeat#0@${iso(MORNING)}`]);
    const atNine = fireTimer({ ...reminder, dueAt: MORNING }, opened.episode, MORNING, mutes);
    expect(atNine.outbox?.routing?.deliveries[0]?.alert.reminder).toBe(1);
  });

  test('a change (warning -> critical) at night to a route that heard the episode: a reminder at 09:00 with the new severity', () => {
    const set = compileRules(config([{ name: 'chat', channels: ['chat'], activeTimeIntervals: ['workingHours'] }]));
    const setMutes: TimeMutes = { intervals: set.intervals, times: (rule) => routeTimes(set, rule) };
    const opened = routeAlert({ rules: set, alert: alert('firing', NOON - 86_400_000), subject: 'check/web-1/disk', previous: undefined, nowMs: NOON - 86_400_000 });
    const worse: Alert = { ...alert('firing', NIGHT, 'a3'), severity: 'critical', to: 'critical', title: 'CRITICAL: disk on web-1' };
    const changed = routeAlert({ rules: set, alert: worse, subject: 'check/web-1/disk', previous: opened.episode, nowMs: NIGHT });
    expect(changed.outbox?.routing?.deliveries).toEqual([]);
    expect(changed.episode?.routes.chat?.notifiedAt).toBe(NOON - 86_400_000);
    const [step] = changed.outbox!.routing!.timers as SubjectTimer[];
    expect(`${step!.kind}#${step!.seq}@${iso(step!.dueAt)}`).toBe(`repeat#0@${iso(MORNING)}`);
    const fired = fireTimer(step!, changed.episode, MORNING, setMutes);
    expect(fired.outbox?.routing?.deliveries.map((d) => `${d.alert.title} (reminder ${d.alert.reminder}) -> ${d.channels.join('+')}`)).toEqual(['CRITICAL: disk on web-1 (reminder 1) -> chat']);
  });

  test('without the intervals (no mutes given) the step fires as before', () => {
    const opened = routeAlert({ rules, alert: alert('firing', NIGHT), subject: 'check/web-1/disk', previous: undefined, nowMs: NIGHT });
    expect(fireTimer(opened.outbox!.routing!.timers[0] as SubjectTimer, opened.episode, NIGHT).outbox?.routing?.deliveries).toHaveLength(1);
  });
});

describe('a silence that ends inside a mute interval', () => {
  test('its announcement waits for the mute to end (a `for` step carrying the silenced-until line); without intervals it goes out now', () => {
    const opened = routeAlert({ rules, alert: alert('firing', NOON - 86_400_000), subject: 'check/web-1/disk', previous: undefined, nowMs: NOON - 86_400_000 });
    const silence = { id: 'S1', cluster: 'prod', matchers: {}, startsAt: '', endsAt: iso(NIGHT), author: 'a', comment: 'deploy', createdAt: '' };
    const held = muteEntry(undefined, opened.episode!, opened.outbox!, silence).episode;
    const atNight = silenceEnded('check/web-1/disk', 'prod', held, NIGHT, new Map(), mutes)!;
    expect(atNight.outbox.routing?.deliveries).toEqual([]);
    const [step] = atNight.outbox.routing!.timers;
    expect(`${step!.kind}@${iso(step!.dueAt)}`).toBe(`for@${iso(MORNING)}`);
    expect(step!.alert.details.find(([k]) => k === SILENCED_UNTIL)?.[1]).toContain('silence S1: deploy');
    expect(atNight.episode.routes.chat?.muted).toBeUndefined();
    expect(fireTimer(step!, atNight.episode, MORNING, mutes).outbox?.routing?.deliveries.map((d) => d.channels)).toEqual([['chat']]);
    expect(silenceEnded('check/web-1/disk', 'prod', held, NIGHT, new Map())!.outbox.routing?.deliveries).toHaveLength(1);
  });
});

describe('resolved and momentary notices inside a mute are dropped', () => {
  test('a RESOLVED at night to a route that heard the firing: dropped, said so', () => {
    const opened = routeAlert({ rules, alert: alert('firing', NOON - 86_400_000), subject: 'check/web-1/disk', previous: undefined, nowMs: NOON - 86_400_000 });
    const r = routeAlert({ rules, alert: alert('resolved', NIGHT, 'a2'), subject: 'check/web-1/disk', previous: opened.episode, nowMs: NIGHT });
    expect(r.episode).toBeUndefined();
    expect(r.outbox?.routing?.deliveries).toEqual([]);
    expect(r.outbox?.routing?.muted?.map((m) => `${m.rule} ${m.outcome}`)).toEqual(['chat dropped']);
  });

  test('a momentary notice at night: dropped for the muted route only', () => {
    const set = compileRules(config([{ ...CHAT_IN_HOURS, continue: true }, { name: 'page', channels: ['pager'] }]));
    const r = routeAlert({ rules: set, alert: alert('firing', NIGHT), subject: '', previous: undefined, momentary: true, nowMs: NIGHT });
    expect(r.outbox?.routing?.deliveries.flatMap((d) => d.channels)).toEqual(['pager']);
    expect(r.outbox?.routing?.muted?.map((m) => m.rule)).toEqual(['chat']);
  });
});

describe('config: timeIntervals and the rules naming them', () => {
  const doc = (extra: Record<string, unknown>) => ({ clusters: ['prod'], channels: { chat: { type: 'slack' } }, ...extra });
  test.each([
    [
      'an unknown interval name',
      doc({ timeIntervals: { workingHours: [{ weekdays: ['monday:friday'] }] }, rules: [{ name: 'r', activeTimeIntervals: ['workinghours'] }] }),
      [{ path: ['rules', 0, 'activeTimeIntervals', 0], reason: 'time interval "workinghours" is not defined under timeIntervals (defined: workingHours)' }],
    ],
    ['defaults too', doc({ defaults: { muteTimeIntervals: ['nights'] } }), [{ path: ['defaults', 'muteTimeIntervals', 0], reason: 'time interval "nights" is not defined under timeIntervals' }]],
    [
      'a range crossing midnight, a bad zone',
      doc({ timeIntervals: { nights: [{ times: [{ start: '22:00', end: '06:00' }], location: 'Mars/Olympus' }] } }),
      [
        { path: ['timeIntervals', 'nights', 0, 'times', 0], reason: expect.stringContaining('crossing midnight is two ranges') },
        { path: ['timeIntervals', 'nights', 0, 'location'], reason: expect.stringContaining('not an IANA time zone') },
      ],
    ],
    ['a bad weekday', doc({ timeIntervals: { w: [{ weekdays: ['monday:fri'] }] } }), [{ path: ['timeIntervals', 'w', 0, 'weekdays', 0], reason: expect.stringContaining('"fri" is not a weekday') }]],
    ['a suppress rule with intervals', doc({ timeIntervals: { w: [{ weekdays: ['monday'] }] }, rules: [{ name: 'r', suppress: true, muteTimeIntervals: ['w'] }] }), [{ path: ['rules', 0, 'suppress'], reason: expect.stringContaining('time intervals') }]],
  ])('%s', (_n, raw, issues) => expect(normalizeConfig(raw).issues).toEqual(issues));

  test('normalized: intervals in minutes and numbers, rules keep the names', () => {
    const { config: c, issues } = normalizeConfig(
      doc({ timeIntervals: { workingHours: [{ weekdays: ['monday:friday'], times: [{ start: '09:00', end: '17:00' }], months: ['december'], daysOfMonth: ['-7:-1'], years: [2026], location: 'Europe/Berlin' }] }, rules: [{ name: 'r', channels: ['chat'], activeTimeIntervals: ['workingHours'] }] }),
    );
    expect(issues).toEqual([]);
    expect(c.timeIntervals).toEqual({ workingHours: [{ weekdays: [[1, 5]], times: [{ start: 540, end: 1020 }], months: [[12, 12]], daysOfMonth: [[-7, -1]], years: [[2026, 2026]], location: 'Europe/Berlin' }] });
    expect(c.rules[0]).toEqual({ name: 'r', channels: ['chat'], activeTimeIntervals: ['workingHours'] });
  });
});
