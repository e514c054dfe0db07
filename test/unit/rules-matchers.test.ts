/**
 * Each matcher kind is a small pure predicate, tested from a table of cases in
 * cdk-nag's shape: values it must accept, values it must reject.
 */
import {
  compileMatch,
  compileMatcher,
  equalsPredicate,
  globPredicate,
  MatcherError,
  regexPredicate,
  type Predicate,
} from '../../lambdas/domain/rules/matchers';
import type { MatchFacts, MatchSpec, MatcherSpec } from '../../lambdas/domain/rules/types';

interface PredicateCase {
  name: string;
  predicate: () => Predicate;
  matches: string[][];
  rejects: string[][];
}

const PREDICATES: PredicateCase[] = [
  { name: 'equals', predicate: () => equalsPredicate('web'), matches: [['web'], ['api', 'web']], rejects: [[], ['Web'], ['web-1'], [' web']] },
  { name: 'equals ignoreCase', predicate: () => equalsPredicate('Web', true), matches: [['web'], ['WEB']], rejects: [['webs'], []] },
  { name: 'glob *', predicate: () => globPredicate('web-*'), matches: [['web-'], ['web-1'], ['web-1.dc1']], rejects: [['web'], ['xweb-1'], ['WEB-1'], []] },
  { name: 'glob ?', predicate: () => globPredicate('db-?'), matches: [['db-1'], ['db-x']], rejects: [['db-10'], ['db-']] },
  { name: 'glob is anchored and literal', predicate: () => globPredicate('a.b(c)+'), matches: [['a.b(c)+']], rejects: [['axb(c)+'], ['a.b(c)++'], ['xa.b(c)+']] },
  { name: 'glob ignoreCase', predicate: () => globPredicate('WEB-*', true), matches: [['web-1']], rejects: [['db-1']] },
  { name: 'glob newline', predicate: () => globPredicate('a*b'), matches: [['a\nb']], rejects: [['a\nc']] },
  { name: 'regex unanchored', predicate: () => regexPredicate('fail(ed|ure)'), matches: [['deploy failed'], ['failure']], rejects: [['fail'], ['FAILED'], []] },
  { name: 'regex anchored', predicate: () => regexPredicate('^web-\\d+$'), matches: [['web-12']], rejects: [['web-12a'], ['xweb-1']] },
  { name: 'regex ignoreCase', predicate: () => regexPredicate('failed', true), matches: [['FAILED']], rejects: [['ok']] },
  { name: 'regex unicode', predicate: () => regexPredicate('^\\p{L}+$'), matches: [['héllo']], rejects: [['a1']] },
];

describe.each(PREDICATES)('$name', ({ predicate, matches, rejects }) => {
  test.each(matches.map((m) => [m]))('matches %j', (values) => expect(predicate()(values)).toBe(true));
  test.each(rejects.map((r) => [r]))('rejects %j', (values) => expect(predicate()(values)).toBe(false));
});

interface SpecCase {
  spec: MatcherSpec;
  matches: string[][];
  rejects: string[][];
}

/** The YAML forms, compiled. */
const SPECS: SpecCase[] = [
  { spec: 'critical', matches: [['critical']], rejects: [['warning'], []] },
  { spec: { equals: 'a*' }, matches: [['a*']], rejects: [['ab']] },
  { spec: { glob: 'a*' }, matches: [['ab']], rejects: [['ba']] },
  { spec: { regex: 'b$' }, matches: [['ab']], rejects: [['ba']] },
  { spec: ['web', { glob: 'api-*' }], matches: [['web'], ['api-1']], rejects: [['db'], []] },
  // not: inverts the whole test, including "no value at all"
  { spec: { not: 'web' }, matches: [['api'], []], rejects: [['web']] },
  { spec: { not: { glob: 'prod-*' } }, matches: [['dev-1']], rejects: [['prod-1']] },
  { spec: { not: ['a', 'b'] }, matches: [['c']], rejects: [['a'], ['b']] },
  { spec: { not: { not: 'x' } }, matches: [['x']], rejects: [['y']] },
  // tags: many values; positive = any tag, negative = no tag
  { spec: 'canary', matches: [['v1', 'canary']], rejects: [['v1', 'primary']] },
  { spec: { not: 'canary' }, matches: [['v1', 'primary'], []], rejects: [['v1', 'canary']] },
];

describe('compileMatcher: YAML forms', () => {
  describe.each(SPECS.map((c) => [JSON.stringify(c.spec), c] as const))('%s', (_name, { spec, matches, rejects }) => {
    test.each(matches.map((m) => [m]))('matches %j', (values) => expect(compileMatcher(spec)(values)).toBe(true));
    test.each(rejects.map((r) => [r]))('rejects %j', (values) => expect(compileMatcher(spec)(values)).toBe(false));
  });

  test.each([
    [{ regex: '(' }, /regex "\(" does not compile/],
    [[], /empty list/],
    [{ glob: 'a', regex: 'b' }, /exactly one of/],
    [{ like: 'a' }, /exactly one of|unknown matcher/],
    [{ not: { regex: '[' } }, /does not compile/],
  ] as Array<[MatcherSpec, RegExp]>)('%j is refused', (spec, message) => {
    expect(() => compileMatcher(spec)).toThrow(MatcherError);
    expect(() => compileMatcher(spec)).toThrow(message);
  });
});

const FACTS: MatchFacts = {
  source: 'consul',
  kind: 'check',
  cluster: 'prod',
  node: 'web-1',
  service: 'web',
  check: 'service:web',
  checkName: "Service 'web' check",
  status: 'critical',
  from: 'passing',
  to: 'critical',
  severity: 'critical',
  tags: ['v1', 'canary'],
  nodeMeta: { rack: 'r12', env: 'prod' },
  serviceMeta: { team: 'payments' },
};
const EVENT: MatchFacts = { source: 'serf', kind: 'event', cluster: 'prod', node: 'db-2', event: 'deploy', payload: 'release 42 FAILED on db-2' };

/** One row per field: a spec that matches FACTS (or EVENT) and one that does not. */
const FIELDS: Array<[string, MatchSpec, MatchSpec, MatchFacts?]> = [
  ['source', { source: 'consul' }, { source: 'serf' }],
  ['kind', { kind: ['check', 'member'] }, { kind: 'event' }],
  ['cluster', { cluster: { glob: 'pro*' } }, { cluster: 'staging' }],
  ['node', { node: { regex: '^web-\\d$' } }, { node: { not: { glob: 'web-*' } } }],
  ['service', { service: 'web' }, { service: 'api' }],
  ['check id', { check: { glob: 'service:*' } }, { check: 'serfHealth' }],
  ['check name', { checkName: { regex: "'web'" } }, { checkName: 'web' }],
  ['status', { status: 'critical' }, { status: 'warning' }],
  ['transition', { from: 'passing', to: 'critical' }, { from: 'warning', to: 'critical' }],
  ['severity', { severity: ['critical', 'warning'] }, { severity: 'info' }],
  ['tags', { tags: 'canary' }, { tags: { not: 'canary' } }],
  ['node meta', { nodeMeta: { rack: { glob: 'r1*' }, env: 'prod' } }, { nodeMeta: { rack: { glob: 'r1*' }, env: 'dev' } }],
  ['absent meta key', { nodeMeta: { zone: { not: 'a' } } }, { nodeMeta: { zone: { glob: '*' } } }],
  ['service meta', { serviceMeta: { team: 'payments' } }, { serviceMeta: { team: 'search' } }],
  ['event name', { event: 'deploy' }, { event: 'restart' }, EVENT],
  ['payload text', { payload: { regex: 'failed', ignoreCase: true } }, { payload: { regex: '^failed' } }, EVENT],
  ['field missing from the facts', { service: { not: 'web' } }, { service: { glob: '*' } }, EVENT],
  ['empty match', {}, { source: 'nope' }],
];

describe('compileMatch: every field, ANDed', () => {
  test.each(FIELDS)('%s', (_name, yes, no, facts = FACTS) => {
    expect(compileMatch(yes)(facts)).toBe(true);
    expect(compileMatch(no)(facts)).toBe(false);
  });

  test('all fields must hold', () => {
    expect(compileMatch({ service: 'web', node: 'web-1' })(FACTS)).toBe(true);
    expect(compileMatch({ service: 'web', node: 'web-2' })(FACTS)).toBe(false);
  });

  test('no match spec matches everything', () => expect(compileMatch(undefined)(EVENT)).toBe(true));
});
