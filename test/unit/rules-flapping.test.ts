/**
 * Flap detection (rules/flapping.ts), pure: the sliding window, the hysteresis (enter at N
 * changes, leave after `stableSeconds` without one, counting afresh after), the bounded
 * history, the notices, and the config that sets it.
 */
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { FLAP_DEFAULTS, FLAP_OUTPUT_CHARS, flapEnd, flapSpecFor, observeChange, type FlapSpec, type FlapState, type Flappy } from '../../lambdas/domain/rules/flapping';
import { routeDecision } from '../../lambdas/app/sources/routing';
import { isOverdue, pendingSortKey } from '../../lambdas/domain/rules/pending';
import type { Episodic } from '../../lambdas/domain/rules/episodes';
import { alertFacts } from '../../lambdas/domain/rules/episodes';
import { vocabularyIssues } from '../../lambdas/domain/rules/vocabulary';
import { compileMatch } from '../../lambdas/domain/rules/matchers';
import type { Alert } from '../../lambdas/domain/types';
import { encodeSubjectBody } from '../../lambdas/adapters/subject-record-codec';
import { parseConfigText } from '../../lambdas/commons/config-file';

const SPEC: FlapSpec = { changes: 4, windowSeconds: 60, stableSeconds: 30 };
const T0 = Date.parse('2026-12-02T08:00:00Z');

function change(to: 'critical' | 'passing', output = to === 'critical' ? 'connection refused' : 'HTTP 200 OK', from?: string): Alert {
  const firing = to === 'critical';
  return {
    id: `a-${to}-${Math.random()}`,
    cluster: 'dc1',
    source: 'consul',
    kind: 'check',
    severity: firing ? 'critical' : 'info',
    state: firing ? 'firing' : 'resolved',
    node: 'web-1',
    check: 'service:web',
    title: `${firing ? 'CRITICAL' : 'RESOLVED'}: web check on web-1`,
    from: from ?? (firing ? 'passing' : 'critical'),
    to,
    at: new Date(T0).toISOString(),
    details: [['Status', `${from ?? (firing ? 'passing' : 'critical')} -> ${to}`], ['Output', output]],
  };
}

/** Feeds alternating changes at the given seconds; returns each verdict and the last state. */
function run(seconds: number[], spec = SPEC, start: FlapState | undefined = undefined) {
  let state = start;
  const verdicts: string[] = [];
  seconds.forEach((s, i) => {
    const out = observeChange({ state, alert: change(i % 2 === 0 ? 'critical' : 'passing'), facts: {}, subject: 'check/web-1/service:web', spec, nowMs: T0 + s * 1000 });
    state = out.flap;
    verdicts.push(out.verdict.kind);
  });
  return { verdicts, state: state! };
}

describe('the window', () => {
  it.each([
    ['4 changes within 60 s: flapping at the 4th', [0, 10, 20, 30], ['ordinary', 'ordinary', 'ordinary', 'start']],
    ['3 changes: ordinary', [0, 10, 20], ['ordinary', 'ordinary', 'ordinary']],
    ['4 changes over 90 s: the first has left the window', [0, 30, 60, 90], ['ordinary', 'ordinary', 'ordinary', 'ordinary']],
    ['a 5th change inside the window after the first left it: flapping', [0, 30, 60, 70, 80], ['ordinary', 'ordinary', 'ordinary', 'ordinary', 'start']],
    ['changes after it began: during', [0, 1, 2, 3, 4, 5], ['ordinary', 'ordinary', 'ordinary', 'start', 'during', 'during']],
  ])('%s', (_name, seconds, expected) => {
    expect(run(seconds).verdicts).toEqual(expected);
  });

  it('the default is 6 changes in 10 minutes, stable for 10 minutes', () => {
    expect(FLAP_DEFAULTS).toEqual({ changes: 6, windowSeconds: 600, stableSeconds: 600 });
    expect(run([0, 100, 200, 300, 400], FLAP_DEFAULTS).verdicts.at(-1)).toBe('ordinary');
    expect(run([0, 100, 200, 300, 400, 500], FLAP_DEFAULTS).verdicts.at(-1)).toBe('start');
  });

  it('an alert that is no change (a release after maintenance: from = to) is not counted', () => {
    let state: FlapState | undefined;
    for (let i = 0; i < 6; i++) {
      const out = observeChange({ state, alert: change('critical', 'x', 'critical'), facts: {}, subject: 's', spec: SPEC, nowMs: T0 + i * 1000 });
      state = out.flap;
      expect(out.verdict.kind).toBe('ordinary');
    }
    expect(state!.changes).toEqual([]);
  });
});

describe('the hysteresis', () => {
  const flapping = run([0, 1, 2, 3, 4, 5]).state;
  const id = flapping.flapping!.id;

  it('ends stableSeconds after the last change, not before; a stale timer (another stretch) does nothing', () => {
    expect(flapEnd(flapping, id, T0 + 5_000 + 29_999)).toEqual({ kind: 'not-yet', dueAt: T0 + 35_000 });
    expect(flapEnd(flapping, 'another', T0 + 60_000)).toEqual({ kind: 'none' });
    expect(flapEnd({ changes: [] }, id, T0 + 60_000)).toEqual({ kind: 'none' });
    const end = flapEnd(flapping, id, T0 + 35_000);
    expect(end.kind).toBe('ended');
  });

  it('the end notice is the last change, saying it no longer flaps; counting starts afresh', () => {
    const end = flapEnd(flapping, id, T0 + 35_000);
    if (end.kind !== 'ended') throw new Error(end.kind);
    // The 6th change (index 5) was critical -> passing.
    expect(end.notice).toMatchObject({ state: 'resolved', to: 'passing', title: 'RESOLVED: web check on web-1 (no longer flapping: now passing)' });
    expect(end.notice.details[0]).toEqual(['Flapping', 'ended: no change since 2026-12-02T08:00:05Z (30s); 3 changes since 2026-12-02T08:00:03Z']);
    expect(end.flap).toEqual({ changes: [] });
    // Three more changes after it ended do not make it flap again at once.
    expect(run([40, 41, 42], SPEC, end.flap).verdicts).toEqual(['ordinary', 'ordinary', 'ordinary']);
  });

  it('ending on a firing change gives a firing notice at its severity', () => {
    const { state } = run([0, 1, 2, 3, 4]); // the 5th (index 4) is passing -> critical
    const end = flapEnd(state, state.flapping!.id, T0 + 60_000);
    if (end.kind !== 'ended') throw new Error(end.kind);
    expect(end.notice).toMatchObject({ state: 'firing', severity: 'critical', to: 'critical', title: 'CRITICAL: web check on web-1 (no longer flapping: now critical)' });
  });
});

describe('the FLAPPING notice and the history bound', () => {
  it('firing, at the worst severity of the window, with the changes oldest first, outputs cut', () => {
    const long = 'x'.repeat(500);
    let state: FlapState | undefined;
    let verdict;
    for (let i = 0; i < 4; i++) {
      const out = observeChange({ state, alert: change(i % 2 === 0 ? 'critical' : 'passing', long), facts: { checkName: 'web' }, subject: 's', spec: SPEC, nowMs: T0 + i * 1000 });
      state = out.flap;
      verdict = out.verdict;
    }
    if (verdict?.kind !== 'start') throw new Error('not flapping');
    expect(verdict.facts).toEqual({ checkName: 'web', flapping: 'true' });
    expect(verdict.notice).toMatchObject({ state: 'firing', severity: 'critical', to: 'critical', from: 'passing', title: 'FLAPPING: web check on web-1' });
    expect(verdict.notice.details[0]).toEqual(['Flapping', '4 changes within 3s (threshold: 4 in 1m); no notification per change until it has been stable for 30s']);
    const history = verdict.notice.details.slice(1, 5);
    expect(history.map(([k]) => k)).toEqual(['2026-12-02T08:00:00Z', '2026-12-02T08:00:01Z', '2026-12-02T08:00:02Z', '2026-12-02T08:00:03Z']);
    expect(history[0]![1]).toMatch(/^passing -> critical: x+…$/);
    expect(history[0]![1].length).toBe('passing -> critical: '.length + FLAP_OUTPUT_CHARS);
    expect(verdict.notice.details.some(([k]) => k === 'Output' || k === 'Status')).toBe(false);
  });

  it('keeps at most `changes` changes, however long it flaps', () => {
    const { state } = run(Array.from({ length: 40 }, (_, i) => i));
    expect(state.changes).toHaveLength(SPEC.changes);
    expect(state.changes.map((c) => c.at)).toEqual([36, 37, 38, 39].map((s) => T0 + s * 1000));
    expect(state.flapping).toMatchObject({ count: 37, lastChangeAt: T0 + 39_000 });
  });
});

describe('what it adds to the subject record', () => {
  it('the most it keeps (20 changes, 4 KB outputs, flapping) stays under 1 KB deflated', () => {
    const spec: FlapSpec = { changes: 20, windowSeconds: 600, stableSeconds: 600 };
    let state: FlapState | undefined;
    for (let i = 0; i < 60; i++) {
      const noisy = `${i} ${'connection refused by 127.0.0.1:8080 after 5s; '.repeat(90)}`.slice(0, 4096);
      state = observeChange({ state, alert: change(i % 2 === 0 ? 'critical' : 'passing', noisy), facts: { checkName: 'web', tags: ['v1'] }, subject: 's', spec, nowMs: T0 + i * 1000 }).flap;
    }
    expect(state!.changes).toHaveLength(20);
    const bytes = encodeSubjectBody({ status: 'passing', modifyIndex: 1, flap: state }, undefined).length;
    expect(bytes).toBeLessThan(1024);
  });
});

describe('configuration', () => {
  const doc = (extra: Record<string, unknown>) => ({ clusters: ['dc1'], channels: { chat: { type: 'email' } }, ...extra });

  it.each([
    ['absent: defaults', {}, FLAP_DEFAULTS],
    ['top level', { flapping: { changes: 4, window: '2m' } }, { changes: 4, windowSeconds: 120, stableSeconds: 120 }],
    ['stable given', { flapping: { window: 60, stable: '5m' } }, { changes: 6, windowSeconds: 60, stableSeconds: 300 }],
    ['off', { flapping: false }, undefined],
  ])('%s', (_name, extra, expected) => {
    const { config, issues } = normalizeConfig(doc(extra));
    expect(issues).toEqual([]);
    expect(flapSpecFor(compileRules(config), alertFacts(change('critical')))).toEqual(expected);
  });

  it('a rule says it for the subjects it matches first; the rest inherit the top level', () => {
    const { config, issues } = normalizeConfig(
      doc({
        flapping: { changes: 4, window: '1m' },
        rules: [
          { name: 'db', match: { service: 'db' }, flapping: false },
          { name: 'web', match: { service: 'web' }, flapping: { changes: 10 } },
        ],
      }),
    );
    expect(issues).toEqual([]);
    const rules = compileRules(config);
    expect(flapSpecFor(rules, { ...alertFacts(change('critical')), service: 'db' })).toBeUndefined();
    expect(flapSpecFor(rules, { ...alertFacts(change('critical')), service: 'web' })).toEqual({ changes: 10, windowSeconds: 60, stableSeconds: 60 });
    expect(flapSpecFor(rules, alertFacts(change('critical')))).toEqual({ changes: 4, windowSeconds: 60, stableSeconds: 60 });
  });

  it.each([
    [{ flapping: { changes: 1 } }, 'flapping.changes', 'must be a whole number from 2 to 20'],
    [{ flapping: { changes: 21 } }, 'flapping.changes', 'must be a whole number from 2 to 20'],
    [{ flapping: { window: 'soon' } }, 'flapping.window', 'is not a duration'],
    [{ flapping: { stable: '2d' } }, 'flapping.stable', 'must be between 1s and 1d'],
    [{ rules: [{ name: 'r', flapping: 'yes' }] }, 'rules.0.flapping', 'must be false or { changes, window, stable }'],
  ])('%j is refused', (extra, where, reason) => {
    const { issues } = normalizeConfig(doc(extra));
    expect(issues.map((i) => [i.path.join('.'), i.reason])).toEqual([[where, expect.stringContaining(reason) as string]]);
  });

  it('tocsin.yaml as written: `flapping: true` and `{ not: true }` in a match, settings with durations; `false` in a match refused', () => {
    const yaml = (match: string) =>
      ['clusters: [dc1]', 'channels:', '  chat: { type: email, addresses: [] }', 'flapping: { changes: 4, window: 2m, stable: 30s }', 'rules:', `  - name: f`, `    match: { flapping: ${match} }`, '    channels: [chat]', '    flapping: false', ''].join('\n');
    const loaded = parseConfigText(yaml('true'), 'tocsin.yaml');
    expect(loaded.runtime.flapping).toEqual({ changes: 4, windowSeconds: 120, stableSeconds: 30 });
    expect(loaded.runtime.rules[0]).toMatchObject({ match: { flapping: true }, flapping: false });
    expect(() => parseConfigText(yaml('{ not: true }'), 'tocsin.yaml')).not.toThrow();
    expect(() => parseConfigText(yaml('false'), 'tocsin.yaml')).toThrow(/rules\[0\]\.match\.flapping \(line 7, column 24\): must be true/);
  });

  it('`flapping` is a match field with one value, true; `not: true` matches everything else', () => {
    expect(vocabularyIssues({ flapping: 'true' })).toEqual([]);
    expect(vocabularyIssues({ flapping: true as never })).toEqual([]);
    expect(vocabularyIssues({ flapping: 'false' })).toEqual([{ path: ['flapping'], reason: expect.stringContaining('for "not flapping" use { not: true }') as string }]);
    const flapping = compileMatch({ flapping: true as never });
    const notFlapping = compileMatch({ flapping: { not: true as never } });
    const facts = alertFacts(change('critical'));
    expect([flapping(facts), notFlapping(facts)]).toEqual([false, true]);
    expect([flapping({ ...facts, flapping: 'true' }), notFlapping({ ...facts, flapping: 'true' })]).toEqual([true, false]);
  });
});

describe('through routeDecision (the glue every source shares)', () => {
  const set = compileRules(normalizeConfig({ clusters: ['dc1'], channels: { chat: { type: 'email' } }, flapping: { changes: 4, window: 60, stable: 30 } }).config);
  const notice = (to: string, from: string, state: Alert['state']): Alert => ({ ...change('critical'), kind: 'catalog', id: `n-${to}-${Math.random()}`, severity: state === 'firing' ? 'warning' : 'info', state, from, to, title: `${state === 'firing' ? 'WARNING' : 'INFO'}: service web ${to}`, details: [] });

  it('a resolving notice (registered again) counts once the subject has a change history; the 4th change is FLAPPING with its end timer', () => {
    let state: (Flappy & Episodic & { status: string }) | undefined;
    const kinds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const firing = i % 2 === 0;
      const a = firing ? notice('deregistered', 'registered', 'firing') : notice('registered', 'deregistered', 'firing');
      const d = routeDecision({ rules: set, clock: { nowMs: () => T0 + i * 1000 } }, 'service/web', state, { kind: 'write', state: { status: a.to }, alert: a }, () => ({ role: firing ? 'episode' : 'resolves' }));
      if (d.kind !== 'write') throw new Error('ignored');
      state = d.state;
      kinds.push(d.outbox ? `${d.outbox.alert.state} ${d.outbox.alert.title.split(':')[0]}${d.outbox.routing?.flapTimer ? ' +timer' : ''}` : 'nothing');
    }
    expect(kinds).toEqual(['firing WARNING', 'resolved RESOLVED', 'firing WARNING', 'firing FLAPPING +timer', 'nothing', 'nothing']);
    expect(state!.flap?.flapping).toMatchObject({ count: 3, lastChangeAt: T0 + 5000, stableSeconds: 30 });
    expect(state!.episode).toBeDefined(); // the episode stays open while it flaps
  });
});

describe('the end step in the index of pending steps', () => {
  it('sorts by its due time and names its stretch and subject (one key per step)', () => {
    const step = { kind: 'flapping' as const, cluster: 'dc1', subject: 'check/web-1/service:web', flap: 'f1', dueAt: T0 + 30_000 };
    expect(pendingSortKey(step)).toBe(`due#${String(T0 + 30_000).padStart(14, '0')}#flapping#f1#check/web-1/service:web`);
    expect(pendingSortKey({ ...step, dueAt: T0 + 60_000 }) > pendingSortKey(step)).toBe(true);
    expect(isOverdue(step, T0 + 60_000, 30_000)).toBe(true);
    expect(isOverdue(step, T0 + 59_999, 30_000)).toBe(false);
  });
});
