/** The fast paths of the checks normalizer give exactly the results of the plain versions. */
import { CHECK_LIMITS, normalizeChecks } from '../../lambdas/domain/consul/checks';
import { safeText } from '../../lambdas/domain/input-limits';
import { healthCheck } from '../support/consul-fixtures';

// eslint-disable-next-line no-control-regex
const REFERENCE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

describe('safeText fast path', () => {
  it('matches the regex replacement on clean, dirty and surrogate-bearing text', () => {
    const samples = ['', 'plain ascii', 'tab\tlf\ncr\r', 'nul\u0000bell\u0007', 'emoji \ud83d\ude00 ok', 'lone \ud83d end', 'lone low \ude00', '\ufffe\uffff', 'ünïcödé ☃'];
    // and a deterministic pseudo-random mix over the interesting ranges
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    const pool = [0x00, 0x09, 0x0a, 0x0d, 0x1f, 0x20, 0x41, 0xe9, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfffd, 0xfffe, 0xffff];
    for (let i = 0; i < 500; i++) samples.push(String.fromCharCode(...Array.from({ length: next() % 12 }, () => pool[next() % pool.length] as number)));
    for (const s of samples) expect(safeText(s)).toBe(s.replace(REFERENCE, '\ufffd'));
  });
});

describe('Definition size check', () => {
  const withDefinition = (Definition: Record<string, unknown>) => normalizeChecks([healthCheck({ Definition })]);

  it('accepts a Definition whose JSON is under the limit even when the quick bound is over it', () => {
    const Definition = { Script: 'x'.repeat(CHECK_LIMITS.definitionChars - 20) };
    const out = withDefinition(Definition);
    expect(out.rejected).toEqual([]);
    expect(out.observations[0]?.definition).toEqual(Definition);
  });

  it('rejects one over the limit, and reports size before nesting or key problems', () => {
    expect(withDefinition({ Script: 'x'.repeat(CHECK_LIMITS.definitionChars) }).rejected[0]?.reason).toMatch(/larger than/);
    let deep: Record<string, unknown> = { Big: 'y'.repeat(CHECK_LIMITS.definitionChars) };
    for (let i = 0; i < 12; i++) deep = { n: deep };
    expect(withDefinition(deep).rejected[0]?.reason).toMatch(/larger than/);
    let small: Record<string, unknown> = {};
    for (let i = 0; i < 12; i++) small = { n: small };
    expect(withDefinition(small).rejected[0]?.reason).toMatch(/nests deeper/);
    expect(withDefinition(JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>).rejected[0]?.reason).toMatch(/forbidden key/);
  });
});
