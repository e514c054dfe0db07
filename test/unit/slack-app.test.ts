/**
 * The Slack app mode: Slack's answers classified (ratelimited / retry / permanent), the calls
 * planned per notification and thread, and the sender against the fake Web API: the
 * contract, an episode's thread, a retried notification skipping calls that took effect,
 * a refused one dead-lettered with the reason.
 */
import { deliverBatch } from '../../lambdas/app/channel-delivery';
import { SlackAppSender, planSlackCalls } from '../../channels/slack/app';
import { slackPayload } from '../../channels/slack/payload';
import { SlackSender } from '../../channels/slack/sender';
import { MemorySlackThreads } from '../../channels/slack/threads';
import { classifySlackAnswer, checkBotToken } from '../../channels/slack/web-api';
import { StaticChannelSecrets } from '../../channels/queue-delivered/secrets';
import { StaticWebhookUrls, WebhookSender } from '../../channels/slack/webhook';
import { slackChannel } from '../../channels/slack';
import { channelIssues } from '../../channels';
import type { Alert } from '../../lambdas/domain/types';
import { startFakeSlackApi, type FakeSlackApi } from '../support/fake-slack-api';

const TOKEN = 'xoxb-unit-1';
const CH = 'C0UNIT001';

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'a1',
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: 'critical',
  state: 'firing',
  node: 'web-1',
  title: 'CRITICAL: web-1 / app',
  to: 'critical',
  at: '2026-12-02T08:00:00Z',
  details: [],
  episode: 'ep1',
  ...over,
});

describe("the slack kind's render carries a template's output", () => {
  it('the title and body of a template replace the default headline and details, in both modes', () => {
    const plain = JSON.stringify(slackChannel.render(alert(), undefined).message);
    const templated = JSON.stringify(slackChannel.render(alert(), undefined, { title: 'PAGE: app down on web-1', body: 'runbook: r/42' }).message);
    expect(plain).not.toContain('PAGE: app down');
    expect(templated).toContain('PAGE: app down on web-1');
    expect(templated).toContain('runbook: r/42');
  });
});

describe('classifySlackAnswer', () => {
  test.each<[string, Parameters<typeof classifySlackAnswer>[1], string]>([
    ['ok', { status: 200, json: { ok: true, ts: '1.2', channel: CH } }, 'ok'],
    ['HTTP 429', { status: 429, json: { ok: false, error: 'ratelimited' }, retryAfter: 3 }, 'ratelimited'],
    ['ok:false ratelimited in a 200', { status: 200, json: { ok: false, error: 'ratelimited' } }, 'ratelimited'],
    ['invalid_auth', { status: 200, json: { ok: false, error: 'invalid_auth' } }, 'permanent'],
    ['channel_not_found', { status: 200, json: { ok: false, error: 'channel_not_found' } }, 'permanent'],
    ['not_in_channel', { status: 200, json: { ok: false, error: 'not_in_channel' } }, 'permanent'],
    ['msg_too_long', { status: 200, json: { ok: false, error: 'msg_too_long' } }, 'permanent'],
    ['invalid_blocks', { status: 200, json: { ok: false, error: 'invalid_blocks' } }, 'permanent'],
    ['internal_error', { status: 200, json: { ok: false, error: 'internal_error' } }, 'retry'],
    ['fatal_error', { status: 200, json: { ok: false, error: 'fatal_error' } }, 'retry'],
    ['service_unavailable', { status: 200, json: { ok: false, error: 'service_unavailable' } }, 'retry'],
    ['an unknown error', { status: 200, json: { ok: false, error: 'something_new' } }, 'retry'],
    ['HTTP 503', { status: 503, text: 'down' }, 'retry'],
    ['HTTP 404 (a wrong apiUrl)', { status: 404, text: 'not found' }, 'permanent'],
    ['ok without ts', { status: 200, json: { ok: true } }, 'retry'],
  ])('%s', (_name, answer, kind) => {
    expect(classifySlackAnswer('chat.postMessage', answer).kind).toBe(kind);
  });

  test('the ratelimited answer keeps Retry-After; a permanent one names the error', () => {
    expect(classifySlackAnswer('chat.update', { status: 429, retryAfter: 7 })).toEqual({ kind: 'ratelimited', retryAfter: 7, reason: 'chat.update: ratelimited' });
    expect(classifySlackAnswer('chat.postMessage', { status: 200, json: { ok: false, error: 'not_in_channel' } })).toMatchObject({ error: 'not_in_channel', reason: 'chat.postMessage: not_in_channel' });
  });
});

describe('planSlackCalls', () => {
  const thread = { channelId: CH, ts: '100.000001' };
  const plan = (a: Alert, t: typeof thread | null = thread) => planSlackCalls(slackPayload(a, undefined), CH, t ?? undefined).map((c) => `${c.method}:${c.role}:${String(c.body.thread_ts ?? c.body.ts ?? '')}`);
  test('first message, reminder, severity change, resolution, no episode', () => {
    expect(plan(alert(), null)).toEqual(['chat.postMessage:parent:']);
    expect(plan(alert({ reminder: 2 }))).toEqual([`chat.postMessage:reply:${thread.ts}`]);
    expect(plan(alert({ severity: 'warning', to: 'warning' }))).toEqual([`chat.update:update:${thread.ts}`, `chat.postMessage:reply:${thread.ts}`]);
    expect(plan(alert({ state: 'resolved', to: 'passing' }))).toEqual([`chat.update:update:${thread.ts}`, `chat.postMessage:reply:${thread.ts}`]);
    expect(plan(alert({ state: 'resolved', to: 'passing' }), null)).toEqual(['chat.postMessage:single:']);
    const { episode: _e, ...noEpisode } = alert();
    expect(plan(noEpisode as Alert)).toEqual(['chat.postMessage:single:']);
  });
});

describe('config', () => {
  test('app keys need channel; webhook keys do not mix with it; the token is checked', () => {
    expect(channelIssues({ a: { type: 'slack', channel: CH, webhookUrl: 'https://x' } as never }).map((i) => i.path.join('.'))).toEqual(['channels.a.webhookUrl']);
    expect(channelIssues({ a: { type: 'slack', botTokenEnv: 'T' } as never }).map((i) => i.path.join('.'))).toEqual(['channels.a.botTokenEnv']);
    expect(channelIssues({ a: { type: 'slack', channel: CH, botToken: 'xoxb-1', botTokenEnv: 'T' } as never }).map((i) => i.path.join('.'))).toEqual(['channels.a.botToken']);
    expect(() => checkBotToken('xoxp', 'E')).toThrow('E does not hold a Slack bot token');
    expect(checkBotToken('xoxe.xoxb-1-abc', 'E')).toBe('xoxe.xoxb-1-abc');
  });
});

describe('the app sender against the fake Web API', () => {
  let api: FakeSlackApi;
  let threads: MemorySlackThreads;
  let now = 1_000_000;
  beforeEach(async () => {
    api = await startFakeSlackApi({ token: TOKEN, channels: [CH] });
    threads = new MemorySlackThreads();
  });
  afterEach(() => api.close());

  const sender = (token = TOKEN, call?: ConstructorParameters<typeof SlackAppSender>[0]['call']) =>
    new SlackAppSender({ channels: { ops: { channel: CH, apiUrl: api.url } }, tokens: new StaticChannelSecrets({ ops: token }), threads, nowMs: () => now, sleep: async (ms) => void (now += ms), postIntervalMs: 1000, ...(call ? { call } : {}) });
  const send = (s: SlackAppSender, a: Alert) => s.send(slackPayload(a, undefined), 'ops');

  test('an episode: parent, reminder in its thread, resolution updates the parent and replies; posts paced 1 s per channel', async () => {
    const s = sender();
    expect(await send(s, alert())).toEqual({ status: 200 });
    const parent = String(api.callsOf('chat.postMessage')[0]!.answer.ts);
    expect(await threads.getThread('ops', 'ep1')).toEqual({ channelId: CH, ts: parent });
    const before = now;
    expect(await send(s, alert({ id: 'a2', reminder: 1 }))).toEqual({ status: 200 });
    expect(now - before).toBeGreaterThanOrEqual(1000);
    expect(await send(s, alert({ id: 'a3', state: 'resolved', to: 'passing', title: 'RESOLVED: web-1 / app' }))).toEqual({ status: 200 });
    expect(api.calls.map((c) => `${c.method} ${c.body.thread_ts ?? c.body.ts ?? '-'} ${c.answer.ok}`)).toEqual([
      `chat.postMessage - true`,
      `chat.postMessage ${parent} true`,
      `chat.update ${parent} true`,
      `chat.postMessage ${parent} true`,
    ]);
    expect(api.messages.get(parent)!.body.attachments[0].color).toBe('#2EB67D');
  });

  test('a second delivery of a notification (SNS/SQS at least once) calls nothing again', async () => {
    const s = sender();
    await send(s, alert());
    await send(s, alert({ id: 'a2', reminder: 1 }));
    expect(await send(s, alert())).toEqual({ status: 200 });
    expect(await send(s, alert({ id: 'a2', reminder: 1 }))).toEqual({ status: 200 });
    expect(api.calls).toHaveLength(2);
  });

  test('a retried notification skips the calls that took effect (update done, reply ratelimited)', async () => {
    const s = sender();
    await send(s, alert());
    api.rateLimitOnce('chat.postMessage', 2);
    const resolved = alert({ id: 'r1', state: 'resolved', to: 'passing' });
    expect(await send(s, resolved)).toMatchObject({ status: 429, retryAfter: 2 });
    expect(await send(s, resolved)).toEqual({ status: 200 });
    expect(api.callsOf('chat.update', true)).toHaveLength(1);
    expect(api.callsOf('chat.postMessage', true)).toHaveLength(2);
  });

  test('a lost answer: the parent claim stays, the retry posts again (the one duplicate left); a refused post frees the claim', async () => {
    let lose = true;
    const s = sender(TOKEN, async (url, token, method, body, t) => {
      const { callSlack } = await import('../../channels/slack/web-api');
      const answer = await callSlack(url, token, method, body, t);
      if (lose) {
        lose = false;
        throw new Error('socket hang up');
      }
      return answer;
    });
    await expect(send(s, alert())).rejects.toThrow('chat.postMessage: socket hang up (answer lost)');
    // Another notification of the episode waits for the parent rather than post its own.
    expect(await send(s, alert({ id: 'a2', reminder: 1 }))).toMatchObject({ status: 503 });
    expect(await send(s, alert())).toEqual({ status: 200 });
    expect(api.callsOf('chat.postMessage', true)).toHaveLength(2);

    const bad = sender('xoxb-wrong');
    expect(await send(bad, alert({ id: 'b1', episode: 'ep2' }))).toEqual({ status: 400, body: 'chat.postMessage: invalid_auth', permanent: true });
    expect(threads.threads.has('ops#ep2')).toBe(false);
  });

  test('deliverBatch dead-letters a refused message with Slack\'s error; 429 waits Retry-After', async () => {
    const s = new SlackSender(new WebhookSender(new StaticWebhookUrls({})), sender('xoxb-wrong'), new Set(['ops']));
    const notification = (a: Alert) => JSON.stringify({ Message: JSON.stringify(a) });
    const deps = { render: slackChannel.render, sender: s, clock: { nowMs: () => now }, sleep: async () => undefined, minIntervalMs: 0, retryBaseSeconds: 1 };
    const [r] = await deliverBatch(deps as never, 'ops', [{ id: 'm1', body: notification(alert()), receiveCount: 1 }]);
    expect(r).toEqual({ id: 'm1', ok: false, retryAfterSeconds: 0, reason: 'Slack refused it (400): chat.postMessage: invalid_auth', deadLetter: true });
    api.rateLimitOnce('chat.postMessage', 4);
    const [l] = await deliverBatch({ ...deps, sender: new SlackSender(new WebhookSender(new StaticWebhookUrls({})), sender(), new Set(['ops'])) } as never, 'ops', [{ id: 'm2', body: notification(alert({ episode: 'ep3' })), receiveCount: 1 }]);
    expect(l).toEqual({ id: 'm2', ok: false, retryAfterSeconds: 4, reason: 'Slack rate limited (429)' });
  });
});

describe('the fake Web API enforces the contract', () => {
  let api: FakeSlackApi;
  beforeAll(async () => void (api = await startFakeSlackApi({ token: TOKEN, channels: [CH] })));
  afterAll(() => api.close());
  const call = async (method: string, body: unknown, token = TOKEN) => {
    const res = await fetch(`${api.url}/${method}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), json: (await res.json()) as Record<string, unknown> };
  };
  test('auth, fields, limits, threads, updates, ratelimited', async () => {
    expect((await call('chat.postMessage', { channel: CH, text: 'x' }, '')).json.error).toBe('not_authed');
    expect((await call('chat.postMessage', { channel: CH, text: 'x' }, 'xoxb-other')).json.error).toBe('invalid_auth');
    expect((await call('chat.postMessage', { channel: 'C999', text: 'x' })).json.error).toBe('channel_not_found');
    expect((await call('chat.postMessage', { channel: CH })).json.error).toBe('no_text');
    expect((await call('chat.postMessage', { channel: CH, blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) })).json.error).toBe('invalid_blocks');
    expect((await call('chat.postMessage', { channel: CH, text: 'x', attachments: [{ blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'y'.repeat(3001) } }] }] })).json.error).toBe('invalid_blocks');
    expect((await call('chat.postMessage', { channel: CH, text: 'x', thread_ts: '1.000001' })).json.error).toBe('thread_not_found');
    expect((await call('chat.update', { channel: CH, ts: '1.000001', text: 'x' })).json.error).toBe('message_not_found');
    const posted = await call('chat.postMessage', { channel: CH, text: 'x' });
    expect(posted.json).toMatchObject({ ok: true, channel: CH, ts: expect.any(String) });
    expect((await call('chat.postMessage', { channel: CH, text: 'r', thread_ts: posted.json.ts })).json.ok).toBe(true);
    expect((await call('chat.update', { channel: CH, ts: posted.json.ts, text: 'y' })).json.ok).toBe(true);
    api.rateLimitOnce('chat.update', 3);
    expect(await call('chat.update', { channel: CH, ts: posted.json.ts, text: 'z' })).toEqual({ status: 429, retryAfter: '3', json: { ok: false, error: 'ratelimited' } });
    expect((await call('chat.update', { channel: CH, ts: posted.json.ts, text: 'z' })).json.ok).toBe(true);
    expect(api.calls).toHaveLength(13);
  });
});
