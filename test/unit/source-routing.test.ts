/**
 * The rules glue the Consul and Serf sources share (app/sources/routing.ts): how each
 * role treats the episode stored with the subject, and that the episode survives a
 * state built afresh.
 */
import { keyValueTags, routeDecision, type AlertRole, type SourceDecision } from '../../lambdas/app/sources/routing';
import type { Decision } from '../../lambdas/app/transition-engine';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import type { Episode, Episodic } from '../../lambdas/domain/rules/episodes';
import type { RuleSpec } from '../../lambdas/domain/rules/types';
import type { Alert, Severity } from '../../lambdas/domain/types';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const clock = { nowMs: () => T0 };
const rules = (list: RuleSpec[]) =>
  compileRules({
    clusters: ['prod'],
    channels: { email: { type: 'email' }, chat: { type: 'slack' }, pager: { type: 'slack' } },
    defaults: { channels: ['email'], resolved: true },
    rules: list,
    grouping: { windowSeconds: 60, threshold: 20 },
  });

type State = Episodic & { status: string };

const alert = (to: string, severity: Severity, state: Alert['state'] = 'firing', what = 'member m'): Alert => ({
  id: `a-${to}`,
  cluster: 'prod',
  source: 'serf',
  kind: 'member',
  severity,
  state,
  node: 'm',
  title: `${state === 'resolved' ? 'RESOLVED' : severity.toUpperCase()}: ${what} ${to}`,
  to,
  at: new Date(T0).toISOString(),
  details: [],
});

const write = (status: string, a?: Alert): SourceDecision<State> => ({ kind: 'write', state: { status }, ...(a ? { alert: a } : {}) });
const delivered = (d: Decision<State>) => (d.kind === 'write' ? (d.outbox?.routing?.deliveries.map((x) => `${x.alert.title} -> ${x.channels.join('+')}`) ?? []) : []);
const episodeOf = (d: Decision<State>) => (d.kind === 'write' ? d.state.episode : undefined);

/** An episode opened by a `failed` alert, with `chat` notified and `pager` still waiting. */
function opened(): Episode {
  const d = routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 'member/m', undefined, write('failed', alert('failed', 'critical')), () => ({ role: 'episode' }));
  return episodeOf(d)!;
}
const CHAT_AND_SLOW_PAGER = rules([
  { name: 'chat', match: { to: 'failed' }, channels: ['chat'], continue: true },
  { name: 'pager', match: { to: 'failed' }, channels: ['pager'], for: 60 },
]);

describe('routeDecision', () => {
  test('episode: a firing alert opens the episode, stored with the new state', () => {
    const d = routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 'member/m', undefined, write('failed', alert('failed', 'critical')), () => ({ role: 'episode' }));
    expect(delivered(d)).toEqual(['CRITICAL: member m failed -> chat']);
    expect(d.kind === 'write' && d.outbox?.routing?.timers.map((t) => `${t.kind}:${t.rule}`)).toEqual(['for:pager']);
    expect(Object.keys(episodeOf(d)!.routes)).toEqual(['chat', 'pager']);
  });

  test('episode: the resolved alert goes to the notified routes only and ends the episode', () => {
    const d = routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 'member/m', { status: 'failed', episode: opened() }, write('alive', alert('alive', 'info', 'resolved')), () => ({ role: 'episode' }));
    expect(delivered(d)).toEqual(['RESOLVED: member m alive -> chat']);
    expect(d.kind === 'write' && 'episode' in d.state).toBe(false);
  });

  test('resolves: a firing notice closes the episode as its RESOLVED alert; nobody notified, nobody hears', () => {
    const d = routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 'service/web', { status: 'failed', episode: opened() }, write('registered', alert('registered', 'info')), () => ({ role: 'resolves' }));
    expect(delivered(d)).toEqual(['RESOLVED: member m registered -> chat']);
    expect(d.kind === 'write' && d.outbox?.alert.state).toBe('resolved');
    expect(episodeOf(d)).toBeUndefined();

    const quiet = routeDecision({ rules: rules([{ name: 'slow', channels: ['pager'], for: 60 }]), clock }, 's', { status: 'x', episode: { ...opened(), routes: {} } }, write('registered', alert('registered', 'info')), () => ({ role: 'resolves' }));
    expect(quiet).toEqual({ kind: 'write', state: { status: 'registered' } });
  });

  test.each([
    ['notice', true],
    ['final', false],
  ] as Array<[AlertRole, boolean]>)('%s: delivered now, `for` ignored; episode kept: %s', (role, kept) => {
    const episode = opened();
    const d = routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 'member/m', { status: 'failed', episode }, write('reaped', alert('reaped', 'info')), () => ({ role }));
    expect(delivered(d)).toEqual(['INFO: member m reaped -> email']);
    expect(episodeOf(d)).toEqual(kept ? episode : undefined);
  });

  test('facts reach the rules', () => {
    const set = rules([{ name: 'db', match: { tags: 'role=db', nodeMeta: { dc: 'eu' } }, channels: ['pager'] }]);
    const tags = { role: 'db', dc: 'eu' };
    const d = routeDecision({ rules: set, clock }, 'member/m', undefined, write('failed', alert('failed', 'critical')), () => ({ role: 'episode', facts: { tags: keyValueTags(tags), nodeMeta: tags } }));
    expect(delivered(d)).toEqual(['CRITICAL: member m failed -> pager']);
    expect(keyValueTags({ z: '1', a: 'x=y' })).toEqual(['a=x=y', 'z=1']);
  });

  test('a write without an alert, or without rules, keeps the stored episode in a state built afresh', () => {
    const episode = opened();
    expect(routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 's', { status: 'failed', episode }, write('failed'), () => ({ role: 'episode' }))).toEqual({ kind: 'write', state: { status: 'failed', episode } });
    const raw = alert('left', 'warning');
    expect(routeDecision({ clock }, 's', { status: 'failed', episode }, write('left', raw), () => ({ role: 'episode' }))).toEqual({ kind: 'write', state: { status: 'left', episode }, outbox: { alert: raw } });
    expect(routeDecision({ rules: CHAT_AND_SLOW_PAGER, clock }, 's', { status: 'failed', episode }, { kind: 'ignore' }, () => ({ role: 'episode' }))).toEqual({ kind: 'ignore' });
  });
});
