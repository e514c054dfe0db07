import { jsonDepthExceeds, parseWellFormedJson, safeText, truncateText, wellFormed } from '../../lambdas/domain/input-limits';

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('jsonDepthExceeds', () => {
  it.each([
    ['scalar', '42', 0, false],
    ['flat object', '{"a":1}', 1, false],
    ['flat object over 0', '{"a":1}', 0, true],
    ['exactly the limit', nested(32), 32, false],
    ['one over the limit', nested(33), 32, true],
    ['mixed', '{"a":[{"b":[1,{"c":{}}]}]}', 6, false],
    ['mixed over', '{"a":[{"b":[1,{"c":{}}]}]}', 5, true],
    ['brackets inside strings do not count', JSON.stringify({ s: '[[[[[[{{{{{{' }), 1, false],
    ['escaped quotes keep the string open', JSON.stringify({ s: 'a\\"[[[[\\\\"' }), 1, false],
    ['siblings do not add up', '[' + '[],'.repeat(100) + '[]]', 2, false],
  ])('%s', (_name, text, limit, expected) => {
    expect(jsonDepthExceeds(text, limit)).toBe(expected);
  });

  it('stops early on hostile input: 6 MB of brackets in well under a second', () => {
    const text = '['.repeat(6 * 1024 * 1024);
    const started = Date.now();
    expect(jsonDepthExceeds(text, 32)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('agrees with JSON.parse on the depth of real documents', () => {
    const doc = { v: 1, env: { A: 'x' }, body: JSON.stringify([{ Definition: { Header: { X: ['y'] } } }]) };
    expect(jsonDepthExceeds(JSON.stringify(doc), 2)).toBe(false);
    expect(jsonDepthExceeds(JSON.stringify(doc), 1)).toBe(true);
  });
});

describe('safeText', () => {
  it('replaces lone surrogates and control characters, keeps pairs, tabs and newlines', () => {
    expect(safeText('ok \u{1F600} \t\n\r')).toBe('ok \u{1F600} \t\n\r');
    expect(safeText('a\ud83d b')).toBe('a\ufffd b');
    expect(safeText('a\ude00b')).toBe('a\ufffdb');
    expect(safeText('\u0000\u0007\u001b\uffff')).toBe('\ufffd\ufffd\ufffd\ufffd');
    expect(() => encodeURIComponent(safeText('x\udbff'))).not.toThrow();
  });
});

describe('truncateText', () => {
  it('never cuts a surrogate pair in half', () => {
    expect(truncateText('ab\u{1F600}', 3)).toBe('ab');
    expect(truncateText('ab\u{1F600}', 4)).toBe('ab\u{1F600}');
    expect(truncateText('abcdef', 3)).toBe('abc');
  });
});

describe('wellFormed and parseWellFormedJson', () => {
  it('replaces lone surrogates only', () => {
    expect(wellFormed('a\ud800b\u0000\u{1F600}')).toBe('a\ufffdb\u0000\u{1F600}');
  });

  it('parses JSON with escaped lone surrogates into well-formed strings and keys', () => {
    const parsed = parseWellFormedJson('{"k\\ud800": ["x\\udc00", {"n": "\\ud83d\\ude00"}], "__proto__": {"p": 1}}') as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['k\ufffd', '__proto__']);
    expect(parsed['k\ufffd']).toEqual(['x\ufffd', { n: '\u{1F600}' }]);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
    expect(parseWellFormedJson('[1,"plain"]')).toEqual([1, 'plain']);
  });
});
