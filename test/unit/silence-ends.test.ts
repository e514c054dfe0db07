/**
 * Silences that end, the decisions (domain/rules/episodes.ts): a muted firing notice is kept
 * on the episode's route, with no `notifiedAt` unless the route heard the episode before;
 * the RESOLVED goes only to routes that heard; the announcement when the silence ends goes
 * once, to the muted routes, with the "silenced until" line; a duplicate `for` timer clears it.
 */
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { fireTimer, muteEntry, routeAlert, silenceEnded, SILENCED_UNTIL, type Episode } from '../../lambdas/domain/rules/episodes';
import type { SubjectTimer } from '../../lambdas/domain/rules/outbox';
import type { Silence } from '../../lambdas/domain/rules/silences';
import type { RuleSpec } from '../../lambdas/domain/rules/types';
import type { Alert, Severity } from '../../lambdas/domain/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const SUBJECT = 'check/web-1/http';
const rules = (list: RuleSpec[]) =>
  compileRules({
    clusters: ['prod'],
    channels: { email: { type: 'email' }, pager: { type: 'email' } },
    defaults: { channels: ['email'], resolved: true },
    rules: list,
    grouping: { windowSeconds: 60, threshold: 20 },
  });
const alert = (to: string, severity: Severity, state: Alert['state'] = 'firing'): Alert => ({
  id: `a-${to}`,
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity,
  state,
  node: 'web-1',
  title: `${state === 'resolved' ? 'RESOLVED' : severity.toUpperCase()}: http on web-1`,
  from: 'passing',
  to,
  at: new Date(T0).toISOString(),
  details: [['output', 'HTTP 500']],
});
const silence = (id: string, endsAt = T0 + 60_000): Silence => ({
  id,
  cluster: 'prod',
  matchers: { node: 'web-1' },
  startsAt: new Date(T0).toISOString(),
  endsAt: new Date(endsAt).toISOString(),
  author: 'ops',
  comment: 'deploy',
  createdAt: new Date(T0).toISOString(),
});

/** A firing alert routed, then muted by `s` (what the engine does before it writes). */
function mutedFiring(list: RuleSpec[], s: Silence, previous?: Episode) {
  const r = routeAlert({ rules: rules(list), alert: alert('critical', 'critical'), subject: SUBJECT, previous, nowMs: T0 });
  return muteEntry(previous, r.episode!, r.outbox!, s);
}

describe('muting a firing episode', () => {
  it('delivers nothing, keeps the timers, and the route has not heard', () => {
    const { episode, entry } = mutedFiring([{ name: 'r', channels: ['pager'], repeat: 300 }], silence('s1'));
    expect(entry.routing).toMatchObject({ deliveries: [], timers: [{ kind: 'repeat', rule: 'r' }] });
    expect(entry.silencedBy).toBe('s1');
    expect(episode.routes.r!.notifiedAt).toBeUndefined();
    expect(episode.routes.r!.muted).toMatchObject({ silence: 's1', comment: 'deploy', alert: { title: 'CRITICAL: http on web-1', rules: ['r'] } });
  });

  it('a route muted and never notified does not get the RESOLVED; a route that heard before does', () => {
    const { episode } = mutedFiring([], silence('s1'));
    const resolved = routeAlert({ rules: rules([]), alert: alert('passing', 'info', 'resolved'), subject: SUBJECT, previous: episode, nowMs: T0 + 1000 });
    expect(resolved.outbox).toBeUndefined();

    // Heard the warning before the silence; the critical is muted: it still gets the RESOLVED.
    const warned = routeAlert({ rules: rules([]), alert: alert('warning', 'warning'), subject: SUBJECT, previous: undefined, nowMs: T0 - 5000 });
    const critical = routeAlert({ rules: rules([]), alert: alert('critical', 'critical'), subject: SUBJECT, previous: warned.episode, nowMs: T0 });
    const muted = muteEntry(warned.episode, critical.episode!, critical.outbox!, silence('s1'));
    expect(muted.episode.routes.default!.notifiedAt).toBe(T0 - 5000);
    const after = routeAlert({ rules: rules([]), alert: alert('passing', 'info', 'resolved'), subject: SUBJECT, previous: muted.episode, nowMs: T0 + 1000 });
    expect(after.outbox?.routing?.deliveries.map((d) => d.channels)).toEqual([['email']]);
  });

  it('a repeat timer for a muted, never-notified route sends nothing', () => {
    const { episode, entry } = mutedFiring([{ name: 'r', channels: ['pager'], repeat: 300 }], silence('s1'));
    expect(fireTimer(entry.routing!.timers[0]!, episode, T0 + 300_000).outbox).toBeUndefined();
  });
});

describe('the silence ends', () => {
  it('announces once to the muted routes, saying until when, and starts their reminders', () => {
    const { episode } = mutedFiring([{ name: 'r', channels: ['pager'], repeat: 300 }], silence('s1'));
    const out = silenceEnded(SUBJECT, 'prod', episode, T0 + 61_000)!;
    expect(out.outbox.routing!.deliveries).toEqual([
      { alert: expect.objectContaining({ title: 'CRITICAL: http on web-1', rules: ['r'], details: [['output', 'HTTP 500'], [SILENCED_UNTIL, `${new Date(T0 + 60_000).toISOString()} (silence s1: deploy)`]] }), channels: ['pager'] },
    ]);
    expect(out.outbox.routing!.timers).toMatchObject([{ kind: 'repeat', rule: 'r', seq: 0, dueAt: T0 + 361_000, subject: SUBJECT }]);
    expect(out.episode.routes.r).toMatchObject({ notifiedAt: T0 + 61_000 });
    expect(out.episode.routes.r!.muted).toBeUndefined();
    // Done: a second sweep finds nothing; the RESOLVED now goes to the route.
    expect(silenceEnded(SUBJECT, 'prod', out.episode, T0 + 62_000)).toBeUndefined();
    const resolved = routeAlert({ rules: rules([{ name: 'r', channels: ['pager'], repeat: 300 }]), alert: alert('passing', 'info', 'resolved'), subject: SUBJECT, previous: out.episode, nowMs: T0 + 70_000 });
    expect(resolved.outbox?.routing?.deliveries.map((d) => d.channels)).toEqual([['pager']]);
  });

  it('an early expiry: the line says when it really ended; muted again by another silence: one line, the latest', () => {
    const { episode } = mutedFiring([], silence('s1'));
    const out = silenceEnded(SUBJECT, 'prod', episode, T0 + 10_000, new Map([['s1', { endsAt: new Date(T0 + 5000).toISOString(), comment: 'deploy' }]]))!;
    expect(out.outbox.routing!.deliveries[0]!.alert.details).toContainEqual([SILENCED_UNTIL, `${new Date(T0 + 5000).toISOString()} (silence s1: deploy)`]);
    const again = muteEntry(episode, out.episode, out.outbox, silence('s2', T0 + 120_000));
    expect(again.episode.routes.default!.notifiedAt).toBeUndefined();
    const last = silenceEnded(SUBJECT, 'prod', again.episode, T0 + 121_000)!;
    expect(last.outbox.routing!.deliveries[0]!.alert.details.filter(([k]) => k === SILENCED_UNTIL)).toEqual([[SILENCED_UNTIL, `${new Date(T0 + 120_000).toISOString()} (silence s2: deploy)`]]);
  });

  it('a resolved episode (gone) or one never muted: nothing', () => {
    expect(silenceEnded(SUBJECT, 'prod', undefined, T0)).toBeUndefined();
    const r = routeAlert({ rules: rules([]), alert: alert('critical', 'critical'), subject: SUBJECT, previous: undefined, nowMs: T0 });
    expect(silenceEnded(SUBJECT, 'prod', r.episode, T0)).toBeUndefined();
  });

  it('a `for` timer that delivers after the silence ended clears the muted notice (no second announcement)', () => {
    const r = routeAlert({ rules: rules([{ name: 'slow', channels: ['pager'], for: 120 }]), alert: alert('critical', 'critical'), subject: SUBJECT, previous: undefined, nowMs: T0 });
    const timer = r.outbox!.routing!.timers[0] as SubjectTimer;
    const mutedAtFor = fireTimer(timer, r.episode, T0 + 120_000);
    const muted = muteEntry(r.episode, mutedAtFor.episode!, mutedAtFor.outbox!, silence('s1'));
    expect(muted.episode.routes.slow!.notifiedAt).toBeUndefined();
    const duplicate = fireTimer(timer, muted.episode, T0 + 200_000);
    expect(duplicate.outbox?.routing?.deliveries).toHaveLength(1);
    expect(duplicate.episode!.routes.slow!.muted).toBeUndefined();
    expect(silenceEnded(SUBJECT, 'prod', duplicate.episode, T0 + 201_000)).toBeUndefined();
  });
});
