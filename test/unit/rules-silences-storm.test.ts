/** Silences (requests, CLI matcher syntax, expiry) and storm grouping, table-driven. */
import { describeMatchers, isActive, matchersFromArgs, parseMatcherArg, parseSilenceRequest, silenced, SilenceError, type Silence } from '../../lambdas/domain/rules/silences';
import { digestAlert, digestTimer, stormVerdict, windowStart, type FoldedAlert } from '../../lambdas/domain/rules/storm';
import type { MatchFacts } from '../../lambdas/domain/rules/types';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const facts: MatchFacts = { source: 'consul', kind: 'check', cluster: 'prod', node: 'web-1', service: 'web', check: 'http', status: 'critical', severity: 'critical', tags: ['canary'] };

describe('parseMatcherArg: the CLI syntax', () => {
  test.each([
    ['service=web', { field: 'service', spec: 'web' }],
    ['node=web-*', { field: 'node', spec: { glob: 'web-*' } }],
    ['node!=db-1', { field: 'node', spec: { not: 'db-1' } }],
    ['check=~^service:', { field: 'check', spec: { regex: '^service:' } }],
    ['payload!~fail', { field: 'payload', spec: { not: { regex: 'fail' } } }],
    ['nodeMeta.rack=r1?', { field: 'nodeMeta', key: 'rack', spec: { glob: 'r1?' } }],
    ['event=a=b', { field: 'event', spec: 'a=b' }],
  ])('%s', (arg, expected) => expect(parseMatcherArg(arg)).toEqual(expected));

  test.each([['service'], ['=web'], ['service~web']])('%s is refused', (arg) => expect(() => parseMatcherArg(arg)).toThrow(SilenceError));

  test('several arguments make one matcher set; unknown fields and duplicates are refused', () => {
    expect(matchersFromArgs(['service=web', 'nodeMeta.rack=r1', 'nodeMeta.zone!=a'])).toEqual({ service: 'web', nodeMeta: { rack: 'r1', zone: { not: 'a' } } });
    expect(() => matchersFromArgs(['colour=red'])).toThrow(/unknown field/);
    expect(() => matchersFromArgs(['node=a', 'node=b'])).toThrow(/twice/);
    expect(() => matchersFromArgs(['node=~('])).toThrow(/does not compile/);
  });

  test('describeMatchers prints them back', () => {
    expect(describeMatchers(matchersFromArgs(['service=web', 'node!=db-1', 'check=~^s', 'nodeMeta.rack=r1']))).toBe('service=web node!=db-1 check=~^s nodeMeta.rack=r1');
  });
});

describe('parseSilenceRequest', () => {
  const ok = { matchers: { service: 'web' }, duration: '2h', author: 'ana', comment: 'deploy' };
  test('duration, cluster from the signature, normalised times', () => {
    expect(parseSilenceRequest(ok, 'prod', 'id1', NOW)).toEqual({
      id: 'id1',
      cluster: 'prod',
      matchers: { service: 'web' },
      startsAt: '2026-03-01T12:00:00.000Z',
      endsAt: '2026-03-01T14:00:00.000Z',
      author: 'ana',
      comment: 'deploy',
      createdAt: '2026-03-01T12:00:00.000Z',
    });
  });

  test.each([
    ['no matchers', { ...ok, matchers: {} }, /at least one matcher/],
    ['a cluster matcher', { ...ok, matchers: { cluster: 'other' } }, /cluster whose admin key signed it/],
    ['no end', { ...ok, duration: undefined }, /endsAt or duration is required/],
    ['both ends', { ...ok, endsAt: '2026-03-02T00:00:00Z' }, /not both/],
    ['already over', { ...ok, duration: undefined, endsAt: '2026-03-01T11:00:00Z' }, /already be over/],
    ['too long', { ...ok, duration: '91d' }, /at most 90 days/],
    ['no comment', { ...ok, comment: ' ' }, /comment is required/],
    ['no author', { ...ok, author: undefined }, /author is required/],
    ['bad regex', { ...ok, matchers: { node: { regex: '[' } } }, /matchers.node: regex/],
  ])('%s', (_n, body, message) => expect(() => parseSilenceRequest(body, 'prod', 'id', NOW)).toThrow(message));
});

describe('silenced: an expired silence never applies', () => {
  const base: Silence = { id: 's', cluster: 'prod', matchers: { service: 'web' }, startsAt: new Date(NOW - 60_000).toISOString(), endsAt: new Date(NOW + 60_000).toISOString(), author: 'a', comment: 'c', createdAt: '' };
  test.each([
    ['active and matching', base, true],
    ['expired (end time passed, TTL not yet)', { ...base, endsAt: new Date(NOW - 1).toISOString() }, false],
    ['ends exactly now', { ...base, endsAt: new Date(NOW).toISOString() }, false],
    ['not started yet', { ...base, startsAt: new Date(NOW + 1000).toISOString() }, false],
    ['another cluster', { ...base, cluster: 'staging' }, false],
    ['not matching', { ...base, matchers: { service: 'db' } }, false],
    ['negated tag matcher', { ...base, matchers: { tags: { not: 'canary' } } }, false],
  ] as Array<[string, Silence, boolean]>)('%s', (_n, s, expected) => {
    expect(Boolean(silenced([s], facts, NOW))).toBe(expected);
    expect(isActive(s, NOW) || !expected).toBe(true);
  });
});

describe('storm grouping', () => {
  const grouping = { windowSeconds: 60, threshold: 3 };
  test('fixed windows per (cluster, channel)', () => {
    expect(windowStart(Date.parse('2026-03-01T12:00:59.999Z'), grouping)).toBe(Date.parse('2026-03-01T12:00:00Z'));
    expect(windowStart(Date.parse('2026-03-01T12:01:00Z'), grouping)).toBe(Date.parse('2026-03-01T12:01:00Z'));
  });
  test.each([
    [1, 'deliver'],
    [3, 'deliver'],
    [4, 'fold'],
    [500, 'fold'],
  ])('notification #%d of a window: %s', (n, verdict) => expect(stormVerdict(n, grouping)).toBe(verdict));

  test('the digest: due after the window, highest severity first, long lists cut', () => {
    const timer = digestTimer('prod', 'slack', NOW, grouping);
    expect(timer).toEqual({ kind: 'digest', cluster: 'prod', channel: 'slack', window: NOW, dueAt: NOW + 62_000 });
    const folded: FoldedAlert[] = Array.from({ length: 45 }, (_, i) => ({
      id: `a${i}`,
      severity: i === 7 ? 'critical' : 'warning',
      state: 'firing',
      title: `${i === 7 ? 'CRITICAL' : 'WARNING'}: disk on node-${i}`,
      node: `node-${i}`,
      kind: 'check',
      source: 'consul',
      at: new Date(NOW + i).toISOString(),
    }));
    const d = digestAlert(timer, folded.slice(0, 41), 45, grouping);
    expect(d).toMatchObject({ kind: 'digest', severity: 'critical', channels: ['slack'], digest: { count: 45, windowSeconds: 60 }, title: 'CRITICAL: 45 more notifications for cluster prod (storm digest)' });
    const lines = d.details.find(([k]) => k === 'Alerts')![1].split('\n');
    expect(lines[0]).toBe('CRITICAL: disk on node-7');
    expect(lines).toHaveLength(41);
    expect(lines.at(-1)).toBe('... and 5 more');
    expect(digestAlert(timer, folded.slice(0, 2), 2, grouping).id).toBe(d.id); // one digest per window and channel
  });
});
