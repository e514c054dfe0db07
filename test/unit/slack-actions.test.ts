/**
 * Slack actions (README "Slack actions"): Slack's request signature (table-driven), the
 * interactivity endpoint on the exact event API Gateway builds (a form body arrives base64),
 * the buttons of app channels' messages within Block Kit's limits, the message after an
 * action, and "until resolved" silences bound to their episode.
 */
import { createHmac } from 'node:crypto';
import { planSlackCalls } from '../../channels/slack/app';
import { ACTION_LIMITS, afterAction, decodeTarget, encodeTarget, shownActions, SLACK_ACTIONS, SLACK_ACTIONS_BLOCK_ID } from '../../channels/slack/actions';
import { slackPayload } from '../../channels/slack/payload';
import { toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { createSlackInteractions, subjectMatchers, type SlackInteractionsDeps } from '../../lambdas/app/slack-interactions';
import { silenced, type Silence } from '../../lambdas/domain/rules/silences';
import { verifySlackSignature } from '../../lambdas/domain/slack-signature';
import type { Alert } from '../../lambdas/domain/types';
import { apiGatewayEvent } from '../support/api-gateway';
import type { SlackApiMessage } from '../support/fake-slack-api';

import { clickBody, slackHeaders } from '../support/slack-click';
import { startFakeSlackApi } from '../support/fake-slack-api';
import { localSlackApps } from '../../channels/slack/interactivity';
import { MemorySlackThreads } from '../../channels/slack/threads';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = 1_780_000_000_000;
const TS = Math.floor(NOW / 1000);
const BODY = Buffer.from('payload=%7B%22type%22%3A%22block_actions%22%7D');
const sig = (secret: string, ts: number | string, body: Buffer | string) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex')}`;

describe("Slack's request signature", () => {
  const headers = (signature: string | undefined, ts: string | undefined) => ({ 'x-slack-signature': signature, 'x-slack-request-timestamp': ts });
  test.each<[string, string[], Record<string, string | undefined>, Buffer, boolean | string]>([
    ['a good signature', [SECRET], headers(sig(SECRET, TS, BODY), String(TS)), BODY, true],
    ['a good signature, the second of two secrets (rotation)', ['0'.repeat(32), SECRET], headers(sig(SECRET, TS, BODY), String(TS)), BODY, true],
    ['the wrong secret', [SECRET], headers(sig('another-secret', TS, BODY), String(TS)), BODY, 'bad_signature'],
    ['a tampered body', [SECRET], headers(sig(SECRET, TS, BODY), String(TS)), Buffer.concat([BODY, Buffer.from('x')]), 'bad_signature'],
    ['a signature of another timestamp', [SECRET], headers(sig(SECRET, TS - 1, BODY), String(TS)), BODY, 'bad_signature'],
    ['4 min 59 s old: accepted', [SECRET], headers(sig(SECRET, TS - 299, BODY), String(TS - 299)), BODY, true],
    ['stale (6 minutes old)', [SECRET], headers(sig(SECRET, TS - 360, BODY), String(TS - 360)), BODY, 'stale_timestamp'],
    ['a replay an hour later', [SECRET], headers(sig(SECRET, TS - 3600, BODY), String(TS - 3600)), BODY, 'stale_timestamp'],
    ['from the future (6 minutes ahead)', [SECRET], headers(sig(SECRET, TS + 360, BODY), String(TS + 360)), BODY, 'stale_timestamp'],
    ['no signature header', [SECRET], headers(undefined, String(TS)), BODY, 'missing_headers'],
    ['no timestamp header', [SECRET], headers(sig(SECRET, TS, BODY), undefined), BODY, 'missing_headers'],
    ['a timestamp that is no number', [SECRET], headers(sig(SECRET, 'soon', BODY), 'soon'), BODY, 'bad_timestamp'],
    ['a v1 signature', [SECRET], headers(sig(SECRET, TS, BODY).replace('v0=', 'v1='), String(TS)), BODY, 'bad_signature'],
    ['a truncated signature', [SECRET], headers(sig(SECRET, TS, BODY).slice(0, 40), String(TS)), BODY, 'bad_signature'],
    ['no secret configured', [], headers(sig(SECRET, TS, BODY), String(TS)), BODY, 'no_secret'],
  ])('%s', (_name, secrets, h, body, expected) => {
    const verdict = verifySlackSignature(secrets, h, body, NOW);
    if (expected === true) expect(verdict.ok).toBe(true);
    else expect(verdict).toMatchObject({ ok: false, reason: expected });
  });
});

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'a1',
  cluster: 'prod',
  source: 'consul',
  kind: 'check',
  severity: 'critical',
  state: 'firing',
  node: 'web-1',
  check: 'app',
  title: 'CRITICAL: web-1 / app',
  to: 'critical',
  at: '2026-12-02T08:00:00Z',
  details: [],
  episode: 'e'.repeat(32),
  ...over,
});
const CH = 'C0UNIT001';
const blocksOf = (body: Record<string, unknown>) => (body.attachments as Array<{ blocks: Array<Record<string, any>> }>)[0]!.blocks;

describe('the buttons of an app channel message', () => {
  it("an episode's first message carries Acknowledge and the three silences, within Block Kit's limits", () => {
    const [call] = planSlackCalls(slackPayload(alert(), 'https://ops.example/a/1'), CH, undefined);
    const blocks = blocksOf(call!.body);
    const actions = blocks.find((b) => b.block_id === SLACK_ACTIONS_BLOCK_ID)!;
    expect(actions.elements.map((e: any) => e.text.text)).toEqual(['Acknowledge', 'Silence 1h', 'Silence 4h', 'Silence until resolved']);
    for (const e of actions.elements) {
      expect(e.action_id.length).toBeLessThanOrEqual(ACTION_LIMITS.actionId);
      expect(e.value.length).toBeLessThanOrEqual(ACTION_LIMITS.value);
      expect(decodeTarget(e.value)).toEqual({ cluster: 'prod', episode: 'e'.repeat(32) });
    }
    // The "Open" link keeps its own block.
    expect(blocks.some((b) => b.type === 'actions' && b.elements[0].url === 'https://ops.example/a/1')).toBe(true);
    expect(blocks.length).toBeLessThanOrEqual(50);
  });

  it('a resolution, a reminder in the thread, a message without episode: no buttons', () => {
    const thread = { channelId: CH, ts: '1.000001' };
    const plans = [
      ...planSlackCalls(slackPayload(alert({ state: 'resolved', to: 'passing' }), undefined), CH, thread),
      ...planSlackCalls(slackPayload(alert({ reminder: 1 }), undefined), CH, thread),
      ...planSlackCalls(slackPayload(alert({ episode: undefined }), undefined), CH, undefined),
    ];
    expect(plans.length).toBe(4);
    for (const call of plans) expect(blocksOf(call.body).some((b) => b.block_id === SLACK_ACTIONS_BLOCK_ID)).toBe(false);
  });

  it('after Acknowledge the button goes and a note says who; after a silence too, no buttons are left', () => {
    const [call] = planSlackCalls(slackPayload(alert(), undefined), CH, undefined);
    const target = { cluster: 'prod', episode: 'e'.repeat(32) };
    const acked = afterAction({ text: call!.body.text, attachments: call!.body.attachments }, target, 'ack', 'Acknowledged by <@U1> at 14:02 UTC')!;
    expect(shownActions(acked.attachments[0]!.blocks)).toEqual(['silence1h', 'silence4h', 'silenceResolved']);
    expect(JSON.stringify(acked)).toContain('Acknowledged by <@U1> at 14:02 UTC');
    const both = afterAction(acked, target, 'silence', 'Silenced 1h by <@U2>')!;
    expect(shownActions(both.attachments[0]!.blocks)).toEqual([]);
    expect(both.attachments[0]!.blocks.some((b) => b.block_id === SLACK_ACTIONS_BLOCK_ID)).toBe(false);
    expect(JSON.stringify(both)).toContain('Acknowledged by <@U1>');
    expect(JSON.stringify(both)).toContain('Silenced 1h by <@U2>');
  });

  it("the message as Slack gives it back (colour without '#', block ids of its own) is updated in kind", () => {
    const [call] = planSlackCalls(slackPayload(alert(), undefined), CH, undefined);
    const attachments = (call!.body.attachments as Array<Record<string, any>>).map((a) => ({ ...a, id: 1, color: String(a.color).slice(1), blocks: a.blocks.map((b: any, i: number) => ({ block_id: `b${i}`, ...b })) }));
    const updated = afterAction({ text: call!.body.text, attachments }, { cluster: 'prod', episode: 'e'.repeat(32) }, 'ack', 'note')!;
    expect(updated.attachments[0]).toMatchObject({ color: '#E01E5A' });
    expect(updated.attachments[0]).not.toHaveProperty('id');
    expect(shownActions(updated.attachments[0]!.blocks)).toEqual(['silence1h', 'silence4h', 'silenceResolved']);
  });

  it('a value that is not ours is refused', () => {
    expect(decodeTarget('{"c":"prod","e":"not-an-episode"}')).toBeUndefined();
    expect(decodeTarget('x'.repeat(2001))).toBeUndefined();
    expect(decodeTarget(encodeTarget({ cluster: 'prod', episode: 'a'.repeat(32) }))).toEqual({ cluster: 'prod', episode: 'a'.repeat(32) });
  });
});

describe('"until resolved": a silence bound to its episode', () => {
  const base: Silence = { id: 's1', cluster: 'prod', matchers: subjectMatchers({ source: 'consul', kind: 'check', node: 'web-1', check: 'app' }), startsAt: new Date(NOW - 1000).toISOString(), endsAt: new Date(NOW + 3_600_000).toISOString(), author: 'slack:U1', comment: 'c', createdAt: new Date(NOW).toISOString(), episode: 'e'.repeat(32) };
  const facts = { source: 'consul' as const, kind: 'check', cluster: 'prod', node: 'web-1', check: 'app' };
  it("mutes that episode's notices only, not the subject's next episode", () => {
    expect(silenced([base], facts, NOW, 'e'.repeat(32))?.id).toBe('s1');
    expect(silenced([base], facts, NOW, 'f'.repeat(32))).toBeUndefined();
    expect(silenced([base], { ...facts, node: 'web-2' }, NOW, 'e'.repeat(32))).toBeUndefined();
  });
});

describe('the interactivity endpoint on an API Gateway event', () => {
  const message: SlackApiMessage = { channel: CH, ts: '1780000000.000001', body: planSlackCalls(slackPayload(alert(), undefined), CH, undefined)[0]!.body };
  const untouched = new Proxy({}, { get: (_t, name) => () => Promise.reject(new Error(`touched ${String(name)}`)) });
  const logged: Array<[string, Record<string, unknown> | undefined]> = [];
  const deps = (channelIds: string[]): SlackInteractionsDeps => ({
    slack: { signingSecrets: async () => [SECRET], channelsFor: (id) => (channelIds.includes(id) ? ['ops'] : []), call: async () => Promise.reject(new Error('no call expected')), announce: async () => Promise.reject(new Error('no call expected')) },
    alerts: untouched as never,
    subjects: untouched as never,
    publisher: () => untouched as never,
    silences: untouched as never,
    replay: untouched as never,
    clock: { nowMs: () => Date.now() },
    logger: { info: () => undefined, error: (msg: string, data?: Record<string, unknown>) => void logged.push([msg, data]) } as never,
  });
  const event = (body: Buffer, headers: Record<string, string>) => apiGatewayEvent({ method: 'POST', url: '/v1/slack/interactions', headers, body });

  it("a form body arrives base64 (isBase64Encoded) and its signature is checked over Slack's exact bytes", async () => {
    const body = clickBody({ message, actionId: SLACK_ACTIONS.ack.actionId });
    const ev = event(body, slackHeaders(SECRET, body));
    expect(ev.isBase64Encoded).toBe(true);
    const req = toHttpRequest(ev);
    expect(req.body.equals(body)).toBe(true);
    expect(verifySlackSignature([SECRET], req.headers, req.body, Date.now()).ok).toBe(true);
    // Signed right, but from a channel that is not one of tocsin's: refused before anything is read.
    expect((await createSlackInteractions(deps([]))(req)).status).toBe(403);
  });

  test.each<[string, (body: Buffer) => Record<string, string>, Buffer | undefined]>([
    ['the wrong secret', (b) => slackHeaders('not-the-secret', b), undefined],
    ['a stale timestamp', (b) => slackHeaders(SECRET, b, Math.floor(Date.now() / 1000) - 600), undefined],
    ['a tampered body', (b) => slackHeaders(SECRET, b), Buffer.from('payload=%7B%7D')],
    ['no signature', () => ({ 'content-type': 'application/x-www-form-urlencoded' }), undefined],
  ])('%s: 401, logged, nothing read or written', async (_name, sign, replaced) => {
    const body = clickBody({ message, actionId: SLACK_ACTIONS.silence1h.actionId });
    logged.length = 0;
    const res = await createSlackInteractions(deps([CH]))(toHttpRequest(event(replaced ?? body, sign(body))));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'unauthenticated' });
    expect(String(res.body.message)).toMatch(/Slack/);
    expect(logged.map(([m]) => m)).toEqual(['slack request refused']);
  });
});

describe('the Slack apps of app channels (npm start)', () => {
  const channels = (apiUrl: string) => ({
    ops: { type: 'slack', channel: CH, botTokenEnv: 'T', signingSecretEnv: 'S', apiUrl },
    quiet: { type: 'slack', channel: 'C0OTHER01', botTokenEnv: 'T', apiUrl },
    hook: { type: 'slack', webhookUrl: 'http://127.0.0.1:9/hook' },
  });
  it('signing secrets from the environment; chat.update as the contract says, 429 reported; said in a thread only where there is one', async () => {
    const api = await startFakeSlackApi({ token: 'xoxb-unit-2', channels: [CH] });
    try {
      const threads = new MemorySlackThreads();
      const apps = localSlackApps(channels(api.url), { T: 'xoxb-unit-2', S: SECRET }, () => threads)!;
      expect(await apps.signingSecrets()).toEqual([SECRET]);
      expect(apps.channelsFor(CH)).toEqual(['ops']);
      expect(apps.channelsFor('C0OTHER01')).toEqual([]); // no signing secret: not an actions channel
      expect(localSlackApps(channels(api.url), { T: 'xoxb-unit-2' }, () => threads)).toBeUndefined();

      expect(await apps.call('ops', 'chat.update', { channel: CH, ts: '1.000001', text: 'x' }, 2000)).toEqual({ ok: false, error: 'message_not_found' });
      expect(await apps.call('ops', 'chat.update', { channel: CH, text: 'x' }, 2000)).toEqual({ ok: false, error: 'message_not_found' });
      api.rateLimitOnce('chat.update', 3);
      expect(await apps.call('ops', 'chat.update', { channel: CH, ts: '1.000001', text: 'x' }, 2000)).toEqual({ ok: false, error: 'ratelimited' });
      expect(await apps.call('ops', 'chat.postEphemeral', { channel: CH, user: 'U0OPS0001', text: 'no longer firing' }, 2000)).toEqual({ ok: true });
      expect(api.ephemerals).toEqual([{ channel: CH, user: 'U0OPS0001', text: 'no longer firing' }]);

      expect(await apps.announce(['ops'], 'e'.repeat(32), 'acked', 2000)).toEqual([]);
      expect(api.callsOf('chat.postMessage')).toHaveLength(0); // no thread known: nothing said
      const parent = await fetch(`${api.url}/chat.postMessage`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer xoxb-unit-2' }, body: JSON.stringify({ channel: CH, text: 'parent' }) });
      const ts = String(((await parent.json()) as { ts: string }).ts);
      await threads.setThread('ops', 'e'.repeat(32), 'a1', { channelId: CH, ts });
      expect(await apps.announce(['ops', 'email'], 'e'.repeat(32), 'acked', 2000)).toEqual([]);
      expect(api.callsOf('chat.postMessage', true).find((c) => c.body.thread_ts === ts)?.body.text).toBe('acked');
    } finally {
      await api.close();
    }
  });
});
