import { memberFingerprint, parseMemberLine, parseMemberLines, parseTags, unescapeField } from '../../lambdas/domain/serf/member-lines';
import { memberLine } from '../support/serf-fixtures';

describe('parseMemberLine', () => {
  it.each<[string, string, { name: string; addr: string; role: string; tags: Record<string, string>; ambiguousTags?: boolean }]>([
    ['plain', 'web-1\t10.0.0.1\tweb\trole=web,dc=eu\n', { name: 'web-1', addr: '10.0.0.1', role: 'web', tags: { role: 'web', dc: 'eu' } }],
    ['no tags at all', 'db-2\t10.0.0.2\t\t\n', { name: 'db-2', addr: '10.0.0.2', role: '', tags: {} }],
    ['IPv6 loopback', 'v6\t::1\t\tdc=eu', { name: 'v6', addr: '::1', role: '', tags: { dc: 'eu' } }],
    ['IPv6 full', 'v6b\t2001:db8::8a2e:370:7334\tdb\trole=db', { name: 'v6b', addr: '2001:db8::8a2e:370:7334', role: 'db', tags: { role: 'db' } }],
    ['IPv6 link-local', 'v6c\tfe80::1\t\t', { name: 'v6c', addr: 'fe80::1', role: '', tags: {} }],
    ['escaped TAB in a tag value', 'a\t1.2.3.4\t\tnote=x\\ty', { name: 'a', addr: '1.2.3.4', role: '', tags: { note: 'x\ty' } }],
    ['escaped LF in the name and the role', 'odd\\nname\t1.2.3.4\tr\\tole\trole=r\\tole', { name: 'odd\nname', addr: '1.2.3.4', role: 'r\tole', tags: { role: 'r\tole' } }],
    ['"=" inside a value', 'a\t1.2.3.4\t\texpr=x=y,dc=eu', { name: 'a', addr: '1.2.3.4', role: '', tags: { expr: 'x=y', dc: 'eu' } }],
    ['URL with query string', 'a\t1.2.3.4\t\turl=http://h:8080/p?a=1&b=2', { name: 'a', addr: '1.2.3.4', role: '', tags: { url: 'http://h:8080/p?a=1&b=2' } }],
    ['"," inside a value (no key after it)', 'a\t1.2.3.4\t\tlist=a,b,c,dc=eu', { name: 'a', addr: '1.2.3.4', role: '', tags: { list: 'a,b,c', dc: 'eu' }, ambiguousTags: true }],
    ['empty segments inside a value', 'a\t1.2.3.4\t\tv=a,,b', { name: 'a', addr: '1.2.3.4', role: '', tags: { v: 'a,,b' }, ambiguousTags: true }],
    ['empty value', 'a\t1.2.3.4\t\tempty=,dc=eu', { name: 'a', addr: '1.2.3.4', role: '', tags: { empty: '', dc: 'eu' } }],
    ['value with ",k=" resolved by the ROLE column', 'a\t1.2.3.4\tweb,dc=us\trole=web,dc=us,zone=b', { name: 'a', addr: '1.2.3.4', role: 'web,dc=us', tags: { role: 'web,dc=us', zone: 'b' }, ambiguousTags: true }],
    ['ROLE anchor in the middle', 'a\t1.2.3.4\tx,y=1\tzone=b,role=x,y=1,k=v', { name: 'a', addr: '1.2.3.4', role: 'x,y=1', tags: { zone: 'b', role: 'x,y=1', k: 'v' }, ambiguousTags: true }],
    ['non-ASCII', 'nœud\t10.1.1.1\t\tville=Zürich', { name: 'nœud', addr: '10.1.1.1', role: '', tags: { ville: 'Zürich' } }],
  ])('%s', (_name, line, expected) => {
    const got = parseMemberLine(line.replace(/\n$/, ''));
    expect(got).toMatchObject({ ...expected, ambiguousTags: expected.ambiguousTags ?? false });
  });

  it.each([
    ['three fields', 'a\t1.2.3.4\tweb'],
    ['five fields', 'a\t1.2.3.4\tweb\tk=v\textra'],
    ['empty name', '\t1.2.3.4\t\t'],
    ['empty address', 'a\t\t\t'],
    ['a name over 512 bytes', `${'é'.repeat(300)}\t1.2.3.4\t\t`],
  ])('rejects %s', (_name, line) => {
    expect(() => parseMemberLine(line)).toThrow();
  });
});

describe('parseTags heuristic: the documented limit', () => {
  it('splits a value that contains ",word=" (Serf does not escape it)', () => {
    expect(parseTags('msg=hello,world=1').tags).toEqual({ msg: 'hello', world: '1' });
  });
  it('duplicate keys from such a split are flagged', () => {
    expect(parseTags('a=x,b=y,b=z')).toEqual({ tags: { a: 'x', b: 'y' }, ambiguous: true });
  });
});

describe('unescapeField', () => {
  it.each([
    ['a\\tb', 'a\tb'],
    ['a\\nb', 'a\nb'],
    ['\\t\\n', '\t\n'],
    ['back\\slash', 'back\\slash'],
    ['trailing\\', 'trailing\\'],
  ])('%j', (raw, out) => expect(unescapeField(raw)).toBe(out));
});

describe('parseMemberLines', () => {
  it('several members in one invocation, blank lines ignored, bad lines rejected by index', () => {
    const text = [
      memberLine('a', '127.0.0.11', { role: 'web', dc: 'eu' }),
      'broken line without tabs\n',
      memberLine('b', '::1', {}),
      '\n',
      memberLine('c', '127.0.0.13', { 'k.x': 'v=1' }),
    ].join('');
    const { members, rejected } = parseMemberLines(text);
    expect(members.map((m) => [m.name, m.addr])).toEqual([
      ['a', '127.0.0.11'],
      ['b', '::1'],
      ['c', '127.0.0.13'],
    ]);
    expect(members[2]?.tags).toEqual({ 'k.x': 'v=1' });
    expect(rejected).toEqual([{ index: 1, reason: expect.stringContaining('4 TAB-separated fields') }]);
  });

  it('empty stdin: no members', () => {
    expect(parseMemberLines('')).toEqual({ members: [], rejected: [] });
  });

  it('a member listed twice keeps its last line', () => {
    const { members } = parseMemberLines(`${memberLine('a', '10.0.0.1', { v: '1' })}${memberLine('a', '10.0.0.1', { v: '2' })}`);
    expect(members).toHaveLength(1);
    expect(members[0]?.tags).toEqual({ v: '2' });
  });
});

describe('memberFingerprint', () => {
  it('ignores tag order (Go map iteration varies per line and agent)', () => {
    expect(memberFingerprint('1.2.3.4', 'web', 'role=web,k=a,b=c,tab=x\\ty')).toBe(memberFingerprint('1.2.3.4', 'web', 'tab=x\\ty,role=web,k=a,b=c'));
    expect(memberFingerprint('1.2.3.4', 'web', 'k=a,b=c,role=web')).toBe(memberFingerprint('1.2.3.4', 'web', 'role=web,k=a,b=c'));
  });
  it.each([
    ['the address', ['1.2.3.5', 'web', 'role=web']],
    ['the role', ['1.2.3.4', 'db', 'role=web']],
    ['a tag value', ['1.2.3.4', 'web', 'role=web2']],
    ['an added tag', ['1.2.3.4', 'web', 'role=web,x=1']],
  ] as Array<[string, [string, string, string]]>)('changes with %s', (_what, args) => {
    expect(memberFingerprint(...args)).not.toBe(memberFingerprint('1.2.3.4', 'web', 'role=web'));
  });
});
