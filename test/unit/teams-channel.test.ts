/**
 * Microsoft Teams, table-driven: the alert -> Workflows message with one Adaptive Card
 * (style and colour by severity and state, facts, the output as plain monospace text, the
 * Open button, Markdown escaped in facts, under 28 KB whatever the alert); the contract of
 * the fake workflow (schema, size, signature); the channel worker's outcomes against it
 * (202 delivered, 429 once with Retry-After then delivered, a refused card dead-lettered).
 */
import { deliverBatch, type ChannelDeliveryDeps } from '../../lambdas/app/channel-delivery';
import { snsMessage } from '../../lambdas/adapters/sns-publisher';
import type { Alert } from '../../lambdas/domain/types';
import { teamsChannel } from '../../channels/teams';
import { TEAMS_INFRA } from '../../channels/teams/infra';
import { escapeTeamsMarkdown, messageBytes, teamsMessage, TEAMS_LIMITS, type TeamsMessage } from '../../channels/teams/render';
import { checkWorkflowUrl, TeamsWorkflowSender, workflowUrlOfSecret } from '../../channels/teams/sender';
import { StaticChannelSecrets } from '../../channels/queue-delivered/secrets';
import { startFakeTeams, teamsMessageErrors, TEAMS_MAX_MESSAGE_BYTES, type FakeTeams } from '../support/fake-teams';

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'abc123def456789',
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: 'critical',
  state: 'firing',
  node: 'web-1',
  service: 'web',
  check: 'service:web',
  title: 'CRITICAL: web-1 / service:web (HTTP on :80)',
  from: 'passing',
  to: 'critical',
  at: '2026-03-01T12:00:00.000Z',
  since: '2026-03-01T11:00:00.000Z',
  details: [
    ['Type', 'http'],
    ['Output', 'HTTP GET http://127.0.0.1/health: 503 *Service_Unavailable*\nretry later'],
  ],
  rules: ['web'],
  episode: 'ep-1',
  ...over,
});
const card = (m: TeamsMessage) => m.attachments[0].content;
const header = (m: TeamsMessage) => card(m).body[0] as { style: string; items: Array<Record<string, any>> };
const facts = (m: TeamsMessage) => Object.fromEntries((card(m).body[1] as { facts: Array<{ title: string; value: string }> }).facts.map((f) => [f.title, f.value]));

describe('teamsMessage', () => {
  test.each<[string, Partial<Alert>, string, string]>([
    ['critical firing', {}, 'attention', 'CRITICAL'],
    ['warning firing', { severity: 'warning' }, 'warning', 'WARNING'],
    ['info firing', { severity: 'info' }, 'accent', 'INFO'],
    ['resolved (whatever its severity)', { state: 'resolved', to: 'passing', from: 'critical' }, 'good', 'RESOLVED'],
  ])('%s: container style %s, label %s', (_name, over, style, label) => {
    const m = teamsMessage(alert(over));
    expect(header(m).style).toBe(style);
    expect(header(m).items[0]).toMatchObject({ text: label, color: style });
  });

  test('the message shape, the verdict in the title and summary, the facts, the output in plain monospace, the link', () => {
    const m = teamsMessage(alert(), 'https://consul.example.com/ui/prod/nodes/web-1');
    expect(m).toMatchObject({ type: 'message', summary: '[prod] CRITICAL: web-1 / service:web (HTTP on :80)', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null }] });
    expect(card(m)).toMatchObject({ type: 'AdaptiveCard', version: '1.4', fallbackText: m.summary, actions: [{ type: 'Action.OpenUrl', title: 'Open', url: 'https://consul.example.com/ui/prod/nodes/web-1' }] });
    expect(header(m).items[1]).toEqual({ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'CRITICAL: web-1 / service:web (HTTP on :80)', size: 'Large', weight: 'Bolder' }] });
    expect(facts(m)).toEqual({
      Cluster: 'prod',
      Node: 'web\\-1',
      Service: 'web',
      Check: 'service:web',
      Status: 'passing → critical',
      Since: '2026\\-03\\-01T11:00:00\\.000Z',
      'Observed at': '2026\\-03\\-01T12:00:00\\.000Z',
      Type: 'http',
    });
    // The output, as it came: a TextRun is plain text, so its * and _ stay characters.
    expect(card(m).body).toContainEqual({ type: 'RichTextBlock', inlines: [{ type: 'TextRun', text: 'HTTP GET http://127.0.0.1/health: 503 *Service_Unavailable*\nretry later', fontType: 'Monospace' }] });
    expect(JSON.stringify(card(m).body.at(-1))).toContain('rule web');
    expect(card(teamsMessage(alert())).actions).toBeUndefined();
  });

  test.each<[string, Partial<Alert>, Record<string, string | undefined>]>([
    ['resolved: "Resolved at"', { state: 'resolved' }, { 'Resolved at': '2026\\-03\\-01T12:00:00\\.000Z', 'Observed at': undefined }],
    ['no node, service or check (a Serf member event)', { node: '-', service: undefined, check: undefined, source: 'serf', kind: 'member', since: undefined }, { Node: undefined, Service: undefined, Check: undefined, Since: undefined }],
    ['a digest: no status', { kind: 'digest', digest: { count: 12, windowStart: '2026-03-01T11:59:00.000Z', windowSeconds: 60 } }, { Status: undefined }],
  ])('facts: %s', (_name, over, expected) => {
    const f = facts(teamsMessage(alert(over)));
    for (const [k, v] of Object.entries(expected)) expect(f[k]).toBe(v);
  });

  test.each([
    ['**bold** _it_', '\\*\\*bold\\*\\* \\_it\\_'],
    ['[x](http://y)', '\\[x\\]\\(http://y\\)'],
    ['plain words', 'plain words'],
  ])('Markdown in fact values is escaped: %s', (text, escaped) => expect(escapeTeamsMarkdown(text)).toBe(escaped));

  test('a reminder says so in the title', () => {
    expect(teamsMessage(alert({ reminder: 2 })).summary).toBe('[prod] CRITICAL: web-1 / service:web (HTTP on :80) (reminder 2)');
  });

  test.each<[string, Partial<Alert>]>([
    ['a 1 MB output', { details: [['Output', 'o'.repeat(1_000_000)]] }],
    ['multi-byte output and many details', { details: Array.from({ length: 40 }, (_v, i): [string, string] => [`Detail ${i}`, `é"\n`.repeat(3000)]) }],
    ['a 5,000-word title', { title: `CRITICAL: ${'word '.repeat(5000)}` }],
  ])('%s: under 28 KB and valid', (_name, over) => {
    const m = teamsMessage(alert(over), 'https://consul.example.com/x');
    expect(messageBytes(m)).toBeLessThanOrEqual(TEAMS_LIMITS.messageBytes);
    expect([...m.summary].length).toBeLessThanOrEqual(TEAMS_LIMITS.title);
    expect(m.summary.startsWith('[prod] CRITICAL:')).toBe(true);
    expect(teamsMessageErrors(m)).toEqual([]);
  });

  test.each([
    ['a firing alert with a link', teamsMessage(alert(), 'https://x.example/y')],
    ['a resolved alert', teamsMessage(alert({ state: 'resolved' }))],
    ['a templated one', teamsMessage(alert(), undefined, { title: 'Disk on {{node}}', body: 'line 1\nline 2' })],
  ])('the Adaptive Card schema accepts %s', (_name, m) => expect(teamsMessageErrors(m)).toEqual([]));
});

describe('the fake workflow enforces the contract', () => {
  test.each<[string, unknown, string]>([
    ['not a message', { type: 'AdaptiveCard', body: [] }, 'type must be "message"'],
    ['no attachments', { type: 'message', attachments: [] }, 'attachments must be a non-empty list'],
    ['a MessageCard (retired connectors)', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.teams.card.o365connector', content: { '@type': 'MessageCard' } }] }, 'contentType must be application/vnd.microsoft.card.adaptive'],
    ['a card without version', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', body: [] } }] }, "must have required property 'version'"],
    ['an unknown card property', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', colour: 'red' } }] }, 'must NOT have additional properties'],
    ['a TextBlock without text', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock' }] } }] }, "must have required property 'text'"],
    ['a bad container style', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'Container', style: 'red', items: [] }] } }] }, '/body/0/style: must match pattern'],
    ['a fact without value', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'FactSet', facts: [{ title: 'a' }] }] } }] }, "must have required property 'value'"],
    ['a relative OpenUrl', { type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', actions: [{ type: 'Action.OpenUrl', url: '/x' }] } }] }, 'is not an absolute URL'],
  ])('refuses %s', (_name, body, error) => {
    expect(teamsMessageErrors(body).join('\n')).toContain(error);
  });
});

describe('workflow URLs', () => {
  test.each([
    ['https://prod-1.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x', 'https://prod-1.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=x'],
    ['{"url":"https://x.example/w?sig=1"}', 'https://x.example/w?sig=1'],
  ])('secret %s', (secret, url) => expect(workflowUrlOfSecret(secret, 'secret tocsin/teams')).toBe(url));
  test.each([['http://x.example/w'], ['not a url'], ['{"uri":"https://x"}']])('a secret %s is refused, without the value', (secret) => {
    expect(() => workflowUrlOfSecret(secret, 'secret tocsin/teams')).toThrow(/secret tocsin\/teams/);
  });
  test('locally http is allowed (a stand-in)', () => expect(checkWorkflowUrl('http://127.0.0.1:1/w', 'url', false)).toBe('http://127.0.0.1:1/w'));
  test('deploying needs secretParameter or secretName; the Lambdas never see url or urlEnv', () => {
    expect(TEAMS_INFRA.deployment('t', { type: 'teams', url: 'https://x.example' })).toEqual({ issues: [{ path: ['secretParameter'], reason: expect.stringContaining('needs secretParameter (the SSM SecureString parameter holding its Workflows webhook URL) or secretName') }] });
    expect(TEAMS_INFRA.deployment('t', { type: 'teams', secretParameter: '/tocsin/teams/ops' })).toEqual({ channel: { name: 't', secret: { store: 'parameterStore', name: '/tocsin/teams/ops' } } });
    expect(teamsChannel.forLambda({ type: 'teams', secretParameter: '/p', urlEnv: 'E' })).toEqual({ type: 'teams', secretParameter: '/p' });
    expect(teamsChannel.forLambda({ type: 'teams', secretName: 's', url: 'https://x.example', urlEnv: 'E', minSeverity: 'warning' })).toEqual({ type: 'teams', secretName: 's', minSeverity: 'warning' });
    expect(teamsChannel.check?.({ type: 'teams', url: 'https://x', urlEnv: 'E' })).toEqual([{ path: ['url'], reason: 'give url or urlEnv, not both' }]);
  });
});

describe('the channel worker against the fake workflow', () => {
  let teams: FakeTeams;
  beforeEach(async () => {
    teams = await startFakeTeams();
  });
  afterEach(() => teams.close());

  const deps = (url: string): ChannelDeliveryDeps<TeamsMessage> => ({
    render: teamsMessage,
    sender: new TeamsWorkflowSender(new StaticChannelSecrets({ ops: url })),
    clock: { nowMs: () => Date.now() },
    sleep: async () => undefined,
    minIntervalMs: 0,
    retryBaseSeconds: 5,
    linkTemplate: 'https://consul.example.com/ui/{cluster}/nodes/{node}',
  });
  const message = (a: Alert, id = 'm1', receiveCount = 1) => ({ id, body: JSON.stringify({ Message: snsMessage(a).message, MessageAttributes: {} }), receiveCount });

  test('202: delivered, the card valid and linked', async () => {
    const results = await deliverBatch(deps(teams.url('ops')), 'ops', [message(alert(), 'm1'), message(alert({ state: 'resolved' }), 'm2')]);
    expect(results).toEqual([
      { id: 'm1', ok: true },
      { id: 'm2', ok: true },
    ]);
    expect(teams.cardsOf('ops').map((c) => [c.body[0].style, c.actions[0].url])).toEqual([
      ['attention', 'https://consul.example.com/ui/prod/nodes/web-1'],
      ['good', 'https://consul.example.com/ui/prod/nodes/web-1'],
    ]);
  });

  test('429 once: retried after its Retry-After, the rest of the batch waits too; the next receive is delivered', async () => {
    teams.throttleOnce = 7;
    const first = await deliverBatch(deps(teams.url('ops')), 'ops', [message(alert(), 'm1'), message(alert(), 'm2')]);
    expect(first).toEqual([
      { id: 'm1', ok: false, retryAfterSeconds: 7, reason: 'Teams rate limited (429)' },
      { id: 'm2', ok: false, retryAfterSeconds: 7, reason: 'Teams rate limited (429)' },
    ]);
    const again = await deliverBatch(deps(teams.url('ops')), 'ops', [message(alert(), 'm1', 2)]);
    expect(again).toEqual([{ id: 'm1', ok: true }]);
  });

  test.each<[string, (url: string) => string, (t: FakeTeams) => void, number]>([
    ['a wrong signature (401)', (url) => url.replace(/sig=[^&]+/, 'sig=forged'), () => undefined, 401],
    ['a refused card (400)', (url) => url, (t) => (t.reply = () => ({ status: 400, body: '{"error":{"code":"InvalidTemplate"}}' })), 400],
    ['a deleted workflow (404)', (url) => url.replace('/workflows/ops/', '/workflows/gone/'), () => undefined, 404],
  ])('%s: to the dead-letter queue at once, with the reason, never the URL', async (_name, urlOf, arrange, status) => {
    arrange(teams);
    const url = urlOf(teams.url('ops'));
    const [r] = await deliverBatch(deps(url), 'ops', [message(alert())]);
    expect(r).toMatchObject({ ok: false, deadLetter: true, reason: expect.stringContaining(`Teams refused it (${status})`) });
    expect((r as { reason: string }).reason).not.toContain('sig=');
  });

  test('5xx: retried with backoff', async () => {
    teams.reply = () => ({ status: 502 });
    const [r] = await deliverBatch(deps(teams.url('ops')), 'ops', [message(alert(), 'm1', 3)]);
    expect(r).toMatchObject({ ok: false, retryAfterSeconds: 20, reason: expect.stringContaining('Teams answered 502') });
    expect(r).not.toHaveProperty('deadLetter');
  });

  test('the fake refuses a message over 28 KB (413)', async () => {
    const big = teamsMessage(alert());
    (big.attachments[0].content.body as unknown[]).push({ type: 'TextBlock', text: 'x'.repeat(TEAMS_MAX_MESSAGE_BYTES) });
    const res = await new TeamsWorkflowSender(new StaticChannelSecrets({})).send(teams.url('ops'), big);
    expect(res.status).toBe(413);
  });
});
