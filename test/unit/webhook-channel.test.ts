/**
 * The generic webhook: the payload (every kind of alert) against schema/webhook-payload.v1.json;
 * the signature a receiver written here verifies (and an old timestamp it refuses); the
 * channel worker's outcomes (429/5xx/network retried; other 4xx and redirects dead-lettered).
 */
import { deliverBatch, type ChannelDeliveryDeps } from '../../lambdas/app/channel-delivery';
import { snsMessage } from '../../lambdas/adapters/sns-publisher';
import { HEADERS } from '../../lambdas/domain/protocol';
import { canonicalRequest, keyId } from '../../lambdas/domain/signing';
import type { Alert } from '../../lambdas/domain/types';
import { routedCheckAlert } from '../support/routed-alert';
import { StaticChannelSecrets } from '../../channels/queue-delivered/secrets';
import { webhookPayload, type WebhookPayload } from '../../channels/webhook/render';
import { signedHeaders, signingKeysOfSecret, WebhookPayloadSender } from '../../channels/webhook/sender';
import { startWebhookReceiver, webhookPayloadValidator, type WebhookReceiver } from '../support/webhook-receiver';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const KEY = 'k'.repeat(40);
const OLD_KEY = 'o'.repeat(40);
const alert = (over: Partial<Alert> = {}): Alert => routedCheckAlert(NOW, over);

describe('the payload, version 1', () => {
  const validate = webhookPayloadValidator();
  test.each<[string, Partial<Alert>, string | undefined]>([
    ['firing', {}, 'https://consul.example.com/ui/prod/nodes/web-1'],
    ['resolved', { state: 'resolved', to: 'passing', since: new Date(NOW - 60_000).toISOString() }, undefined],
    ['a reminder', { reminder: 3, id: 'abc123-r3' }, undefined],
    ['an event without node or episode', { kind: 'event', node: '-', service: undefined, check: undefined, from: undefined, episode: undefined, severity: 'info' }, undefined],
    ['a digest', { kind: 'digest', episode: undefined, digest: { count: 4, windowStart: new Date(NOW).toISOString(), windowSeconds: 60 } }, undefined],
    ['a serf member', { source: 'serf', kind: 'member', service: undefined, check: undefined }, undefined],
  ])('%s matches the schema', (_name, over, link) => {
    const p = webhookPayload(alert(over), link);
    expect(validate(p)).toBe(true);
    expect(validate.errors ?? null).toBeNull();
  });

  test('fields: the state, the episode (or the id), the details as name/value', () => {
    expect(webhookPayload(alert(), 'https://x.example/a')).toEqual({
      version: 1,
      id: 'abc123',
      episode: 'ep-1',
      state: 'firing',
      severity: 'critical',
      title: 'CRITICAL: http on web-1',
      cluster: 'prod',
      source: 'consul',
      kind: 'check',
      node: 'web-1',
      service: 'web',
      check: 'http',
      from: 'passing',
      to: 'critical',
      at: '2026-03-01T12:00:00.000Z',
      details: [{ name: 'Output', value: 'connection refused' }],
      rules: ['web'],
      link: 'https://x.example/a',
    } satisfies WebhookPayload);
    expect(webhookPayload(alert({ episode: undefined, node: '-' })).episode).toBe('abc123');
    expect(webhookPayload(alert({ node: '-' })).node).toBeUndefined();
  });

  test('the schema refuses what version 1 does not have', () => {
    expect(validate({ ...webhookPayload(alert()), extra: 1 })).toBe(false);
    expect(validate({ ...webhookPayload(alert()), state: 'pending' })).toBe(false);
    const { episode: _e, ...withoutEpisode } = webhookPayload(alert());
    expect(validate(withoutEpisode)).toBe(false);
  });
});

describe('signing', () => {
  test('the signed string and headers: the ingest scheme over the path and query of the url', () => {
    const body = '{"a":1}';
    const h = signedHeaders(`${KEY} ${OLD_KEY}`, 'https://hooks.example.com/tocsin/in?team=ops', body, 1_700_000_000.7);
    expect(h[HEADERS.timestamp]).toBe('1700000000');
    expect(h[HEADERS.keyId]).toBe(keyId(KEY));
    expect(h['x-tocsin-webhook-version']).toBe('1');
    expect(canonicalRequest('POST', '/tocsin/in?team=ops', '1700000000', body)).toBe(
      'v1\nPOST\n/tocsin/in?team=ops\n1700000000\n015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862',
    );
    const { createHmac } = require('node:crypto') as typeof import('node:crypto');
    const expected = createHmac('sha256', KEY).update(canonicalRequest('POST', '/tocsin/in?team=ops', '1700000000', body)).digest('hex');
    expect(h[HEADERS.signature]).toBe(`v1=${expected}`);
  });

  test.each([
    [KEY, KEY],
    [`{"signingKey":"${KEY} ${OLD_KEY}"}`, `${KEY} ${OLD_KEY}`],
  ])('secret %s', (secret, keys) => expect(signingKeysOfSecret(secret, 'secret tocsin/hook')).toBe(keys));
  test.each([['short'], [`${KEY} short`], ['{"url":"x"}']])('a secret %s is refused, naming it', (secret) => {
    expect(() => signingKeysOfSecret(secret, 'secret tocsin/hook')).toThrow(/secret tocsin\/hook/);
  });
});

describe('delivery through the channel worker to a verifying receiver', () => {
  let rx: WebhookReceiver;
  beforeAll(async () => {
    rx = await startWebhookReceiver([KEY, OLD_KEY]);
  });
  afterAll(() => rx.close());
  beforeEach(() => {
    rx.requests.length = 0;
    rx.accepted.length = 0;
    rx.reply = () => undefined;
  });

  const deps = (opts: { key?: string; clockOffsetMs?: number; path?: string } = {}): ChannelDeliveryDeps<WebhookPayload> => ({
    render: webhookPayload,
    sender: new WebhookPayloadSender({ hook: rx.url(opts.path ?? '/in?x=1') }, new StaticChannelSecrets({ hook: opts.key ?? KEY }), { nowMs: () => Date.now() + (opts.clockOffsetMs ?? 0) }),
    clock: { nowMs: () => Date.now() },
    sleep: async () => undefined,
    minIntervalMs: 0,
    retryBaseSeconds: 5,
  });
  const message = (a: Alert, id = 'm1', receiveCount = 1) => ({ id, body: JSON.stringify({ Message: snsMessage(a).message, MessageAttributes: {} }), receiveCount });

  test('verified and valid: firing then resolved under one episode; a repeat of a notification is dropped by its id', async () => {
    const results = await deliverBatch(deps(), 'hook', [message(alert(), 'm1'), message(alert(), 'm2'), message(alert({ id: 'def456', state: 'resolved', to: 'passing' }), 'm3')]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(rx.requests.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(rx.accepted.map((p) => [p.id, p.state, p.episode])).toEqual([
      ['abc123', 'firing', 'ep-1'],
      ['def456', 'resolved', 'ep-1'],
    ]);
  });

  test('the older key of a rotation still verifies', async () => {
    const [r] = await deliverBatch(deps({ key: OLD_KEY }), 'hook', [message(alert())]);
    expect(r).toMatchObject({ ok: true });
  });

  test.each<[string, { key?: string; clockOffsetMs?: number }, string]>([
    ['a timestamp 10 minutes old', { clockOffsetMs: -600_000 }, 'timestamp outside window'],
    ['another key', { key: 'z'.repeat(40) }, 'unknown key'],
  ])('%s: refused (401) by the receiver, dead-lettered with its reason', async (_name, opts, why) => {
    const [r] = await deliverBatch(deps(opts), 'hook', [message(alert())]);
    expect(r).toMatchObject({ ok: false, deadLetter: true, reason: `webhook refused it (401): ${why}` });
    expect(rx.requests.map((q) => q.refused)).toEqual([why]);
  });

  test.each<[string, number | { status: number; retryAfter?: number }, Record<string, unknown>]>([
    ['429', 429, { retryAfterSeconds: 1, reason: 'webhook rate limited (429)' }],
    ['503', 503, { retryAfterSeconds: 10 }],
    ['408', 408, { retryAfterSeconds: 10 }],
  ])('%s: retried', async (_name, status, expected) => {
    rx.reply = () => status;
    const [r] = await deliverBatch(deps(), 'hook', [message(alert(), 'm1', 2)]);
    expect(r).toMatchObject({ ok: false, ...expected });
    expect(r).not.toHaveProperty('deadLetter');
  });

  test.each([[404], [410], [302]])('%i: dead-lettered at once', async (status) => {
    rx.reply = () => status;
    const [r] = await deliverBatch(deps(), 'hook', [message(alert())]);
    expect(r).toMatchObject({ ok: false, deadLetter: true, reason: expect.stringContaining(`webhook refused it (${status})`) });
  });
});
