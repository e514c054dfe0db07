/**
 * End to end: what `npm start` holds in its message bus (local/bus, LevelDB in the data dir)
 * survives a kill -9. The built shim sends Consul checks watches; a local stand-in for Slack
 * receives the posts:
 * - a Slack post refused once, the runner killed before its retry: delivered once;
 * - a post Slack keeps refusing: in the dead-letter queue after maxReceiveCount attempts,
 *   and still there after a kill -9 and a restart.
 * (test/e2e/timers-restart.test.ts: `for`, `repeat` and storm digests across restarts, the
 * bus alone and racing the sweeper.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalBus } from '../../local/bus/bus';
import { LOCAL_NAMES } from '../../local/names';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { shimChecks, until } from '../support/e2e-steps';

const RETRY_SECONDS = 4;

let slack: FakeSlack;
let configFile: string;
/** The runner of the test under way: killed after a failed test. */
let running: LocalPipeline | undefined;

beforeAll(async () => {
  ensureBuilt();
  slack = await startFakeSlack();
  configFile = join(tempDir('tocsin-e2e-bus-'), 'tocsin.yaml');
  writeFileSync(
    configFile,
    `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  retry: { type: slack, webhookUrl: "${slack.url('retry')}" }
  down: { type: slack, webhookUrl: "${slack.url('down')}" }
defaults: { channels: [email] }
delivery: { slack: { maxReceiveCount: 2, minIntervalMs: 50 } }
rules:
  - name: retry
    match: { check: retry }
    channels: [retry]
  - name: down
    match: { check: down }
    channels: [down]
`,
  );
}, 90000);

afterEach(async () => {
  await running?.stop('SIGKILL');
  running = undefined;
});

afterAll(async () => {
  await slack?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(dataDir: string): Promise<LocalPipeline> {
  running = await startLocalPipeline({
    dataDir,
    inProcess: true,
    env: { TOCSIN_CONFIG: configFile, TOCSIN_LOCAL_SWEEP_SECONDS: '1', TOCSIN_LOCAL_TIMER_GRACE_SECONDS: '3600', TOCSIN_LOCAL_RETRY_SECONDS: String(RETRY_SECONDS) },
  });
  return running;
}

async function kill(pipeline: LocalPipeline): Promise<void> {
  await pipeline.stop('SIGKILL');
  running = undefined;
}

/** What Slack saw and the runner's last log lines, for a failed wait. */
const seen = () => `${slack.posts.map((p) => `${p.channel} ${p.status} ${p.body.text}`).join('\n')}\n${running?.logs().slice(-3000) ?? ''}`;

describe('the message bus of npm start survives kill -9', () => {
  it('a Slack post refused once, the runner killed before its retry: delivered once after the restart', async () => {
    slack.reply = (channel, attempt) => (channel === 'retry' && attempt === 0 ? 500 : 200);
    const dataDir = tempDir('tocsin-e2e-bus-retry-');
    let pipeline = await start(dataDir);
    await shimChecks(pipeline, 'retry', [{ Node: 'db-1', CheckID: 'retry', Status: 'critical', Output: 'refused', ModifyIndex: 30 }], 30);
    await until('the refused post', () => slack.postsTo('retry').length === 1, 15000, seen);
    await sleep(1000); // the retry is due RETRY_SECONDS after the refusal
    expect(slack.postsTo('retry')).toHaveLength(1);
    await kill(pipeline);

    pipeline = await start(dataDir);
    await until('the retried post', () => slack.postsTo('retry', 200).length === 1, 20000, seen);
    await sleep(RETRY_SECONDS * 1000 + 1000); // no second delivery
    const posts = slack.postsTo('retry');
    expect(posts.map((p) => p.status)).toEqual([500, 200]);
    expect(posts[1]!.body).toEqual(posts[0]!.body);
    expect(await pipeline.stop()).toBe(0);
    running = undefined;
  }, 90000);

  it('a post Slack keeps refusing is in the dead-letter queue after maxReceiveCount attempts, and still there after a kill -9', async () => {
    slack.reply = (channel) => (channel === 'down' ? 500 : 200);
    const dataDir = tempDir('tocsin-e2e-bus-dlq-');
    let pipeline = await start(dataDir);
    expect(pipeline.output()).toContain(`# slack dead-letter queue: ${LOCAL_NAMES.slackDeadLetterQueue} (0 messages)`);
    await shimChecks(pipeline, 'down', [{ Node: 'db-2', CheckID: 'down', Status: 'critical', Output: 'refused', ModifyIndex: 40 }], 40);
    await until('the dead-letter log line', () => pipeline.logs().includes('"message dead-lettered"'), 30000, seen);
    expect(slack.postsTo('down').map((p) => p.status)).toEqual([500, 500]);
    await kill(pipeline);

    pipeline = await start(dataDir);
    expect(pipeline.output()).toContain(`# slack dead-letter queue: ${LOCAL_NAMES.slackDeadLetterQueue} (1 message)`);
    await sleep(RETRY_SECONDS * 1000 + 1000);
    expect(slack.postsTo('down')).toHaveLength(2); // no further attempts
    expect(await pipeline.stop()).toBe(0);
    running = undefined;

    // The runner is stopped: its store can be opened and read.
    const bus = await LocalBus.open(pipeline.busDir);
    try {
      const dead = await bus.list(LOCAL_NAMES.slackDeadLetterQueue);
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ receiveCount: 2, deadLetteredFrom: LOCAL_NAMES.slackQueue('down') });
      const envelope = JSON.parse(dead[0]!.body) as { Subject: string; Message: string; MessageAttributes: Record<string, { Value: string }> };
      expect(JSON.parse(envelope.Message)).toMatchObject({ check: 'down', node: 'db-2', severity: 'critical' });
      expect(JSON.parse(envelope.MessageAttributes.channels!.Value)).toEqual(['down']);
    } finally {
      await bus.close();
    }
  }, 90000);
});
