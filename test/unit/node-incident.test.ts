/**
 * Node down as one incident (domain/nodes/node-incident.ts), service impact
 * (domain/consul/service-impact.ts) and the numeric matchers healthyInstances /
 * healthyFraction (domain/rules/matchers.ts): the pure decisions, from tables.
 */
import { impactFacts, impactLine, serviceHealthOf } from '../../lambdas/domain/consul/service-impact';
import { carriedLine, carriedText, decideNodeReport, MAX_CARRIED_LINES, readsNodeUpFront, type CarriedInstance, type NodeIncidentState, type NodeReport } from '../../lambdas/domain/nodes/node-incident';
import { compileRules, evaluateRules } from '../../lambdas/domain/rules/evaluate';
import { inhibitedBy, NODE_INCIDENT_RULE } from '../../lambdas/domain/rules/inhibit';
import { compileMatch, compileNumericMatcher, eqPredicate, gtePredicate, gtPredicate, ltePredicate, ltPredicate, MatcherError } from '../../lambdas/domain/rules/matchers';
import { ConfigFileError, parseConfigText } from '../../lambdas/commons/config-file';
import type { MatchFacts, NumericMatcher } from '../../lambdas/domain/rules/types';

describe('numeric predicates', () => {
  it.each([
    ['lt 1', ltPredicate(1), [0, 0.99], [1, 2, undefined]],
    ['lte 0', ltePredicate(0), [0, -1], [0.5, 1, undefined]],
    ['gt 0.5', gtPredicate(0.5), [0.51, 1], [0.5, 0, undefined]],
    ['gte 2', gtePredicate(2), [2, 10], [1.99, undefined, Number.NaN]],
    ['eq 3', eqPredicate(3), [3], [2, 4, undefined]],
  ] as const)('%s', (_name, p, yes, no) => {
    for (const v of yes) expect(p(v)).toBe(true);
    for (const v of no) expect(p(v)).toBe(false);
  });
});

describe('compileNumericMatcher', () => {
  it.each<[string, NumericMatcher, Array<number | undefined>, Array<number | undefined>]>([
    ['a number is eq', 0, [0], [1, undefined]],
    ['bounds are ANDed', { gte: 1, lt: 3 }, [1, 2, 2.9], [0, 3, undefined]],
    ['not inverts, so a missing value matches it', { not: { lte: 0 } }, [1, undefined], [0]],
  ])('%s', (_name, spec, yes, no) => {
    const p = compileNumericMatcher(spec);
    for (const v of yes) expect(p(v)).toBe(true);
    for (const v of no) expect(p(v)).toBe(false);
  });

  it.each<[unknown, RegExp]>([
    [{}, /empty numeric matcher/],
    [{ below: 1 }, /unknown comparison "below"/],
    [{ lt: '1' }, /lt needs a number/],
    ['1', /a numeric matcher is a number/],
    [{ not: 1, lt: 2 }, /stands alone/],
    [Number.POSITIVE_INFINITY, /not a number/],
  ])('refuses %j', (spec, message) => {
    expect(() => compileNumericMatcher(spec as NumericMatcher)).toThrow(MatcherError);
    expect(() => compileNumericMatcher(spec as NumericMatcher)).toThrow(message);
  });

  it('in a match, with the other fields (AND)', () => {
    const test = compileMatch({ kind: 'service', healthyInstances: { lte: 0 } });
    const facts = (n?: number): MatchFacts => ({ source: 'consul', kind: 'service', cluster: 'c', ...(n !== undefined ? { healthyInstances: n } : {}) });
    expect([test(facts(0)), test(facts(1)), test(facts())]).toEqual([true, false, false]);
  });
});

describe('rules on service impact', () => {
  const rules = compileRules({
    clusters: ['c'],
    channels: { pager: { type: 'email' }, chat: { type: 'email' } },
    defaults: { channels: ['chat'], resolved: true },
    rules: [
      { name: 'last-instance', match: { kind: 'service', healthyInstances: { lte: 0 } }, channels: ['pager'] },
      { name: 'half-gone', match: { healthyFraction: { lt: 0.5 } }, channels: ['pager', 'chat'] },
    ],
    grouping: { windowSeconds: 60, threshold: 20 },
  });
  it.each([
    ['the last instance down pages', { healthyInstances: 0, healthyFraction: 0 }, ['last-instance']],
    ['1 of 10 down goes to chat (the defaults)', { healthyInstances: 9, healthyFraction: 0.9 }, []],
    ['4 of 10 left pages and chats', { healthyInstances: 4, healthyFraction: 0.4 }, ['half-gone']],
    ['no count known: the defaults', {}, []],
  ])('%s', (_name, impact, matched) => {
    expect(evaluateRules(rules, { source: 'consul', kind: 'service', cluster: 'c', ...impact }).matched).toEqual(matched);
  });

  it('tocsin.yaml: numeric matchers are checked, with file positions', () => {
    const base = 'clusters: [c]\nchannels: { chat: { type: email, addresses: [a@example.com] } }\ndefaults: { channels: [chat] }\nrules:\n  - name: r\n    channels: [chat]\n    match: ';
    const issues = (match: string): string => {
      try {
        parseConfigText(`${base}${match}\n`, '/etc/tocsin.yaml');
        return '';
      } catch (err) {
        if (err instanceof ConfigFileError) return err.message;
        throw err;
      }
    };
    expect(issues('{ healthyFraction: { lt: 0.5 }, healthyInstances: { gte: 1, lte: 3 } }')).toBe('');
    expect(issues('{ healthyInstances: { under: 1 } }')).toMatch(/rules\[0\]\.match\.healthyInstances \(line 7.*must be a number.*lt\|lte\|gt/s);
  });
});

describe('service impact', () => {
  const i = (serviceName: string, health: string, inMaintenance = false) => ({ serviceName, health, inMaintenance });
  it.each([
    ['all passing', [i('web', 'passing'), i('web', 'passing'), i('web', 'passing')], { web: [3, 3] }],
    ['warning and critical are not healthy', [i('web', 'passing'), i('web', 'warning'), i('web', 'critical')], { web: [1, 3] }],
    ['maintenance is not healthy', [i('db', 'passing', true), i('db', 'passing')], { db: [1, 2] }],
    ['per service', [i('web', 'critical'), i('db', 'passing')], { web: [0, 1], db: [1, 1] }],
    ['none listed', [], {}],
  ])('%s', (_name, instances, want) => {
    const got = Object.fromEntries([...serviceHealthOf(instances)].map(([k, h]) => [k, [h.healthy, h.total]]));
    expect(got).toEqual(want);
  });
  it('facts and line', () => {
    expect(impactFacts({ service: 'web', healthy: 2, total: 3 })).toEqual({ healthyInstances: 2, healthyFraction: 0.6667 });
    expect(impactFacts({ service: 'web', healthy: 0, total: 0 })).toEqual({ healthyInstances: 0 });
    expect(impactFacts(undefined)).toEqual({});
    expect(impactLine({ service: 'web', healthy: 2, total: 3 })).toBe('web: 2 of 3 healthy');
  });
});

describe('node incident decisions', () => {
  const at = '2026-12-02T10:00:00.000Z';
  const r = (source: NodeReport['source'], status: NodeReport['status'], order: number, epoch?: number): NodeReport => ({ source, status, order, at, reason: 'r', ...(epoch ? { epoch } : {}) });
  const carried: CarriedInstance[] = [
    { serviceName: 'web', serviceId: 'web-1', countedHealthy: true, service: { service: 'web', healthy: 3, total: 3 } },
    { serviceName: 'db', serviceId: 'db', countedHealthy: false, service: { service: 'db', healthy: 1, total: 2 } },
    { serviceName: 'cache', serviceId: 'cache-1', countedHealthy: false },
  ];
  /** Applies reports in turn; what each produced: 'open', 'resolved', 'write' (state only), 'ignore'. */
  function run(reports: NodeReport[]): string[] {
    let state: NodeIncidentState | undefined;
    return reports.map((report) => {
      const d = decideNodeReport('c', 'n1', state, report, carried);
      if (d.kind === 'ignore') return 'ignore';
      state = d.state;
      return d.alert ? (d.alert.state === 'firing' ? 'open' : `resolved ${d.alert.to}`) : 'write';
    });
  }
  it.each<[string, NodeReport[], string[]]>([
    ['consul: down, repeat, back', [r('consul', 'down', 10), r('consul', 'down', 10), r('consul', 'down', 11), r('consul', 'up', 12)], ['open', 'ignore', 'ignore', 'resolved up']],
    ['a healthy node: nothing', [r('consul', 'up', 5), r('serf', 'up', 1000)], ['ignore', 'ignore']],
    ['a late down after up is ignored', [r('consul', 'down', 10), r('consul', 'up', 12), r('consul', 'down', 11)], ['open', 'resolved up', 'ignore']],
    ['both sources: one incident, closed when neither says down', [r('serf', 'down', 1000), r('consul', 'down', 10), r('serf', 'up', 2000), r('consul', 'up', 12)], ['open', 'write', 'write', 'resolved up']],
    ['reaped while down: closed as gone', [r('serf', 'down', 1000), r('serf', 'gone', 2000)], ['open', 'resolved gone']],
    ['a graceful leave of a healthy node opens nothing', [r('serf', 'gone', 1000)], ['ignore']],
    ['down again after back: a new incident', [r('consul', 'down', 10), r('consul', 'up', 12), r('consul', 'down', 14)], ['open', 'resolved up', 'open']],
    ['an index reset (newer epoch) is newer whatever its index', [r('consul', 'down', 500), r('consul', 'up', 3, 2)], ['open', 'resolved up']],
  ])('%s', (_name, reports, want) => {
    expect(run(reports)).toEqual(want);
  });

  it('the alert lists what the node carried, with the instances left', () => {
    const d = decideNodeReport('c', 'n1', undefined, r('consul', 'down', 10), carried);
    if (d.kind !== 'write' || !d.alert) throw new Error('no alert');
    expect(d.alert).toMatchObject({ kind: 'node', source: 'tocsin', severity: 'critical', state: 'firing', node: 'n1', to: 'down', title: 'NODE DOWN: n1 (3 service instances)' });
    expect(Object.fromEntries(d.alert.details)['Services on the node']).toBe(
      ['cache [cache-1]: instances left unknown (no service watch of cache)', 'db: 1 of 2 instances left', 'web [web-1]: 2 of 3 instances left'].join('\n'),
    );
  });

  it('the carried list is bounded', () => {
    const many = Array.from({ length: MAX_CARRIED_LINES + 5 }, (_, k) => ({ serviceName: `s${String(k).padStart(3, '0')}`, serviceId: `s${k}`, countedHealthy: false }));
    const lines = carriedText(many).split('\n');
    expect(lines).toHaveLength(MAX_CARRIED_LINES + 1);
    expect(lines.at(-1)).toBe('... and 5 more');
    expect(carriedLine({ serviceName: 'web', serviceId: 'web', countedHealthy: true, service: { service: 'web', healthy: 1, total: 1 } })).toBe('web: 0 of 1 instances left');
  });

  it('the built-in rule folds the node\'s own alerts, and only those', () => {
    const source = { subject: 'node/n1', episode: 'e', facts: { source: 'consul', kind: 'node', cluster: 'c', node: 'n1' } as MatchFacts };
    const target = (facts: Partial<MatchFacts>, subject = 'check/n1/service:web') => ({ subject, facts: { source: 'consul', kind: 'check', cluster: 'c', node: 'n1', ...facts } as MatchFacts });
    expect(inhibitedBy([NODE_INCIDENT_RULE], [source], target({ nodeIncident: 'node/n1' }))?.rule.builtin).toBe('node-incident');
    expect(inhibitedBy([NODE_INCIDENT_RULE], [source], target({}))).toBeUndefined(); // not marked: the node was not down
    expect(inhibitedBy([NODE_INCIDENT_RULE], [source], target({ node: 'n2', nodeIncident: 'node/n2' }))).toBeUndefined();
    expect(compileRules({ clusters: ['c'], channels: {}, defaults: { channels: [], resolved: true }, rules: [], grouping: { windowSeconds: 60, threshold: 20 } }).inhibit).toContain(NODE_INCIDENT_RULE);
  });
});

describe('which check changes read their node record up front (readsNodeUpFront)', () => {
  it.each([
    ['serfHealth to critical', { serfHealth: true, to: 'critical' }, true],
    ['serfHealth to passing (the node back)', { serfHealth: true, to: 'passing' }, true],
    ['serfHealth vanished', { serfHealth: true, to: 'removed' }, true],
    ['a check to critical', { serfHealth: false, to: 'critical' }, true],
    ['a check to warning', { serfHealth: false, to: 'warning' }, true],
    ['a check vanished', { serfHealth: false, to: 'removed' }, true],
    ['a check released from maintenance', { serfHealth: false }, true],
    ['a check to passing (resolves; read later only if it fires after all)', { serfHealth: false, to: 'passing' }, false],
  ])('%s', (_, change, expected) => {
    expect(readsNodeUpFront(change)).toBe(expected);
  });
});
