/**
 * End to end, locally: the bundled shim -> `npm start` (a Slack app channel: bot token from
 * the environment, apiUrl at a fake Slack Web API enforcing its contract) -> rules -> the
 * Slack worker: the first message of an episode is posted, a `repeat` reminder goes to its
 * thread, the resolution updates the parent (green, resolved) and replies in the thread; a
 * ratelimited answer (HTTP 429, Retry-After 1) is delivered once after it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { shimChecks, until } from '../support/e2e-steps';
import { startFakeSlackApi, type FakeSlackApi } from '../support/fake-slack-api';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';

const TOKEN = 'xoxb-e2e-0000-secret';
const CHANNEL = 'C0E2E0001';

let api: FakeSlackApi;
let pipeline: LocalPipeline;

const config = () => `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  ops: { type: slack, channel: ${CHANNEL}, botTokenEnv: E2E_SLACK_TOKEN, apiUrl: "${api.url}" }
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
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_RETRY_SECONDS: '1', E2E_SLACK_TOKEN: TOKEN } });
  expect(pipeline.output()).toContain(`# slack channel ops: app, channel ${CHANNEL} at ${api.url}`);
  expect(pipeline.output()).not.toContain(TOKEN);
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
});
