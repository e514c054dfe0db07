/**
 * PagerDuty, table-driven: the alert -> Events API v2 mapping (severity, source, component,
 * group, class, custom_details, links, the summary cut at 1024 on a word boundary); the
 * episode key that makes trigger and resolve share one dedup_key; the channel worker's
 * outcomes against the contract-enforcing fake (202, 429 and 5xx retried, 400 dead-lettered).
 */
import { deliverBatch, type ChannelDeliveryDeps } from '../../lambdas/app/channel-delivery';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { episodeKey, fireTimer, routeAlert } from '../../lambdas/domain/rules/episodes';
import type { SubjectTimer } from '../../lambdas/domain/rules/outbox';
import type { RuntimeConfig } from '../../lambdas/domain/rules/types';
import type { Alert } from '../../lambdas/domain/types';
import { routedCheckAlert } from '../support/routed-alert';
import { snsMessage } from '../../lambdas/adapters/sns-publisher';
import { cutAtWord, pagerDutyEvent, PAGERDUTY_LIMITS, type PagerDutyTrigger } from '../../channels/pagerduty/render';
import { checkRoutingKey, PagerDutySender, routingKeyOfSecret } from '../../channels/pagerduty/sender';
import { StaticChannelSecrets } from '../../channels/queue-delivered/secrets';
import { pagerDutyEventErrors, startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const KEY = 'R0UT1NGKEY0123456789abcdefABCDEF';
const alert = (over: Partial<Alert> = {}): Alert => routedCheckAlert(NOW, over);
const trigger = (a: Alert, link?: string) => pagerDutyEvent(a, link) as PagerDutyTrigger;

describe('pagerDutyEvent', () => {
  test.each([
    ['critical', 'critical'],
    ['warning', 'warning'],
    ['info', 'info'],
  ] as const)('severity %s -> %s', (severity, expected) => {
    expect(trigger(alert({ severity })).payload.severity).toBe(expected);
  });

  test.each<[string, Partial<Alert>, Partial<PagerDutyTrigger['payload']>]>([
    ['a check of a service', {}, { source: 'web-1', component: 'web', group: 'prod', class: 'consul/check' }],
    ['a node check', { service: undefined, check: 'serfHealth' }, { source: 'web-1', component: 'serfHealth' }],
    ['no node: the cluster is the source', { node: '-', service: undefined, check: undefined, source: 'serf', kind: 'member' }, { source: 'prod', class: 'serf/member' }],
  ])('fields: %s', (_name, over, expected) => {
    const p = trigger(alert(over)).payload;
    expect(p).toMatchObject({ ...expected, timestamp: '2026-03-01T12:00:00.000Z', summary: '[prod] CRITICAL: http on web-1' });
    if (!('component' in expected)) expect(p.component).toBeUndefined();
  });

  test.each<[string, Partial<Alert>, string]>([
    ['an episode alert', {}, 'ep-1'],
    ['a reminder of it', { reminder: 2, id: 'abc123-r2' }, 'ep-1'],
    ['an event (no episode): its own id', { episode: undefined, kind: 'event', id: 'evt-9' }, 'evt-9'],
  ])('dedup_key: %s', (_name, over, key) => {
    expect(trigger(alert(over)).dedup_key).toBe(key);
  });

  test('resolved: a resolve under the episode key, nothing else', () => {
    expect(pagerDutyEvent(alert({ state: 'resolved', title: 'RESOLVED: http on web-1', to: 'passing' }))).toEqual({ event_action: 'resolve', dedup_key: 'ep-1' });
  });

  test('custom_details: the status, the details, the rules, the ids; links and client_url from links.alert', () => {
    const e = trigger(alert({ since: '2026-03-01T11:00:00.000Z', reminder: 1 }), 'https://consul.example.com/ui/prod/nodes/web-1');
    expect(e.payload.custom_details).toEqual({
      cluster: 'prod',
      status: 'passing -> critical',
      'observed at': '2026-03-01T12:00:00.000Z',
      since: '2026-03-01T11:00:00.000Z',
      Output: 'connection refused',
      rules: ['web'],
      reminder: 1,
      'alert id': 'abc123',
      episode: 'ep-1',
    });
    expect(e.payload.summary).toBe('[prod] CRITICAL: http on web-1 (reminder 1)');
    expect(e.links).toEqual([{ href: 'https://consul.example.com/ui/prod/nodes/web-1', text: 'Open' }]);
    expect(e.client).toBe('tocsin');
    expect(e.client_url).toBe('https://consul.example.com/ui/prod/nodes/web-1');
    expect(trigger(alert()).links).toBeUndefined();
  });

  test('a digest: its count, no status', () => {
    const e = trigger(alert({ kind: 'digest', episode: undefined, digest: { count: 12, windowStart: '2026-03-01T11:59:00.000Z', windowSeconds: 60 } }));
    expect(e.payload.custom_details).toMatchObject({ 'folded notifications': 12 });
    expect(e.payload.custom_details.status).toBeUndefined();
  });

  test.each<[string, string, number, string]>([
    ['short: as is', 'CRITICAL: disk', 1024, 'CRITICAL: disk'],
    ['cut at the last space, verdict kept', `CRITICAL: ${'word '.repeat(300)}`, 1024, `CRITICAL: ${'word '.repeat(202).trim()}…`],
    ['no space late enough: cut mid-word', `CRITICAL: ${'x'.repeat(2000)}`, 1024, `CRITICAL: ${'x'.repeat(1013)}…`],
    ['trailing punctuation dropped', 'CRITICAL: deregistered, on purpose', 26, 'CRITICAL: deregistered…'],
  ])('cutAtWord: %s', (_name, text, max, expected) => {
    const out = cutAtWord(text, max);
    expect(out).toBe(expected);
    expect([...out].length).toBeLessThanOrEqual(max);
  });

  test('a huge alert is still a valid event: summary <= 1024, custom details cut', () => {
    const e = trigger(alert({ title: `CRITICAL: ${'very long words '.repeat(200)}`, details: [['Output', 'o'.repeat(100_000)]] }));
    expect([...e.payload.summary].length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.summary);
    expect(String(e.payload.custom_details.Output).length).toBeLessThanOrEqual(PAGERDUTY_LIMITS.detailValue);
    expect(pagerDutyEventErrors({ routing_key: KEY, ...e })).toEqual([]);
  });

  test.each([
    ['a firing alert', alert()],
    ['a resolved alert', alert({ state: 'resolved' })],
    ['an alert without node, service or check', alert({ node: '-', service: undefined, check: undefined })],
  ])('the contract accepts %s', (_name, a) => {
    expect(pagerDutyEventErrors({ routing_key: KEY, ...pagerDutyEvent(a, 'https://x.example/y') })).toEqual([]);
  });
});

describe('routing keys', () => {
  test.each([
    [KEY, KEY],
    [`{"routingKey":"${KEY}"}`, KEY],
  ])('secret %s', (secret, key) => expect(routingKeyOfSecret(secret, 'secret tocsin/pd')).toBe(key));

  test.each([['short'], [`${KEY}x`], ['{"key":"x"}'], ['{not json']])('a secret %s is refused, without the value', (secret) => {
    expect(() => routingKeyOfSecret(secret, 'secret tocsin/pd')).toThrow(/secret tocsin\/pd/);
  });
  test('checkRoutingKey names where the key came from', () => expect(() => checkRoutingKey('x', 'the environment variable PD')).toThrow('the environment variable PD does not hold a PagerDuty routing key'));
});

describe('one dedup_key per episode (Alert.episode)', () => {
  const rules = compileRules({
    clusters: ['prod'],
    channels: { pager: { type: 'pagerduty' } },
    defaults: { channels: ['pager'], resolved: true },
    rules: [{ name: 'slow', match: { check: 'slow' }, channels: ['pager'], repeat: 60 }],
    grouping: { windowSeconds: 60, threshold: 20 },
  } satisfies RuntimeConfig);
  const fire = (severity: Alert['severity'], previous: ReturnType<typeof routeAlert>['episode'], nowMs: number, check = 'http') =>
    routeAlert({ rules, alert: alert({ severity, check, episode: undefined, id: `${severity}-${nowMs}` }), subject: `check/web-1/${check}`, previous, nowMs });
  const resolve = (previous: ReturnType<typeof routeAlert>['episode'], nowMs: number) =>
    routeAlert({ rules, alert: alert({ state: 'resolved', to: 'passing', episode: undefined, id: `ok-${nowMs}` }), subject: 'check/web-1/http', previous, nowMs });
  const keys = (r: ReturnType<typeof routeAlert>) => r.outbox!.routing!.deliveries.map((d) => pagerDutyEvent(d.alert, undefined).dedup_key);

  test('firing, a severity change, the resolve: one key; the next episode: another', () => {
    const first = fire('warning', undefined, NOW);
    const key = episodeKey('prod', 'check/web-1/http', NOW);
    expect(keys(first)).toEqual([key]);
    const worse = fire('critical', first.episode, NOW + 5000);
    expect(keys(worse)).toEqual([key]);
    const over = resolve(worse.episode, NOW + 9000);
    expect(over.outbox!.routing!.deliveries.map((d) => pagerDutyEvent(d.alert, undefined))).toEqual([{ event_action: 'resolve', dedup_key: key }]);
    const again = fire('critical', over.episode, NOW + 20_000);
    expect(keys(again)).toEqual([episodeKey('prod', 'check/web-1/http', NOW + 20_000)]);
    expect(keys(again)[0]).not.toBe(key);
    // Another subject's episode starting at the same moment: another key.
    expect(keys(fire('critical', undefined, NOW, 'disk'))).not.toEqual([key]);
  });

  test('a reminder triggers under the episode key', () => {
    const first = fire('critical', undefined, NOW, 'slow');
    const timer = first.outbox!.routing!.timers[0] as SubjectTimer;
    const reminded = fireTimer(timer, first.episode, timer.dueAt);
    const [delivery] = reminded.outbox!.routing!.deliveries;
    expect(delivery!.alert.reminder).toBe(1);
    expect(pagerDutyEvent(delivery!.alert, undefined).dedup_key).toBe(episodeKey('prod', 'check/web-1/slow', NOW));
  });
});

describe('delivery through the channel worker to the PagerDuty contract', () => {
  let pd: FakePagerDuty;
  beforeAll(async () => {
    pd = await startFakePagerDuty();
  });
  afterAll(() => pd.close());
  beforeEach(() => {
    pd.requests.length = 0;
    pd.events.length = 0;
    pd.reply = () => 'contract';
  });

  const deps = (key = KEY): ChannelDeliveryDeps<ReturnType<typeof pagerDutyEvent>> => ({
    render: pagerDutyEvent,
    sender: new PagerDutySender({ pager: pd.url }, new StaticChannelSecrets({ pager: key })),
    clock: { nowMs: () => Date.now() },
    sleep: async () => undefined,
    minIntervalMs: 0,
    retryBaseSeconds: 5,
  });
  const message = (a: Alert, id = 'm1', receiveCount = 1) => {
    const sns = snsMessage(a);
    return { id, body: JSON.stringify({ Message: sns.message, MessageAttributes: {} }), receiveCount };
  };

  test('202: delivered; trigger and resolve under one key', async () => {
    const results = await deliverBatch(deps(), 'pager', [message(alert(), 'm1'), message(alert({ state: 'resolved' }), 'm2')]);
    expect(results).toEqual([
      { id: 'm1', ok: true },
      { id: 'm2', ok: true },
    ]);
    expect(pd.events.map((e) => [e.event_action, e.dedup_key, e.routing_key])).toEqual([
      ['trigger', 'ep-1', KEY],
      ['resolve', 'ep-1', KEY],
    ]);
  });

  test.each([
    [{ status: 429, retryAfter: 7 }, 7, 'PagerDuty rate limited (429)'],
    [{ status: 503 }, 10, 'PagerDuty answered 503'],
    [{ status: 500 }, 10, 'PagerDuty answered 500'],
  ])('%j: retried after %i s', async (reply, after, reason) => {
    pd.reply = () => reply;
    const [r] = await deliverBatch(deps(), 'pager', [message(alert(), 'm1', 2)]);
    expect(r).toMatchObject({ id: 'm1', ok: false, retryAfterSeconds: after, reason: expect.stringContaining(reason) });
    expect(r).not.toHaveProperty('deadLetter');
  });

  test('400 (the contract refuses the event): to the dead-letter queue at once, with PagerDuty\'s errors', async () => {
    const [r] = await deliverBatch(deps('x'.repeat(31)), 'pager', [message(alert())]);
    expect(r).toMatchObject({ id: 'm1', ok: false, deadLetter: true });
    expect((r as { reason: string }).reason).toContain("Length of 'routing_key' is incorrect (should be 32 characters)");
    expect(pd.requests.map((q) => q.status)).toEqual([400]);
    expect(pd.events).toEqual([]);
  });

  test('a network error is retried with backoff', async () => {
    const d = deps();
    d.sender = new PagerDutySender({ pager: 'http://127.0.0.1:9/v2/enqueue' }, new StaticChannelSecrets({ pager: KEY }));
    const [r] = await deliverBatch(d, 'pager', [message(alert(), 'm1', 3)]);
    expect(r).toMatchObject({ ok: false, retryAfterSeconds: 20 });
    expect(r).not.toHaveProperty('deadLetter');
  });
});
