/**
 * Inhibition (Alertmanager's inhibit_rules), table-driven from one table of (rule, firing
 * source, target) -> inhibited?: each piece a small pure predicate (source matcher, target
 * matcher, equal fields, not itself); then the config checks with their paths.
 */
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { compileInhibitRules, equalOn, inhibitedBy, inhibitionId, inhibitionSource, inhibits, type FiringSource } from '../../lambdas/domain/rules/inhibit';
import type { InhibitSpec, MatchFacts } from '../../lambdas/domain/rules/types';

const facts = (extra: Partial<MatchFacts>): MatchFacts => ({ source: 'consul', kind: 'check', cluster: 'prod', ...extra });
const NODE_DOWN: InhibitSpec = { source: { check: 'serfHealth', status: 'critical' }, target: { kind: 'check', check: { not: 'serfHealth' } }, equal: ['node'] };
const CRITICAL_OVER_WARNING: InhibitSpec = { source: { severity: 'critical' }, target: { severity: 'warning' }, equal: ['node', 'check'] };
const ANY_OVER_ANY: InhibitSpec = { source: { kind: 'check' }, target: { kind: 'check' }, equal: ['node'] };
const BY_RACK: InhibitSpec = { source: { check: 'rack-power' }, target: {}, equal: ['nodeMeta.rack'] };
const NO_EQUAL: InhibitSpec = { source: { event: 'maintenance-start' }, target: { severity: { not: 'critical' } }, equal: [] };

const serfDown = (node: string): FiringSource => ({ subject: `check/${node}/serfHealth`, episode: 'e1', facts: facts({ node, check: 'serfHealth', status: 'critical', severity: 'critical' }) });
const web = (node: string, extra: Partial<MatchFacts> = {}) => ({ subject: `check/${node}/service:web`, facts: facts({ node, check: 'service:web', status: 'critical', severity: 'critical', ...extra }) });

describe('inhibits(rule, firing source, target)', () => {
  test.each([
    ['node down inhibits a service check on the same node', NODE_DOWN, serfDown('n1'), web('n1'), true],
    ['... not on another node', NODE_DOWN, serfDown('n1'), web('n2'), false],
    ['the target matcher must hold: serfHealth of another node is no target', NODE_DOWN, serfDown('n1'), { subject: 'check/n1b/serfHealth', facts: facts({ node: 'n1', check: 'serfHealth', status: 'critical' }) }, false],
    ['the source matcher must hold: a warning serfHealth is no source', NODE_DOWN, { ...serfDown('n1'), facts: facts({ node: 'n1', check: 'serfHealth', status: 'warning' }) }, web('n1'), false],
    ['another cluster never', NODE_DOWN, serfDown('n1'), web('n1', { cluster: 'staging' }), false],
    ['critical over warning, equal on node and check', CRITICAL_OVER_WARNING, { subject: 'check/n1/disk-crit', episode: 'e', facts: facts({ node: 'n1', check: 'disk', severity: 'critical' }) }, { subject: 'check/n1/disk-warn', facts: facts({ node: 'n1', check: 'disk', severity: 'warning' }) }, true],
    ['... one equal field differs', CRITICAL_OVER_WARNING, { subject: 'check/n1/disk-crit', episode: 'e', facts: facts({ node: 'n1', check: 'disk', severity: 'critical' }) }, { subject: 'check/n1/mem', facts: facts({ node: 'n1', check: 'mem', severity: 'warning' }) }, false],
    ['an alert matching both does not inhibit itself', ANY_OVER_ANY, { subject: 'check/n1/disk', episode: 'e', facts: facts({ node: 'n1', check: 'disk' }) }, { subject: 'check/n1/disk', facts: facts({ node: 'n1', check: 'disk' }) }, false],
    ['... but does inhibit another alert matching both', ANY_OVER_ANY, { subject: 'check/n1/disk', episode: 'e', facts: facts({ node: 'n1', check: 'disk' }) }, { subject: 'check/n1/mem', facts: facts({ node: 'n1', check: 'mem' }) }, true],
    ['equal on a meta key', BY_RACK, { subject: 'check/pdu/rack-power', episode: 'e', facts: facts({ node: 'pdu', check: 'rack-power', nodeMeta: { rack: 'r1' } }) }, web('n1', { nodeMeta: { rack: 'r1' } }), true],
    ['... another rack', BY_RACK, { subject: 'check/pdu/rack-power', episode: 'e', facts: facts({ node: 'pdu', check: 'rack-power', nodeMeta: { rack: 'r1' } }) }, web('n1', { nodeMeta: { rack: 'r2' } }), false],
    ['a field missing on both counts as equal', BY_RACK, { subject: 'check/pdu/rack-power', episode: 'e', facts: facts({ node: 'pdu', check: 'rack-power' }) }, web('n1'), true],
    ['missing on one side only: not equal', BY_RACK, { subject: 'check/pdu/rack-power', episode: 'e', facts: facts({ node: 'pdu', check: 'rack-power' }) }, web('n1', { nodeMeta: { rack: 'r1' } }), false],
    ['no equal fields: any target of the cluster', NO_EQUAL, { subject: 'event/maintenance-start', episode: 'e', facts: facts({ kind: 'event', event: 'maintenance-start' }) }, web('n9', { severity: 'warning' }), true],
    ['... except those the target matcher excludes', NO_EQUAL, { subject: 'event/maintenance-start', episode: 'e', facts: facts({ kind: 'event', event: 'maintenance-start' }) }, web('n9'), false],
    ['a momentary target (no subject) can still be inhibited', NODE_DOWN, serfDown('n1'), { facts: facts({ node: 'n1', check: 'service:web' }) }, true],
  ] as Array<[string, InhibitSpec, FiringSource, { subject?: string; facts: MatchFacts }, boolean]>)('%s', (_n, spec, source, target, expected) => {
    const [rule] = compileInhibitRules([spec]);
    expect(inhibits(rule!, source, target)).toBe(expected);
  });
});

describe('equalOn', () => {
  test.each([
    ['same tags in another order', ['tags'], facts({ tags: ['a', 'b'] }), facts({ tags: ['b', 'a'] }), true],
    ['a tag more', ['tags'], facts({ tags: ['a'] }), facts({ tags: ['a', 'b'] }), false],
    ['both without service', ['service'], facts({}), facts({}), true],
    ['empty string is missing', ['service'], facts({ service: '' }), facts({}), true],
  ] as Array<[string, string[], MatchFacts, MatchFacts, boolean]>)('%s', (_n, fields, a, b, expected) => expect(equalOn(fields, a, b)).toBe(expected));
});

test('inhibitedBy: rules in file order, the first firing source that inhibits', () => {
  const rules = compileInhibitRules([CRITICAL_OVER_WARNING, NODE_DOWN]);
  const found = inhibitedBy(rules, [serfDown('n2'), serfDown('n1')], web('n1'));
  expect(found && { rule: found.rule.index, by: found.source.subject }).toEqual({ rule: 1, by: 'check/n1/serfHealth' });
  expect(inhibitedBy(rules, [serfDown('n2')], web('n1'))).toBeUndefined();
});

test('inhibition ids: the source subject round-trips, no "#" (the mute ledger key separator)', () => {
  const id = inhibitionId('kv/app/#weird key');
  expect(id).not.toContain('#');
  expect(inhibitionSource(id)).toBe('kv/app/#weird key');
  expect(inhibitionSource('Zm9vYmFyYmF6')).toBeUndefined();
});

describe('config: inhibit', () => {
  const doc = (inhibit: unknown[]) => ({ clusters: ['prod'], inhibit });
  test.each([
    ['fine', [{ source: { check: 'serfHealth', status: 'critical' }, target: { kind: 'check' }, equal: ['node', 'nodeMeta.rack'] }], []],
    ['an unknown equal field', [{ source: {}, target: {}, equal: ['host'] }], [{ path: ['inhibit', 0, 'equal', 0], reason: expect.stringContaining('unknown field "host"') }]],
    ['a matcher that does not compile', [{ source: { node: { regex: '(' } }, target: {} }], [{ path: ['inhibit', 0, 'source', 'node'], reason: expect.stringContaining('does not compile') }]],
    ['a value tocsin never produces', [{ source: {}, target: { status: 'sideways' } }], [{ path: ['inhibit', 0, 'target', 'status'], reason: expect.stringContaining('"sideways"') }]],
  ])('%s', (_n, inhibit, issues) => expect(normalizeConfig(doc(inhibit)).issues).toEqual(issues));
});
