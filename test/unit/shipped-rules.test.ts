/**
 * The configurations shipped in the repository (tocsin.yaml, the example operators start
 * from, and bench/tocsin.bench.yaml): every rule in them can match at least one alert
 * tocsin produces (support/alert-corpus.ts: alerts made by the real source handlers).
 */
import { join } from 'node:path';
import { loadConfigFile } from '../../lambdas/commons/config-file';
import { compileMatch } from '../../lambdas/domain/rules/matchers';
import { alertCorpus } from '../support/alert-corpus';

const ROOT = join(__dirname, '..', '..');

describe.each(['tocsin.yaml', 'bench/tocsin.bench.yaml'])('%s', (file) => {
  const { runtime } = loadConfigFile(join(ROOT, file));

  it('every rule matches at least one alert tocsin produces', async () => {
    const corpora = await Promise.all(runtime.clusters.map((cluster) => alertCorpus(cluster)));
    const facts = corpora.flatMap((c) => c.entries.map((e) => e.facts!));
    const matching = runtime.rules.map((rule) => ({ rule: rule.name, examples: facts.filter(compileMatch(rule.match)).length }));
    expect(matching.filter((m) => m.examples === 0)).toEqual([]);
  });
});

test("the example's maintenance-is-quiet rule catches maintenance notices, and nothing else", async () => {
  const rule = loadConfigFile(join(ROOT, 'tocsin.yaml')).runtime.rules.find((r) => r.name === 'maintenance-is-quiet');
  expect(rule).toMatchObject({ suppress: true });
  const { entries } = await alertCorpus('default');
  const test = compileMatch(rule!.match);
  const caught = entries.filter((e) => test(e.facts!)).map((e) => e.alert.title);
  expect(caught).toEqual([
    'MAINTENANCE: node web-1 entered maintenance mode',
    'MAINTENANCE: node web-1 left maintenance mode',
    'MAINTENANCE: service web on web-1 entered maintenance mode',
    'MAINTENANCE: service web on web-1 left maintenance mode',
  ]);
});
