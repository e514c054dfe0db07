/**
 * End to end, locally: the bundled shim -> `npm start` (tocsin.yaml with PagerDuty and
 * webhook channels pointing at local stand-ins) -> rules -> the queue-delivered workers ->
 * a fake PagerDuty Events API v2 enforcing its contract, and a webhook receiver that
 * verifies the signature, the timestamp and the payload's schema.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEAD_LETTER_REASON_ATTRIBUTE } from '../../lambdas/commons/deployment';
import { LocalBus } from '../../local/bus/bus';
import { LOCAL_NAMES } from '../../local/names';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { shimChecks, until } from '../support/e2e-steps';
import { startFakePagerDuty, type FakePagerDuty } from '../support/fake-pagerduty';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver';

const KEY = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6';
const BUSY_KEY = 'b'.repeat(32);
const BAD_KEY = 'c'.repeat(32);
const HOOK_KEY = 'h'.repeat(48);

let pd: FakePagerDuty;
let rx: WebhookReceiver;
let slack: FakeSlack;
let pipeline: LocalPipeline;
let stopped = false;

const config = () => `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  pager: { type: pagerduty, routingKeyEnv: E2E_PD_KEY, url: "${pd.url}" }
  pager-busy: { type: pagerduty, routingKey: "${BUSY_KEY}", url: "${pd.url}" }
  pager-bad: { type: pagerduty, routingKey: "${BAD_KEY}", url: "${pd.url}" }
  hook: { type: webhook, url: "${rx.url('/tocsin/in?team=ops')}", signingKeyEnv: E2E_HOOK_KEY, minSeverity: critical }
  team: { type: slack, webhookUrl: "${slack.url('team')}", minSeverity: critical }
defaults: { channels: [email] }
delivery: { pagerduty: { maxReceiveCount: 3, minIntervalMs: 0 }, webhook: { minIntervalMs: 0 }, slack: { minIntervalMs: 0 } }
links: { alert: "https://consul.example.com/ui/{cluster}/nodes/{node}" }
rules:
  - name: pd
    match: { check: { glob: "pd-*" } }
    channels: [pager, hook, team]
  - name: busy
    match: { check: busy }
    channels: [pager-busy]
  - name: bad
    match: { check: bad }
    channels: [pager-bad]
`;

beforeAll(async () => {
  ensureBuilt();
  pd = await startFakePagerDuty();
  rx = await startWebhookReceiver([HOOK_KEY]);
  slack = await startFakeSlack();
  const file = join(tempDir('tocsin-e2e-pd-'), 'tocsin.yaml');
  writeFileSync(file, config());
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_RETRY_SECONDS: '1', E2E_PD_KEY: KEY, E2E_HOOK_KEY: HOOK_KEY } });
  expect(pipeline.output()).toContain('# pagerduty dead-letter queue: tocsin-pagerduty-dlq (0 messages)');
  expect(pipeline.output()).toMatch(/^# webhook channel hook: http:\/\/127\.0\.0\.1:\d+\/tocsin\/in\?team=ops \(critical and above\)/m);
  // Secrets never reach the banner.
  expect(pipeline.output()).not.toContain(KEY);
  expect(pipeline.output()).not.toContain(HOOK_KEY);
}, 90000);

afterAll(async () => {
  const code = stopped ? 0 : await pipeline?.stop();
  await pd?.close();
  await rx?.close();
  await slack?.close();
  expect(code).toBe(0);
});

const seen = () => `PagerDuty:\n${pd.requests.map((r) => `${r.status} ${JSON.stringify(r.body).slice(0, 300)}`).join('\n')}\nwebhook:\n${rx.requests.map((r) => `${r.status} ${r.refused ?? ''} ${JSON.stringify(r.body).slice(0, 200)}`).join('\n')}`;
const pdEvents = (check: string) => pd.eventsFor(KEY).filter((e) => e.event_action === 'trigger' && e.payload.summary.includes(check));
const check = (id: string, status: string, index: number) => ({ Node: 'web-1', CheckID: id, Status: status, Output: `${id} ${status}`, ModifyIndex: index });

describe('PagerDuty and webhook channels (and minSeverity on Slack), through the shim and npm start', () => {
  it('critical -> trigger; resolved -> resolve under the same dedup_key; the next episode another key; the webhook hears both, signed', async () => {
    await shimChecks(pipeline, 'pd', [check('pd-1', 'critical', 20)], 20);
    await until('the trigger', () => pdEvents('pd-1').length === 1, 15000, seen);
    const [trigger] = pdEvents('pd-1');
    expect(trigger).toMatchObject({
      routing_key: KEY,
      event_action: 'trigger',
      payload: { severity: 'critical', source: 'web-1', component: 'web', group: 'default', class: 'consul/check', custom_details: { Output: 'pd-1 critical', rules: ['pd'] } },
      client: 'tocsin',
      links: [{ href: 'https://consul.example.com/ui/default/nodes/web-1', text: 'Open' }],
    });
    expect(trigger!.payload.summary).toMatch(/^\[default\] CRITICAL: .*pd-1/);
    const key = trigger!.dedup_key as string;

    await until('the signed firing webhook', () => rx.accepted.length === 1, 15000, seen);
    expect(rx.accepted[0]).toMatchObject({ version: 1, state: 'firing', severity: 'critical', episode: key, check: 'pd-1', node: 'web-1', link: 'https://consul.example.com/ui/default/nodes/web-1' });
    expect(rx.requests[0]!.headers['x-tocsin-webhook-version']).toBe('1');

    await shimChecks(pipeline, 'pd', [check('pd-1', 'passing', 21)], 21);
    await until('the resolve', () => pd.eventsFor(KEY).some((e) => e.event_action === 'resolve'), 15000, seen);
    expect(pd.eventsFor(KEY).filter((e) => e.event_action === 'resolve')).toEqual([{ routing_key: KEY, event_action: 'resolve', dedup_key: key }]);
    await until('the resolved webhook', () => rx.accepted.length === 2, 15000, seen);
    expect(rx.accepted[1]).toMatchObject({ state: 'resolved', episode: key });
    expect(rx.accepted[1]!.id).not.toBe(rx.accepted[0]!.id);

    await shimChecks(pipeline, 'pd', [check('pd-1', 'critical', 22)], 22);
    await until('the next episode', () => pd.eventsFor(KEY).filter((e) => e.event_action === 'trigger').length === 2, 15000, seen);
    const next = pd.eventsFor(KEY).filter((e) => e.event_action === 'trigger')[1]!;
    expect(next.dedup_key).not.toBe(key);
    await until('its webhook', () => rx.accepted.length === 3, 15000, seen);
    expect(rx.accepted[2]).toMatchObject({ state: 'firing', episode: next.dedup_key });

    // A warning reaches PagerDuty but not the webhook (minSeverity: critical).
    await shimChecks(pipeline, 'pd', [check('pd-1', 'critical', 22), check('pd-2', 'warning', 23)], 23);
    await until('the warning trigger', () => pdEvents('pd-2').length === 1, 15000, seen);
    expect(pdEvents('pd-2')[0]!.payload.severity).toBe('warning');
    await new Promise((r) => setTimeout(r, 1000));
    expect(rx.requests.filter((r) => JSON.stringify(r.body).includes('pd-2'))).toEqual([]);
    // minSeverity holds for Slack too: the criticals and their resolution, not the warning.
    await until('the Slack posts', () => slack.postsTo('team').length >= 3, 15000, seen);
    expect(slack.postsTo('team').map((p) => p.body.text.replace(/^\S+ \[default\] /, '').replace(/ \(service.*/, ''))).toEqual(['CRITICAL: pd-1', 'RESOLVED: pd-1', 'CRITICAL: pd-1']);
    expect(rx.requests.every((r) => r.status === 200)).toBe(true);
  }, 60000);

  it('a 429 (Retry-After 1) then accepted: delivered once', async () => {
    pd.reply = (key, attempt) => (key === BUSY_KEY && attempt === 0 ? { status: 429, retryAfter: 1 } : 'contract');
    await shimChecks(pipeline, 'busy', [check('busy', 'critical', 30)], 30);
    await until('the retried trigger', () => pd.eventsFor(BUSY_KEY).length === 1, 15000, seen);
    const tries = pd.requests.filter((r) => r.body?.routing_key === BUSY_KEY);
    expect(tries.map((r) => r.status)).toEqual([429, 202]);
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(900);
    await new Promise((r) => setTimeout(r, 1500));
    expect(pd.eventsFor(BUSY_KEY)).toHaveLength(1);
  }, 30000);

  it('a 400: not retried, in the dead-letter queue with PagerDuty\'s reason', async () => {
    const refusal = { status: 'invalid event', message: 'Event object is invalid', errors: ['Invalid routing key'] };
    pd.reply = (key) => (key === BAD_KEY ? { status: 400, body: refusal } : 'contract');
    await shimChecks(pipeline, 'bad', [check('bad', 'critical', 40)], 40);
    await until('the dead-lettering', () => pipeline.logs().includes('notification moved to the dead-letter queue'), 15000, () => `${seen()}\n${pipeline.logs().slice(-3000)}`);
    const logged = pipeline.logs().split('\n').find((l) => l.includes('notification moved to the dead-letter queue'))!;
    expect(JSON.parse(logged)).toMatchObject({ channel: 'pager-bad', queue: LOCAL_NAMES.channelDeadLetterQueue('pagerduty'), reason: expect.stringContaining('Invalid routing key') });
    await new Promise((r) => setTimeout(r, 2500)); // longer than the retry delay: no second try
    expect(pd.requests.filter((r) => r.body?.routing_key === BAD_KEY).map((r) => r.status)).toEqual([400]);

    expect(await pipeline.stop()).toBe(0);
    stopped = true;
    const bus = await LocalBus.open(pipeline.busDir);
    try {
      const dead = await bus.list(LOCAL_NAMES.channelDeadLetterQueue('pagerduty'));
      expect(dead).toHaveLength(1);
      expect(dead[0]!.attributes[DEAD_LETTER_REASON_ATTRIBUTE]?.StringValue).toBe(`PagerDuty refused it (400): ${JSON.stringify(refusal)}`);
      expect(dead[0]!.body).toContain('bad');
      expect(await bus.list(LOCAL_NAMES.channelQueue('pagerduty', 'pager-bad'))).toEqual([]);
    } finally {
      await bus.close();
    }
  }, 40000);
});
