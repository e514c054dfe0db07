/**
 * End to end: timers survive a restart of `npm start` (docs/ARCHITECTURE.md, "Episodes" and
 * "Storm grouping"). Two paths can fire a step after the restart: the bus's timers queue
 * (kept in the data dir: local/bus) and the sweeper (every TOCSIN_LOCAL_SWEEP_SECONDS, from
 * the index of pending steps in dynalite). With a grace of 1 s both race for every step:
 * each must fire once; with a grace of an hour the sweeper fires nothing, so what is
 * delivered after a kill -9 came from the bus alone. The built shim sends Consul checks
 * watches to the runner; a local stand-in for Slack receives the posts. The runner is
 * stopped in the middle of a `for` and a storm window, started again on the same
 * --data-dir, stopped again in the middle of a `repeat`, and started once more: the
 * notification, the digest and the reminder are each delivered once.
 * (test/e2e/bus-restart.test.ts: channel retries and the dead-letter queue across a kill -9.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, tempDir } from '../shim/helpers';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { shimChecks, until } from '../support/e2e-steps';

const WINDOW_SECONDS = 8;
const THRESHOLD = 2;
const STORM_NODES = 5;

let slack: FakeSlack;
let configFile: string;
/** The runner of the test under way: killed after a failed test. */
let running: LocalPipeline | undefined;

beforeAll(async () => {
  ensureBuilt();
  slack = await startFakeSlack();
  configFile = join(tempDir('tocsin-e2e-timers-'), 'tocsin.yaml');
  writeFileSync(
    configFile,
    `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  ops: { type: slack, webhookUrl: "${slack.url('ops')}" }
  storm: { type: slack, webhookUrl: "${slack.url('storm')}" }
defaults: { channels: [email] }
grouping: { windowSeconds: ${WINDOW_SECONDS}, threshold: ${THRESHOLD} }
rules:
  - name: slow
    match: { check: { glob: "slow-*" } }
    channels: [ops]
    for: 6s
    repeat: 15s
  - name: storm
    match: { node: { glob: "storm-*" } }
    channels: [storm]
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

/** `graceSeconds`: how overdue a step is before the sweeper fires it (an hour: never, here). */
async function start(dataDir: string, graceSeconds: number): Promise<LocalPipeline> {
  running = await startLocalPipeline({
    dataDir,
    inProcess: true,
    env: { TOCSIN_CONFIG: configFile, TOCSIN_LOCAL_SWEEP_SECONDS: '1', TOCSIN_LOCAL_TIMER_GRACE_SECONDS: String(graceSeconds), TOCSIN_LOCAL_RETRY_SECONDS: '1' },
  });
  return running;
}

/** What Slack saw and the runner's last log lines, for a failed wait. */
const seen = () => `${slack.posts.map((p) => `${p.channel} ${p.status} ${p.body.text}`).join('\n')}\n${running?.logs().slice(-3000) ?? ''}`;

describe('timers survive a restart of npm start', () => {
  it.each([
    ['SIGTERM', 'SIGKILL', 1, 'the bus and the sweeper racing'],
    ['SIGKILL', 'SIGTERM', 1, 'the bus and the sweeper racing'],
    ['SIGKILL', 'SIGKILL', 3600, 'the bus alone'],
  ] as const)('stopped with %s in a `for` and a storm window, then with %s in a `repeat` (sweeper grace %i s: %s): each delivered once', async (first, second, grace, _paths) => {
    const tag = `${first}-${second}`.toLowerCase();
    const check = `slow-${tag}`;
    const nodes = Array.from({ length: STORM_NODES }, (_, i) => `storm-${tag}-${i + 1}`);
    const about = (channel: string, text: string) => slack.postsTo(channel, 200).filter((p) => p.body.text.includes(text));
    const firing = () => about('ops', check).filter((p) => !p.body.text.includes('reminder'));
    const reminders = () => about('ops', check).filter((p) => p.body.text.includes('reminder 1'));
    const stormPosts = () => slack.postsTo('storm', 200).filter((p) => nodes.some((n) => new RegExp(`on ${n}(?![0-9])`).test(p.body.text)) && !p.body.text.includes('storm digest'));
    const digests = () => slack.postsTo('storm', 200).filter((p) => p.body.text.includes('storm digest') && nodes.some((n) => JSON.stringify(p.body).includes(n)));

    const dataDir = tempDir('tocsin-e2e-timers-data-');
    let pipeline = await start(dataDir, grace);
    // Right after a window boundary, so that the storm falls into one window.
    const size = WINDOW_SECONDS * 1000;
    await sleep(size - (Date.now() % size) + 200);
    await shimChecks(pipeline, 'storm', nodes.map((Node, i) => ({ Node, CheckID: 'disk', Name: 'disk', ServiceID: '', ServiceName: '', ServiceTags: [], Status: 'critical', Output: 'disk full', ModifyIndex: 100 + i })), 200);
    await shimChecks(pipeline, 'slow', [{ Node: 'web-1', CheckID: check, Status: 'critical', Output: 'timeout', ModifyIndex: 20 }], 20);
    await until('the storm posts that go out one by one', () => stormPosts().length === THRESHOLD, 10000, seen);
    // Not in the milliseconds between the last storm post and its acknowledgement on the bus
    // (a kill there repeats that post: at-least-once, docs/local-bus.md; seen in CI under load).
    await sleep(500);
    expect(firing()).toEqual([]); // held for 6 s
    expect(digests()).toEqual([]); // the window is still open

    // In the middle of the `for` and of the storm window.
    await pipeline.stop(first);
    pipeline = await start(dataDir, grace);
    await until('the `for` notification after the restart', () => firing().length >= 1, 30000, seen);
    await until('the storm digest after the restart', () => digests().length >= 1, 30000, seen);
    expect(reminders()).toEqual([]);

    // In the middle of the `repeat` (15 s after the notification). Not in the milliseconds
    // between the digest's post and its acknowledgement on the bus: a kill there repeats the
    // post (at-least-once, docs/local-bus.md), which is not what this test is about.
    await sleep(1000);
    await pipeline.stop(second);
    pipeline = await start(dataDir, grace);
    await until('the reminder after the restart', () => reminders().length >= 1, 40000, seen);
    await sleep(3000); // several sweeps: nothing fires twice
    expect(firing()).toHaveLength(1);
    expect(reminders()).toHaveLength(1);
    expect(digests()).toHaveLength(1);
    expect(digests()[0]!.body.text).toContain(`${STORM_NODES - THRESHOLD} more notifications`);
    expect(stormPosts()).toHaveLength(THRESHOLD);
    expect(await pipeline.stop()).toBe(0);
    running = undefined;
  }, 150000);
});
