/**
 * The values rules and silences may name on closed-set fields (source, kind, severity,
 * status/to, from) come from the sources' own vocabularies (domain/rules/vocabulary.ts):
 * every alert the sources produce is described there, a matcher that can match none of
 * those values is an error, and the JSON Schema lists the same values for editors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { matchSchemas } from '../../lambdas/commons/match-schema';
import { CONFIG_FILE } from '../../lambdas/commons/deployment';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { matchersFromArgs, parseSilenceRequest, SilenceError, validateMatchers } from '../../lambdas/domain/rules/silences';
import type { MatchSpec } from '../../lambdas/domain/rules/types';
import { ALERT_VOCABULARIES, knownValues, vocabularyIssues } from '../../lambdas/domain/rules/vocabulary';
import { alertCorpus, type Corpus } from '../support/alert-corpus';

let corpus: Corpus;
beforeAll(async () => {
  corpus = await alertCorpus();
});

describe('every alert the sources produce is in the vocabulary', () => {
  it('the corpus runs every registered source handler and yields alerts of every kind', () => {
    expect(corpus.entries.length).toBeGreaterThan(40);
    const kinds = new Set(corpus.entries.map((e) => e.alert.kind));
    expect([...kinds].sort()).toEqual(ALERT_VOCABULARIES.map((v) => v.kind).sort());
  });

  it('each alert: its source and kind are one vocabulary, its severity, from and to are listed there', () => {
    const misfits = corpus.entries.flatMap(({ alert, facts }) => {
      const v = ALERT_VOCABULARIES.find((x) => x.kind === alert.kind);
      const problems: string[] = [];
      if (!v) return [`${alert.title}: kind ${alert.kind} has no vocabulary`];
      if (alert.source !== v.source) problems.push(`source ${alert.source}`);
      if (!v.severity.includes(alert.severity)) problems.push(`severity ${alert.severity}`);
      if (!v.to.includes(alert.to)) problems.push(`to ${alert.to}`);
      if (alert.from === undefined ? !v.fromMayBeAbsent : !v.from.includes(alert.from)) problems.push(`from ${String(alert.from)}`);
      // What rules see is what the alert says.
      if (facts?.kind !== alert.kind || facts.status !== alert.to || facts.to !== alert.to || facts.from !== alert.from || facts.severity !== alert.severity) problems.push('facts differ');
      return problems.map((p) => `${alert.title}: ${p}`);
    });
    expect(misfits).toEqual([]);
  });

  it('one vocabulary per kind', () => {
    const kinds = ALERT_VOCABULARIES.map((v) => v.kind);
    expect(new Set(kinds).size).toBe(kinds.length);
  });
});

describe('vocabularyIssues', () => {
  const KINDS = knownValues('kind').join(', ');
  test.each<[string, MatchSpec, Array<{ path: Array<string | number>; reason: string }>]>([
    ['a known kind', { kind: 'check' }, []],
    ['a typo', { kind: 'chek' }, [{ path: ['kind'], reason: `"chek" is not a kind tocsin produces (known: ${KINDS})` }]],
    ['equals, case-sensitive', { kind: { equals: 'Check' } }, [{ path: ['kind'], reason: `"Check" is not a kind tocsin produces (known: ${KINDS})` }]],
    ['equals ignoring case', { kind: { equals: 'Check', ignoreCase: true } }, []],
    ['a glob matching one', { kind: { glob: 'user-*' } }, []],
    ['a glob matching none', { kind: { glob: 'chk*' } }, [{ path: ['kind'], reason: `glob "chk*" matches no kind tocsin produces (known: ${KINDS})` }]],
    ['a regex matching one', { status: { regex: '^crit' } }, []],
    ['a regex matching none', { severity: { regex: '^fatal$' } }, [{ path: ['severity'], reason: 'regex "^fatal$" matches no severity tocsin produces (known: critical, info, warning)' }]],
    ['lists check each part', { kind: ['check', 'chek'] }, [{ path: ['kind', 1], reason: `"chek" is not a kind tocsin produces (known: ${KINDS})` }]],
    ['not checks its part', { source: { not: 'consol' } }, [{ path: ['source', 'not'], reason: '"consol" is not a source tocsin produces (known: consul, serf, tocsin)' }]],
    ['not inside a list', { kind: ['check', { not: ['member', 'membr'] }] }, [{ path: ['kind', 1, 'not', 1], reason: `"membr" is not a kind tocsin produces (known: ${KINDS})` }]],
    ['a not that holds for nothing', { kind: { not: { glob: '*' } } }, [{ path: [], reason: expect.stringContaining('matches no alert tocsin produces: no kind of alert has this source and kind') }]],
    ['kind and status that never meet', { kind: 'check', status: 'maintenance' }, [{ path: [], reason: 'matches no alert tocsin produces: a check alert has status critical, warning, passing or removed' }]],
    ['maintenance notices', { kind: 'maintenance' }, []],
    ['source and kind that never meet', { source: 'serf', kind: 'check' }, [{ path: [], reason: expect.stringContaining('kinds by source: consul: agent-service, catalog, check, event, key, maintenance, service; serf: member, query, user-event') }]],
    ['severity a kind never has', { kind: 'key', severity: 'critical' }, [{ path: [], reason: 'matches no alert tocsin produces: a key alert has severity info' }]],
    ['status and to must agree', { status: 'critical', to: 'passing' }, [{ path: [], reason: expect.stringContaining('matches no alert tocsin produces') }]],
    ['from absent counts for not', { kind: 'event', from: { not: 'passing' } }, []],
    ['from a kind never has', { kind: 'agent-service', from: { not: 'registered' } }, [{ path: [], reason: 'matches no alert tocsin produces: an agent-service alert has previous status (from) registered' }]],
    ['open fields are not checked', { node: 'nowhere', service: { glob: 'x*' }, kind: 'member', from: 'failed', to: 'alive' }, []],
  ])('%s', (_name, match, issues) => {
    expect(vocabularyIssues(match)).toEqual(issues);
  });

  it('cluster: checked against the configured clusters when they are given', () => {
    expect(vocabularyIssues({ cluster: 'prdo' })).toEqual([]);
    expect(vocabularyIssues({ cluster: ['prod', 'prdo'] }, { clusters: ['prod', 'staging'] })).toEqual([
      { path: ['cluster', 1], reason: '"prdo" is not a cluster listed under clusters (known: prod, staging)' },
    ]);
  });
});

describe('rules in the configuration', () => {
  const doc = (match: unknown) => ({ clusters: ['prod'], channels: { oncall: { type: 'email' } }, rules: [{ name: 'r', match, suppress: true }] });

  it('a rule that can match nothing is a config error, with its path and the known values', () => {
    expect(normalizeConfig(doc({ kind: 'chek' })).issues).toEqual([
      { path: ['rules', 0, 'match', 'kind'], reason: `"chek" is not a kind tocsin produces (known: ${knownValues('kind').join(', ')})` },
    ]);
    expect(normalizeConfig(doc({ kind: 'check', status: 'maintenance' })).issues).toEqual([
      { path: ['rules', 0, 'match'], reason: 'matches no alert tocsin produces: a check alert has status critical, warning, passing or removed' },
    ]);
    expect(normalizeConfig(doc({ cluster: 'staging' })).issues).toEqual([{ path: ['rules', 0, 'match', 'cluster'], reason: '"staging" is not a cluster listed under clusters (known: prod)' }]);
  });

  it('a rule that can match is fine', () => {
    expect(normalizeConfig(doc({ kind: 'maintenance' })).issues).toEqual([]);
    expect(normalizeConfig(doc({ kind: ['check', 'service'], status: { not: 'passing' }, severity: { glob: 'c*' } })).issues).toEqual([]);
  });
});

describe('silences', () => {
  const err = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (e instanceof SilenceError) return e.message;
      throw e;
    }
    throw new Error('expected a SilenceError');
  };

  it('refuse matchers that can match no alert, through the API body and the CLI syntax', () => {
    expect(err(() => validateMatchers({ kind: 'chek' }))).toBe(`matchers.kind: "chek" is not a kind tocsin produces (known: ${knownValues('kind').join(', ')})`);
    expect(err(() => matchersFromArgs(['kind=check', 'status=maintenance']))).toBe('matchers: matches no alert tocsin produces: a check alert has status critical, warning, passing or removed');
    expect(err(() => parseSilenceRequest({ matchers: { status: { not: 'critcal' } }, duration: '1h', author: 'a', comment: 'c' }, 'prod', 'id', Date.now()))).toContain(
      'matchers.status.not: "critcal" is not a status tocsin produces',
    );
    expect(matchersFromArgs(['kind=maintenance', 'node=web-*'])).toEqual({ kind: 'maintenance', node: { glob: 'web-*' } });
  });
});

test('schema/tocsin.schema.json lists the vocabulary for editors (else: npm run schema)', () => {
  const file = JSON.parse(readFileSync(join(__dirname, '..', '..', CONFIG_FILE.schemaPath), 'utf8')) as { definitions: Record<string, unknown> & { match: { properties: Record<string, unknown> } } };
  const { definitions, properties } = matchSchemas();
  for (const [name, def] of Object.entries(definitions)) expect([name, file.definitions[name]]).toEqual([name, def]);
  for (const [field, prop] of Object.entries(properties)) expect([field, file.definitions.match.properties[field]]).toEqual([field, prop]);
});
