/** Rule order and precedence: first match, continue, suppress, defaults; one route per channel. */
import { compileRules, evaluateRules, type Route } from '../../lambdas/domain/rules/evaluate';
import type { MatchFacts, RuleSpec, RuntimeConfig } from '../../lambdas/domain/rules/types';

const config = (rules: RuleSpec[], defaults: Partial<RuntimeConfig['defaults']> = {}): RuntimeConfig => ({
  clusters: ['prod'],
  channels: { email: { type: 'email' }, slack: { type: 'slack' }, pager: { type: 'email' } },
  defaults: { channels: ['email'], resolved: true, ...defaults },
  rules,
  grouping: { windowSeconds: 60, threshold: 20 },
});

const web: MatchFacts = { source: 'consul', kind: 'check', cluster: 'prod', node: 'web-1', service: 'web', status: 'critical', to: 'critical', severity: 'critical' };
const db: MatchFacts = { ...web, node: 'db-1', service: 'db', severity: 'warning', status: 'warning', to: 'warning' };

const brief = (routes: Route[]) => routes.map((r) => `${r.rule}:${r.severity}:${r.channels.join('+')}:for=${r.for}:repeat=${r.repeat}:resolved=${r.resolved}`);

const CASES: Array<{ name: string; rules: RuleSpec[]; defaults?: Partial<RuntimeConfig['defaults']>; facts: MatchFacts; routes: string[]; matched: string[]; suppressedBy?: string }> = [
  {
    name: 'no rules: the defaults route, severity from the source',
    rules: [],
    facts: db,
    routes: ['default:warning:email:for=0:repeat=0:resolved=true'],
    matched: [],
  },
  {
    name: 'defaults may set for, repeat, severity and resolved',
    rules: [],
    defaults: { channels: ['pager'], for: 30, repeat: 600, severity: 'info', resolved: false },
    facts: { source: 'serf', kind: 'event', cluster: 'prod' },
    routes: ['default:info:pager:for=30:repeat=600:resolved=false'],
    matched: [],
  },
  {
    name: 'first match wins and stops',
    rules: [
      { name: 'web', match: { service: 'web' }, channels: ['slack'], for: 120, repeat: 3600 },
      { name: 'all', channels: ['pager'] },
    ],
    facts: web,
    routes: ['web:critical:slack:for=120:repeat=3600:resolved=true'],
    matched: ['web'],
  },
  {
    name: 'a non-matching rule is skipped',
    rules: [
      { name: 'web', match: { service: 'web' }, channels: ['slack'] },
      { name: 'all', channels: ['pager'], severity: 'critical' },
    ],
    facts: db,
    routes: ['all:critical:pager:for=0:repeat=0:resolved=true'],
    matched: ['all'],
  },
  {
    name: 'continue: later rules add routes',
    rules: [
      { name: 'web', match: { service: 'web' }, channels: ['slack'], for: 60, continue: true },
      { name: 'db', match: { service: 'db' }, channels: ['pager'] },
      { name: 'all', channels: ['email'], resolved: false },
    ],
    facts: web,
    routes: ['web:critical:slack:for=60:repeat=0:resolved=true', 'all:critical:email:for=0:repeat=0:resolved=false'],
    matched: ['web', 'all'],
  },
  {
    name: 'a channel gets one route: the first naming it',
    rules: [
      { name: 'a', channels: ['slack', 'email'], severity: 'warning', continue: true },
      { name: 'b', channels: ['email', 'pager'], severity: 'critical' },
    ],
    facts: web,
    routes: ['a:warning:slack+email:for=0:repeat=0:resolved=true', 'b:critical:pager:for=0:repeat=0:resolved=true'],
    matched: ['a', 'b'],
  },
  {
    name: 'a rule without channels uses the default channels',
    rules: [{ name: 'quiet-web', match: { service: 'web' }, severity: 'info' }],
    facts: web,
    routes: ['quiet-web:info:email:for=0:repeat=0:resolved=true'],
    matched: ['quiet-web'],
  },
  {
    name: 'suppress stops and delivers nowhere, even after continue routes',
    rules: [
      { name: 'web', match: { service: 'web' }, channels: ['slack'], continue: true },
      { name: 'canary', match: { node: { glob: 'web-*' } }, suppress: true },
      { name: 'all', channels: ['pager'] },
    ],
    facts: web,
    routes: [],
    matched: ['web', 'canary'],
    suppressedBy: 'canary',
  },
  {
    name: 'a suppress rule that does not match changes nothing',
    rules: [{ name: 'canary', match: { tags: 'canary' }, suppress: true }],
    facts: web,
    routes: ['default:critical:email:for=0:repeat=0:resolved=true'],
    matched: [],
  },
  {
    name: 'rule with an empty channel list delivers nowhere',
    rules: [{ name: 'mute', match: { service: 'db' }, channels: [] }],
    facts: db,
    routes: [],
    matched: ['mute'],
  },
];

describe('evaluateRules', () => {
  test.each(CASES)('$name', ({ rules, defaults, facts, routes, matched, suppressedBy }) => {
    const decision = evaluateRules(compileRules(config(rules, defaults)), facts);
    expect(brief(decision.routes)).toEqual(routes);
    expect(decision.matched).toEqual(matched);
    expect(decision.suppressedBy).toBe(suppressedBy);
  });

  test('is pure: evaluating twice gives the same answer and does not change the config', () => {
    const cfg = config([{ name: 'a', channels: ['slack'], continue: true }, { name: 'b', channels: ['slack', 'pager'] }]);
    const before = JSON.stringify(cfg);
    const set = compileRules(cfg);
    expect(evaluateRules(set, web)).toEqual(evaluateRules(set, web));
    expect(JSON.stringify(cfg)).toBe(before);
  });
});
