/**
 * End to end, locally: the bundled shim -> `npm start` (a Slack app channel: bot token from
 * the environment, apiUrl at a fake Slack Web API enforcing its contract) -> rules -> the
 * Slack worker: the first message of an episode is posted, a `repeat` reminder goes to its
 * thread, the resolution updates the parent (green, resolved) and replies in the thread; a
 * ratelimited answer (HTTP 429, Retry-After 1) is delivered once after it. Slack actions: the
 * parent carries buttons; a click signed as Slack signs it (the app's signing secret, from the
 * environment) acknowledges (GET /v1/alerts/{id} says who; no more reminders) or silences, and
 * the message is updated; wrongly signed clicks are refused and change nothing; "until
 * resolved" ends with the episode.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { shimChecks, until } from '../support/e2e-steps';
import { startFakeSlackApi, type FakeSlackApi } from '../support/fake-slack-api';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { signedRaw } from '../support/signed-requests';
import { clickBody, slackHeaders } from '../support/slack-click';
import { ROUTES } from '../../lambdas/domain/protocol';
import { SLACK_ACTIONS, SLACK_ACTIONS_BLOCK_ID } from '../../channels/slack/actions';

const TOKEN = 'xoxb-e2e-0000-secret';
const CHANNEL = 'C0E2E0001';
const SIGNING_SECRET = 'e2e0a1b2c3d4e5f60718293a4b5c6d7e';

let api: FakeSlackApi;
let pipeline: LocalPipeline;
let adminKey: string;

const config = () => `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  ops: { type: slack, channel: ${CHANNEL}, botTokenEnv: E2E_SLACK_TOKEN, signingSecretEnv: E2E_SLACK_SIGNING, apiUrl: "${api.url}" }
defaults: { channels: [email] }
delivery: { slack: { minIntervalMs: 0 } }
rules:
  - name: app
    match: { check: { glob: "app-*" } }
    channels: [ops]
    repeat: 2s
`;

beforeAll(async () => {
  ensureBuilt();
  api = await startFakeSlackApi({ token: TOKEN, channels: [CHANNEL] });
  const file = join(tempDir('tocsin-e2e-slack-app-'), 'tocsin.yaml');
  writeFileSync(file, config());
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_RETRY_SECONDS: '1', E2E_SLACK_TOKEN: TOKEN, E2E_SLACK_SIGNING: SIGNING_SECRET } });
  expect(pipeline.output()).toContain(`# slack channel ops: app, channel ${CHANNEL} at ${api.url}`);
  expect(pipeline.output()).toContain(`Interactivity Request URL is ${new URL(pipeline.url).origin}${ROUTES.slackInteractions.path}`);
  expect(pipeline.output()).not.toContain(TOKEN);
  expect(pipeline.output()).not.toContain(SIGNING_SECRET);
  adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  await api?.close();
  expect(code).toBe(0);
});

const seen = () => `Slack calls:\n${api.calls.map((c) => `${c.method} ${c.status} ${JSON.stringify(c.answer)} ${JSON.stringify(c.body).slice(0, 200)}`).join('\n')}\n${pipeline.logs().slice(-2000)}`;
const check = (id: string, status: string, index: number) => ({ Node: 'web-1', CheckID: id, Status: status, Output: `${id} ${status}`, ModifyIndex: index });
const about = (check: string) => (c: { body: Record<string, any> }) => String(c.body.text).includes(check);

describe('a Slack app channel, through the shim and npm start', () => {
  it('critical -> chat.postMessage; a reminder -> a thread reply; resolved -> chat.update of the parent + a thread reply', async () => {
    await shimChecks(pipeline, 'app', [check('app-1', 'critical', 20)], 20);
    await until('the first message', () => api.callsOf('chat.postMessage', true).some(about('app-1')), 15000, seen);
    const first = api.callsOf('chat.postMessage', true).find(about('app-1'))!;
    expect(first.body).toMatchObject({ channel: CHANNEL, attachments: [{ color: '#E01E5A' }] });
    expect(first.body.thread_ts).toBeUndefined();
    const parent = String(first.answer.ts);

    await until('a reminder in the thread', () => api.callsOf('chat.postMessage', true).some((c) => c.body.thread_ts === parent), 15000, seen);
    const reminder = api.callsOf('chat.postMessage', true).find((c) => c.body.thread_ts === parent)!;
    expect(reminder.body.text).toContain('(reminder 1)');

    await shimChecks(pipeline, 'app', [check('app-1', 'passing', 21)], 21);
    await until('the parent updated', () => api.callsOf('chat.update', true).length === 1, 15000, seen);
    expect(api.callsOf('chat.update', true)[0]!.body).toMatchObject({ channel: CHANNEL, ts: parent, attachments: [{ color: '#2EB67D' }] });
    expect(api.messages.get(parent)!.body.text).toContain('RESOLVED');
    await until('the resolution in the thread', () => api.callsOf('chat.postMessage', true).some((c) => c.body.thread_ts === parent && String(c.body.text).includes('RESOLVED')), 15000, seen);
    // One top-level message for the episode; no call refused by the contract.
    expect(api.callsOf('chat.postMessage', true).filter((c) => about('app-1')(c) && !c.body.thread_ts)).toHaveLength(1);
    expect(api.calls.filter((c) => c.answer.ok !== true)).toEqual([]);
  }, 60000);

  it('ratelimited (HTTP 429, Retry-After 1): delivered once after it', async () => {
    api.rateLimitOnce('chat.postMessage', 1);
    await shimChecks(pipeline, 'app', [check('app-2', 'critical', 30)], 30);
    await until('the retried post', () => api.callsOf('chat.postMessage', true).some(about('app-2')), 15000, seen);
    const limited = api.calls.find((c) => c.status === 429)!;
    expect(limited.answer).toEqual({ ok: false, error: 'ratelimited' });
    const posted = api.callsOf('chat.postMessage', true).find(about('app-2'))!;
    expect(posted.at - limited.at).toBeGreaterThanOrEqual(900);
    await new Promise((r) => setTimeout(r, 1500));
    expect(api.callsOf('chat.postMessage', true).filter((c) => about('app-2')(c) && !c.body.thread_ts)).toHaveLength(1);
  }, 30000);

  // Slack actions.
  const origin = () => new URL(pipeline.url).origin;
  const parentOf = (checkId: string) => {
    const post = api.callsOf('chat.postMessage', true).find((c) => about(checkId)(c) && !c.body.thread_ts);
    return post ? api.messages.get(String(post.answer.ts)) : undefined;
  };
  const actionIds = (ts: string) =>
    (api.messages.get(ts)!.body.attachments[0].blocks as Array<Record<string, any>>).find((b) => b.block_id === SLACK_ACTIONS_BLOCK_ID)?.elements.map((e: any) => e.action_id) ?? [];
  const click = async (checkId: string, actionId: string, sign: (body: Buffer) => Record<string, string> = (b) => slackHeaders(SIGNING_SECRET, b)) => {
    const body = clickBody({ message: parentOf(checkId)!, actionId, user: { id: 'U0OPS0001', username: 'ada' } });
    const headers = sign(body);
    const res = await fetch(`${origin()}${ROUTES.slackInteractions.path}`, { method: 'POST', headers, body });
    const again = async () => {
      const r = await fetch(`${origin()}${ROUTES.slackInteractions.path}`, { method: 'POST', headers, body });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, again };
  };
  /** The admin API, signed as the CLI signs (path, no query). */
  const admin = async (method: string, path: string, query = '', payload?: unknown): Promise<Record<string, any>> => {
    const bytes = Buffer.from(payload === undefined ? '' : JSON.stringify(payload));
    const req = signedRaw(bytes, { key: adminKey, cluster: pipeline.cluster, method, path });
    const res = await fetch(`${origin()}${path}${query}`, { method, headers: req.headers as Record<string, string>, ...(payload === undefined ? {} : { body: bytes }) });
    const body = (await res.json()) as Record<string, any>;
    // A signature is good once: the same request in the same second is signed again in the next, as the CLI does.
    if (body.error === 'replayed') return new Promise((r) => setTimeout(() => r(admin(method, path, query, payload)), 1000 - (Date.now() % 1000) + 10));
    return body;
  };
  const firing = async (checkId: string) => ((await admin('GET', ROUTES.alertList.path)).alerts as Array<Record<string, any>>).find((a) => String(a.title).includes(checkId));
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('Acknowledge: wrongly signed clicks are refused and change nothing; a signed one acknowledges, updates the message and stops the reminders', async () => {
    await shimChecks(pipeline, 'app', [check('app-3', 'critical', 40)], 40);
    await until('the message with buttons', () => parentOf('app-3') !== undefined, 15000, seen);
    const ts = parentOf('app-3')!.ts;
    expect(actionIds(ts)).toEqual([SLACK_ACTIONS.ack.actionId, SLACK_ACTIONS.silence1h.actionId, SLACK_ACTIONS.silence4h.actionId, SLACK_ACTIONS.silenceResolved.actionId]);
    const updatesBefore = api.callsOf('chat.update').length;

    const refused = [
      await click('app-3', SLACK_ACTIONS.ack.actionId, (b) => slackHeaders('ffffffffffffffffffffffffffffffff', b)),
      await click('app-3', SLACK_ACTIONS.ack.actionId, (b) => slackHeaders(SIGNING_SECRET, b, Math.floor(Date.now() / 1000) - 400)),
      await click('app-3', SLACK_ACTIONS.ack.actionId, (b) => ({ ...slackHeaders(SIGNING_SECRET, b), 'x-slack-signature': 'v0=' + '0'.repeat(64) })),
      await click('app-3', SLACK_ACTIONS.ack.actionId, () => ({ 'content-type': 'application/x-www-form-urlencoded' })),
    ];
    for (const r of refused) expect(r).toMatchObject({ status: 401, body: { error: 'unauthenticated' } });
    expect(pipeline.logs()).toContain('slack request refused');
    const still = await firing('app-3');
    expect(still).toBeDefined();
    expect(still!.ack).toBeUndefined();
    expect(api.callsOf('chat.update').length).toBe(updatesBefore);

    const t0 = Date.now();
    const ok = await click('app-3', SLACK_ACTIONS.ack.actionId);
    expect(ok.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(3000); // Slack's answer deadline
    // The same signed request again, within the window: a replay.
    expect(await ok.again()).toMatchObject({ status: 401, body: { error: 'replayed' } });
    const acked = await firing('app-3');
    expect(acked!.ack).toMatchObject({ by: 'slack:U0OPS0001 (ada)' });
    const detail = await admin('GET', ROUTES.alertGet.path.replace('{id}', acked!.id));
    expect(detail.alert.ack.by).toBe('slack:U0OPS0001 (ada)');
    // The message now says who acted; Acknowledge is gone, the silences stay.
    const update = api.callsOf('chat.update', true).find((c) => c.body.ts === ts)!;
    expect(update).toBeDefined();
    expect(JSON.stringify(api.messages.get(ts)!.body)).toContain('Acknowledged by <@U0OPS0001>');
    expect(actionIds(ts)).toEqual([SLACK_ACTIONS.silence1h.actionId, SLACK_ACTIONS.silence4h.actionId, SLACK_ACTIONS.silenceResolved.actionId]);
    // An acknowledged alert gets no reminders (repeat: 2s).
    const replies = () => api.callsOf('chat.postMessage', true).filter((c) => c.body.thread_ts === ts).length;
    const before = replies();
    await sleep(4500);
    expect(replies()).toBeLessThanOrEqual(before + 1); // one may have been under way
    const settled = replies();
    await sleep(2500);
    expect(replies()).toBe(settled);
  }, 60000);

  it('Silence 1h mutes the next notification; "until resolved" ends with its episode, whose next one notifies again', async () => {
    await shimChecks(pipeline, 'app', [check('app-4', 'critical', 50), check('app-5', 'critical', 50)], 50);
    await until('both messages', () => parentOf('app-4') !== undefined && parentOf('app-5') !== undefined, 15000, seen);
    expect((await click('app-4', SLACK_ACTIONS.silence1h.actionId)).status).toBe(200);
    expect((await click('app-5', SLACK_ACTIONS.silenceResolved.actionId)).status).toBe(200);
    const silences = (await admin('GET', ROUTES.silenceList.path)).silences as Array<Record<string, any>>;
    const one = silences.find((s) => s.matchers.check === 'app-4')!;
    const bound = silences.find((s) => s.matchers.check === 'app-5')!;
    expect(one).toMatchObject({ author: 'slack:U0OPS0001 (ada)', state: 'active', matchers: { source: 'consul', kind: 'check', node: 'web-1', check: 'app-4' } });
    expect(Date.parse(one.endsAt) - Date.parse(one.startsAt)).toBe(3600_000);
    expect(bound.episode).toMatch(/^[0-9a-f]{32}$/);
    const ts4 = parentOf('app-4')!.ts;
    expect(JSON.stringify(api.messages.get(ts4)!.body)).toMatch(/Silenced 1h by <@U0OPS0001> \(until (\d{4}-\d\d-\d\d )?\d\d:\d\d UTC\)/); // the date when the hour ends on another day (after 23:00 UTC)
    expect(actionIds(ts4)).toEqual([SLACK_ACTIONS.ack.actionId]);

    // The next notification of app-4 (a change to warning) and its reminders are held back.
    // npm start's silence cache (1 s), and a reminder decided just before it ended still on its
    // way through the Slack queue on a loaded machine (repeat: 2s: an unsilenced one would come again below).
    await sleep(3000);
    const mark = api.calls.length;
    // A snapshot names every check of the scope: app-5 stays critical.
    await shimChecks(pipeline, 'app', [check('app-4', 'warning', 51), check('app-5', 'critical', 50)], 51);
    await sleep(4000);
    expect(api.calls.slice(mark).filter((c) => String(c.body.text ?? '').includes('app-4') || c.body.ts === ts4 || c.body.thread_ts === ts4)).toEqual([]);
    expect(pipeline.logs()).toContain('alert silenced');

    // Acknowledged through the API (as `tocsin ack` does): said in the episode's thread.
    const id4 = (await firing('app-4'))!.id as string;
    expect((await admin('POST', ROUTES.alertAck.path.replace('{id}', id4), '', { by: 'grace', comment: 'on it' })).acknowledged).toBe(true);
    await until('the acknowledgement in the thread', () => api.callsOf('chat.postMessage', true).some((c) => c.body.thread_ts === ts4 && /Acknowledged by grace \(through the API\).*: on it/.test(String(c.body.text))), 10000, seen);

    // app-5 resolves: its bound silence ends (the resolution is announced); its next episode notifies.
    await shimChecks(pipeline, 'app', [check('app-4', 'warning', 51), check('app-5', 'passing', 52)], 52);
    await until('the bound silence expired', () => pipeline.logs().includes('silence ended with its episode'), 15000, seen);
    const after = ((await admin('GET', ROUTES.silenceList.path, '?all=1')).silences as Array<Record<string, any>>).find((s) => s.id === bound.id)!;
    expect(after.state).toBe('expired');
    await shimChecks(pipeline, 'app', [check('app-4', 'warning', 51), check('app-5', 'critical', 53)], 53);
    await until('a new episode, a new message', () => api.callsOf('chat.postMessage', true).filter((c) => about('app-5')(c) && !c.body.thread_ts).length === 2, 15000, seen);
  }, 60000);
});
