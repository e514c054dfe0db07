/**
 * Inhibition's moving parts around the pure rule: which decisions record or forget a firing
 * source (sources/routing.ts), the engine writing the record before the episode and removing
 * it after (transition-engine.ts), and the Inhibitor confirming a source against its stored
 * episode, removing an entry that outlived it (app/inhibition.ts).
 */
import { Inhibitor } from '../../lambdas/app/inhibition';
import type { FiringSources } from '../../lambdas/app/delivery-ports';
import type { OutboxPublisher } from '../../lambdas/app/ports';
import { routeDecision, type AlertRole, type SourceDecision } from '../../lambdas/app/sources/routing';
import { TransitionEngine, type Decision } from '../../lambdas/app/transition-engine';
import type { Episodic } from '../../lambdas/domain/rules/episodes';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import type { FiringSource } from '../../lambdas/domain/rules/inhibit';
import type { MatchFacts } from '../../lambdas/domain/rules/types';
import type { Alert } from '../../lambdas/domain/types';
import { StrictMemoryStore } from '../support/strict-fakes';

const T0 = Date.parse('2026-12-02T00:00:00Z');
const clock = { nowMs: () => T0 };
const rules = compileRules({
  clusters: ['prod'],
  channels: { ops: { type: 'email' } },
  defaults: { channels: ['ops'], resolved: true },
  rules: [],
  grouping: { windowSeconds: 60, threshold: 20 },
  inhibit: [{ source: { check: 'serfHealth', status: 'critical' }, target: { check: { not: 'serfHealth' } }, equal: ['node'] }],
});

type State = Episodic & { status: string };
const alert = (check: string, to: string, state: Alert['state'] = 'firing'): Alert => ({
  id: `${check}-${to}`,
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: to === 'critical' ? 'critical' : 'warning',
  state,
  node: 'n1',
  check,
  title: `${to.toUpperCase()}: ${check} on n1`,
  to,
  at: new Date(T0).toISOString(),
  details: [],
});
const write = (status: string, a: Alert): SourceDecision<State> => ({ kind: 'write', state: { status }, alert: a });
const decide = (subject: string, previous: State | undefined, d: SourceDecision<State>, role: AlertRole = 'episode') => routeDecision({ rules, clock }, subject, previous, d, () => ({ role })) as Extract<Decision<State>, { kind: 'write' }>;

describe('routeDecision: which decisions record or forget a firing source', () => {
  const opened = decide('check/n1/serfHealth', undefined, write('critical', alert('serfHealth', 'critical')));

  test('a firing source: recorded with its facts, and its episode marked', () => {
    expect(opened.firing).toEqual({ kind: 'source', source: { subject: 'check/n1/serfHealth', episode: 'serfHealth-critical', facts: expect.objectContaining({ node: 'n1', check: 'serfHealth', status: 'critical' }), recordedAt: T0 } });
    expect(opened.state.episode?.inhibits).toBe(true);
  });

  test.each([
    ['it resolves: forgotten', write('passing', alert('serfHealth', 'passing', 'resolved')), { kind: 'ended' }],
    ['it changes to a status no rule calls a source: forgotten', write('warning', alert('serfHealth', 'warning')), { kind: 'ended' }],
    ['it changes and still matches: recorded again (the new episode id)', write('critical', { ...alert('serfHealth', 'critical'), id: 'again' }), { kind: 'source', source: expect.objectContaining({ episode: 'again' }) }],
  ])('%s', (_n, next, mark) => expect(decide('check/n1/serfHealth', opened.state, next).firing).toEqual(mark));

  test('an alert no rule calls a source: nothing recorded', () => {
    const d = decide('check/n1/service:web', undefined, write('critical', alert('service:web', 'critical')));
    expect(d.firing).toBeUndefined();
    expect(d.state.episode?.inhibits).toBeUndefined();
  });

  test('a recorded source ends under a config without inhibit rules: still forgotten', () => {
    const bare = compileRules({ ...rules.config, inhibit: [] });
    const d = routeDecision({ rules: bare, clock }, 'check/n1/serfHealth', opened.state, write('passing', alert('serfHealth', 'passing', 'resolved')), () => ({ role: 'episode' })) as Extract<Decision<State>, { kind: 'write' }>;
    expect(d.firing).toEqual({ kind: 'ended' });
  });

  test('a momentary notice leaves the record as it is', () => expect(decide('check/n1/serfHealth', opened.state, write('critical', alert('serfHealth', 'critical')), 'notice').firing).toBeUndefined());
});

class MemoryFiringSources implements FiringSources {
  readonly entries = new Map<string, FiringSource>();
  readonly calls: string[] = [];
  async add(_cluster: string, s: FiringSource) {
    this.calls.push(`add ${s.subject}`);
    this.entries.set(s.subject, s);
  }
  async remove(_cluster: string, subject: string) {
    this.calls.push(`remove ${subject}`);
    this.entries.delete(subject);
  }
  async list() {
    this.calls.push('list');
    return [...this.entries.values()];
  }
}

describe('the engine keeps the record around the episode write', () => {
  test('added before the subject is written, removed after its episode ended', async () => {
    const store = new StrictMemoryStore();
    const sources = new MemoryFiringSources();
    const order: string[] = sources.calls;
    const put = store.put.bind(store);
    store.put = async (...args) => {
      order.push(`put ${args[1]}`);
      return put(...args);
    };
    const publisher: OutboxPublisher = { dispatch: async () => undefined, firingSources: sources };
    const engine = new TransitionEngine({ subjects: store, publisher, clock });
    await engine.apply<State>('prod', 'check/n1/serfHealth', (prev) => decide('check/n1/serfHealth', prev?.state, write('critical', alert('serfHealth', 'critical'))));
    await engine.apply<State>('prod', 'check/n1/serfHealth', (prev) => decide('check/n1/serfHealth', prev?.state, write('passing', alert('serfHealth', 'passing', 'resolved'))));
    expect(order).toEqual(['add check/n1/serfHealth', 'put check/n1/serfHealth', 'put check/n1/serfHealth', 'remove check/n1/serfHealth']);
  });
});

describe('Inhibitor: a recorded source is confirmed against its episode', () => {
  const target = { subject: 'check/n1/service:web', facts: { source: 'consul', kind: 'check', cluster: 'prod', node: 'n1', check: 'service:web', status: 'critical' } as MatchFacts };
  const source: FiringSource = { subject: 'check/n1/serfHealth', episode: 'e1', facts: { source: 'consul', kind: 'check', cluster: 'prod', node: 'n1', check: 'serfHealth', status: 'critical' } };
  const subjects = (inhibits: boolean | undefined) => ({ get: async () => (inhibits === undefined ? undefined : { rev: 1, state: { episode: { id: 'e1', startedAt: T0, status: 'critical', routes: {}, ...(inhibits ? { inhibits: true as const } : {}) } } }) }) as never;

  test('firing: inhibits', async () => {
    const sources = new MemoryFiringSources();
    await sources.add('prod', source);
    const found = await new Inhibitor(rules.inhibit, sources, subjects(true)).inhibiting(target, T0);
    expect(found?.source.subject).toBe('check/n1/serfHealth');
  });

  test.each([
    ['subject is gone', undefined],
    ['episode is no longer a source', false],
  ])('an entry whose %s: removed, nothing inhibited', async (_n, inhibits) => {
    const sources = new MemoryFiringSources();
    await sources.add('prod', source);
    const errors: string[] = [];
    const found = await new Inhibitor(rules.inhibit, sources, subjects(inhibits), { info: () => undefined, error: (m) => errors.push(m) }).inhibiting(target, T0);
    expect(found).toBeUndefined();
    expect(sources.entries.size).toBe(0);
    expect(errors).toEqual(['stale firing source removed']);
  });

  test('an entry recorded a moment ago that its subject does not back yet (its write under way): inhibits, kept', async () => {
    const sources = new MemoryFiringSources();
    await sources.add('prod', { ...source, recordedAt: T0 - 1000 });
    const found = await new Inhibitor(rules.inhibit, sources, subjects(undefined)).inhibiting(target, T0);
    expect(found?.source.subject).toBe('check/n1/serfHealth');
    expect(sources.entries.size).toBe(1);
    expect(await new Inhibitor(rules.inhibit, sources, subjects(undefined)).inhibiting(target, T0 + 60_000)).toBeUndefined();
    expect(sources.entries.size).toBe(0);
  });

  test('an alert no rule targets: the sources are not even read', async () => {
    const sources = new MemoryFiringSources();
    expect(await new Inhibitor(rules.inhibit, sources, subjects(true)).inhibiting({ subject: 'check/n1/serfHealth', facts: source.facts }, T0)).toBeUndefined();
    expect(sources.calls).toEqual([]);
  });
});
