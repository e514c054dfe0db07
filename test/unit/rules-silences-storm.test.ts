/** Silences (requests, CLI matcher syntax, expiry) and storm grouping, table-driven. */
import { describeMatchers, isActive, matchersFromArgs, parseMatcherArg, parseSilenceRequest, silenced, SilenceError, type Silence } from '../../lambdas/domain/rules/silences';
import { chargeSent, digestAlert, digestTimer, foldedOf, groupCharge, maxMessagesPerWindow, mostSevereFirst, stormVerdict, windowStart, DIGEST_EXCERPT_CHARS, DIGEST_MAX_CHARS, type FoldedAlert, type StormSent } from '../../lambdas/domain/rules/storm';
import { slackMessage, SLACK_LIMITS } from '../../channels/slack/render';
import { emailBody } from '../../channels/email/render';
import type { Alert, Severity } from '../../lambdas/domain/types';
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
  const note = (c: string): Pick<Alert, 'severity' | 'state'> =>
    ({ i: { severity: 'info', state: 'firing' }, w: { severity: 'warning', state: 'firing' }, c: { severity: 'critical', state: 'firing' }, r: { severity: 'critical', state: 'resolved' } })[c] as Pick<Alert, 'severity' | 'state'>;
  /** Runs a window's notifications (i/w/c firing, r a resolved critical) through the admit rule: D delivered, F folded. */
  const run = (seq: string, g = grouping) => {
    let sent: StormSent = {};
    return [...seq].map((c) => {
      const v = stormVerdict(sent, note(c), g);
      if (v === 'deliver') sent = chargeSent(sent, note(c));
      return v === 'deliver' ? 'D' : 'F';
    }).join('');
  };
  test.each([
    ['one severity: threshold one by one, then folded', 'iiiiii', 'DDDFFF'],
    ['a storm of criticals: the same', 'cccccc', 'DDDFFF'],
    ['a critical after a window full of INFO goes out at once', 'i'.repeat(20) + 'c', 'DDD' + 'F'.repeat(17) + 'D'],
    ['a warning after infos goes out at once, then warnings get their own budget', 'iiiiwwww', 'DDDFDDDF'],
    ['a critical after infos and warnings still goes out', 'iiiwwwc', 'DDDDDDD'],
    ['criticals count against the lower budgets: infos and warnings fold after them', 'ccciwc', 'DDDFFF'],
    ['resolved notices draw on the info budget', 'iiir', 'DDDF'],
    ['a resolved notice in a quiet window goes out', 'r', 'D'],
    ['worst case: 3 x threshold one by one', 'iiiiwwwwcccc', 'DDDFDDDFDDDF'],
  ])('%s', (_name, seq, expected) => expect(run(seq)).toBe(expected));

  test.each([
    [{}, 'info', 'deliver'],
    [{ info: 2 }, 'info', 'deliver'],
    [{ info: 3 }, 'info', 'fold'],
    [{ info: 500 }, 'critical', 'deliver'],
    [{ info: 500, warning: 3 }, 'warning', 'fold'],
    [{ info: 500, warning: 3, critical: 2 }, 'critical', 'deliver'],
    [{ info: 3, warning: 3, critical: 3 }, 'critical', 'fold'],
  ] as Array<[StormSent, Severity, string]>)('sent %j, a firing %s: %s', (sent, severity, verdict) =>
    expect(stormVerdict(sent, { severity, state: 'firing' }, grouping)).toBe(verdict));

  test('the bound per channel and window', () => {
    expect(maxMessagesPerWindow(grouping)).toBe(10);
    // Least severe first is the worst order; any other order sends fewer one by one.
    expect(run('i'.repeat(200) + 'w'.repeat(200) + 'c'.repeat(200)).replace(/F/g, '')).toHaveLength(maxMessagesPerWindow(grouping) - 1);
    expect(run('iwc'.repeat(200)).replace(/F/g, '').length).toBeLessThan(maxMessagesPerWindow(grouping) - 1);
  });

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
    expect(lines[0]).toBe('CRITICAL: disk on node-7 [node node-7]');
    expect(lines).toHaveLength(41);
    expect(lines.at(-1)).toBe('... and 5 more not listed (of 45 folded)');
    expect(digestAlert(timer, folded.slice(0, 2), 2, grouping).id).toBe(d.id); // one digest per window and channel
  });

  const checkAlert = (i: number, severity: Severity, output: string): Alert => ({
    id: `c${i}`,
    cluster: 'prod',
    source: 'consul',
    kind: 'check',
    severity,
    state: 'firing',
    node: `web-${i}`,
    service: 'web',
    check: 'service:web:http',
    title: `${severity.toUpperCase()}: web-${i} / service:web (HTTP on :80)`,
    from: 'passing',
    to: 'critical',
    at: new Date(NOW + i * 1000).toISOString(),
    details: [['Check', 'service:web:http'], ['Output', output], ['ModifyIndex', String(100 + i)]],
  });

  test.each([
    ['a check: node, service, check and the output', checkAlert(1, 'critical', 'HTTP GET http://10.0.0.1/health:\n 503 Service Unavailable'), ['[node web-1, service web, check service:web:http]', ':: HTTP GET http://10.0.0.1/health: 503 Service Unavailable']],
    ['a long output is cut', checkAlert(2, 'warning', 'x'.repeat(5000)), ['x'.repeat(DIGEST_EXCERPT_CHARS - 1) + '…']],
    [
      'no output: the first telling detail',
      { ...checkAlert(3, 'info', ''), kind: 'member', service: undefined, check: undefined, details: [['ModifyIndex', '1'], ['Reason', 'left the cluster']] } as Alert,
      ['[node web-3] :: Reason: left the cluster'],
    ],
    ['resolved notices say so', { ...checkAlert(4, 'critical', 'ok'), state: 'resolved', title: 'web-4 / service:web passing' } as Alert, ['RESOLVED web-4 / service:web passing']],
  ] as Array<[string, Alert, string[]]>)('digest lines carry the key details: %s', (_name, alert, parts) => {
    const timer = digestTimer('prod', 'slack', NOW, grouping);
    const line = digestAlert(timer, [foldedOf(alert)], 1, grouping).details.find(([k]) => k === 'Alerts')![1];
    expect(line.split('\n')).toHaveLength(1);
    for (const p of parts) expect(line).toContain(p);
  });

  test('a digest of long outputs stays within every channel and says how many it left out', () => {
    const timer = digestTimer('prod', 'slack', NOW, grouping);
    const folded = Array.from({ length: 41 }, (_, i) => foldedOf(checkAlert(i, i === 30 ? 'critical' : 'warning', `boom <${i}> `.repeat(400))));
    const d = digestAlert(timer, folded, 300, grouping);
    const list = d.details.find(([k]) => k === 'Alerts')![1];
    expect(list.length).toBeLessThanOrEqual(DIGEST_MAX_CHARS);
    const lines = list.split('\n');
    expect(lines[0]).toContain('CRITICAL: web-30');
    const listed = lines.length - 1;
    expect(listed).toBeGreaterThan(20);
    expect(lines.at(-1)).toBe(`... and ${300 - listed} more not listed (of 300 folded)`);

    const slack = slackMessage(d);
    const blocks = slack.attachments[0]!.blocks;
    expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    const texts = blocks.flatMap((b) => [(b.text as { text?: string } | undefined)?.text ?? '', ...((b.fields as Array<{ text: string }> | undefined) ?? []).map((f) => f.text)]);
    for (const t of texts) expect(t.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(texts.join('\n')).toContain(`... and ${300 - listed} more not listed (of 300 folded)`);
    expect(texts.join('\n')).toContain('check service:web:http] :: boom &lt;30&gt;');
    expect(emailBody(d)).toContain(`... and ${300 - listed} more not listed (of 300 folded)`);
  });
});

describe('groupCharge: one counter update for a group, as if one by one most severe first', () => {
  const levels: Array<Pick<Alert, 'severity' | 'state'>> = [
    { severity: 'info', state: 'firing' },
    { severity: 'warning', state: 'firing' },
    { severity: 'critical', state: 'firing' },
    { severity: 'critical', state: 'resolved' },
  ];
  it('all go out together exactly when one by one (most severe first) all would, and charge the same', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let run = 0; run < 2000; run++) {
      const threshold = 1 + rand(5);
      const sent: StormSent = { info: rand(7), warning: rand(7), critical: rand(7) };
      const group = Array.from({ length: 1 + rand(6) }, () => levels[rand(levels.length)]!).sort(mostSevereFirst);
      let oneByOne: StormSent = sent;
      let all = true;
      for (const a of group) {
        if (stormVerdict(oneByOne, a, { windowSeconds: 60, threshold }) === 'deliver') oneByOne = chargeSent(oneByOne, a);
        else all = false;
      }
      const together = groupCharge(group, threshold);
      const holds = together !== undefined && Object.entries(together.atMost).every(([l, most]) => (sent[l as Severity] ?? 0) <= most!);
      expect(holds).toBe(all);
      if (holds) {
        const after: StormSent = { ...sent };
        for (const [l, n] of Object.entries(together!.add)) after[l as Severity] = (after[l as Severity] ?? 0) + n!;
        expect(after).toEqual(oneByOne);
      }
    }
  });

  it('cannot hold when a level draws more than its budget', () => {
    expect(groupCharge([levels[0]!, levels[0]!, levels[0]!], 2)).toBeUndefined();
    expect(groupCharge([levels[2]!, levels[2]!, levels[0]!], 2)).toBeUndefined(); // the criticals charge info's budget first
    expect(groupCharge([levels[2]!, levels[2]!], 2)).toEqual({ add: { info: 2, warning: 2, critical: 2 }, atMost: { critical: 0 } });
  });
});

describe('digest wording', () => {
  const grouping = { windowSeconds: 60, threshold: 20 };
  const one: FoldedAlert = { id: 'a', severity: 'warning', state: 'firing', title: 'WARNING: disk on node-1', node: 'node-1', kind: 'check', source: 'consul', at: new Date(0).toISOString() };
  it.each([
    [1, 'WARNING: 1 more notification for cluster prod (storm digest)', '1 notification: 1 firing, 0 resolved'],
    [2, 'WARNING: 2 more notifications for cluster prod (storm digest)', '2 notifications: 2 firing, 0 resolved'],
  ])('%d folded: %s', (n, title, folded) => {
    const d = digestAlert({ kind: 'digest', cluster: 'prod', channel: 'slack', window: 0, dueAt: 62_000 }, Array.from({ length: n }, (_, i) => ({ ...one, id: `a${i}` })), n, grouping);
    expect(d.title).toBe(title);
    expect(Object.fromEntries(d.details).Folded).toBe(folded);
  });
});
