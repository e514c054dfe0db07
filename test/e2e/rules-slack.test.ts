/**
 * End to end, locally: the bundled shim (as Consul runs it) -> `npm start`'s pipeline
 * with a tocsin.yaml whose Slack channels point at a local stand-in for Slack ->
 * rules, timers, silences, storm grouping -> the Slack worker's Block Kit posts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSilence } from '../../bin/commands/silence';
import { HEADERS } from '../../lambdas/domain/protocol';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { ensureCliBuilt, runTocsin, type CliRun } from '../support/built-cli';
import { startLocalPipeline, ROOT, type LocalPipeline } from '../support/local-pipeline';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { blockText, startFakeSlack, type FakeSlack, type SlackPost } from '../support/fake-slack';

const WINDOW_SECONDS = 6;
const THRESHOLD = 4;

let slack: FakeSlack;
let pipeline: LocalPipeline;
let adminKey: string;
let dlq: string;

const config = (s: FakeSlack) => `# yaml-language-server: $schema=${ROOT}/schema/tocsin.schema.json
clusters: [default]
channels:
  email: { type: email }
  ops: { type: slack, webhookUrl: "${s.url('ops')}" }
  storm: { type: slack, webhookUrl: "${s.url('storm')}" }
  quake: { type: slack, webhookUrl: "${s.url('quake')}" }
  flaky: { type: slack, webhookUrl: "${s.url('flaky')}" }
  down: { type: slack, webhookUrl: "${s.url('down')}" }
defaults: { channels: [email] }
grouping: { windowSeconds: ${WINDOW_SECONDS}, threshold: ${THRESHOLD} }
delivery: { slack: { maxReceiveCount: 2, minIntervalMs: 50 } }
links: { alert: "https://consul.example.com/ui/{cluster}/nodes/{node}" }
rules:
  - name: quiet-maintenance
    match: { status: maintenance }
    suppress: true
  - name: slow
    match: { check: { glob: "slow-*" } }
    channels: [ops]
    for: 2s
    repeat: 3s
  - name: web
    match: { check: { glob: "web-*" }, tags: { not: canary } }
    channels: [ops]
  - name: flaky
    match: { check: flaky }
    channels: [flaky]
  - name: down
    match: { check: down }
    channels: [down]
  - name: storm
    match: { node: { glob: "storm-*" } }
    channels: [storm]
  - name: quake-notes
    match: { node: { glob: "quake-*" }, check: { glob: "note-*" } }
    severity: info
    channels: [quake]
  - name: quake
    match: { node: { glob: "quake-*" } }
    channels: [quake]
`;

beforeAll(async () => {
  ensureBuilt();
  ensureCliBuilt();
  slack = await startFakeSlack();
  const dir = tempDir('tocsin-e2e-rules-');
  const file = join(dir, 'tocsin.yaml');
  writeFileSync(file, config(slack));
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_RETRY_SECONDS: '1', TOCSIN_LOCAL_SILENCE_CACHE_MS: '0' } });
  adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  dlq = /^# slack dead-letter queue: (\S+) \(0 messages\)$/m.exec(pipeline.output())?.[1] ?? '';
  expect(adminKey).not.toBe('');
  expect(dlq).not.toBe('');
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  await slack?.close();
  expect(code).toBe(0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Consul agent's checks watch invocation: a whole snapshot of one watch scope. */
/** Runs the shim; the time just before it started: the backend's transition, hence its timers, come after it. */
async function consul(scope: string, checks: Array<Parameters<typeof healthCheck>[0]>, index: number): Promise<number> {
  const started = Date.now();
  const run = await runShim({
    args: ['--watch', 'checks', '--scope', scope],
    env: {
      TOCSIN_URL: pipeline.url,
      TOCSIN_CLUSTER: pipeline.cluster,
      TOCSIN_KEY: pipeline.key,
      TOCSIN_NODE: 'agent-1',
      TOCSIN_SPOOL_DIR: tempDir('tocsin-e2e-spool-'),
      CONSUL_INDEX: String(index),
    },
    stdin: goJsonLine(checks.map((c) => healthCheck({ Name: c?.CheckID ?? 'check', ...c }))),
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return started;
}

async function until(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; Slack saw:\n${slack.posts.map((p) => `${p.channel} ${p.status} ${p.body.text}`).join('\n')}`);
    await sleep(100);
  }
}

const about = (channel: string, text: string) => () => slack.postsTo(channel, 200).filter((p) => p.body.text.includes(text));

/** `tocsin silence ARGS`, the built CLI as npx runs it. */
function cli(args: string[]): Promise<CliRun> {
  return runTocsin(['silence', ...args], { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: adminKey });
}

function expectBlockKit(post: SlackPost, opts: { emoji: string; color: string; title: string }): void {
  const { body } = post;
  expect(body.text).toContain(opts.emoji);
  expect(body.text).toContain(opts.title);
  expect(body.attachments).toHaveLength(1);
  const [att] = body.attachments;
  expect(att!.color).toBe(opts.color);
  expect(att!.fallback).toBe(body.text);
  expect(att!.blocks.length).toBeLessThanOrEqual(50);
  expect(att!.blocks[0]).toMatchObject({ type: 'header', text: { type: 'plain_text' } });
  expect(String(att!.blocks[0]!.text.text)).toContain(opts.emoji);
  for (const b of att!.blocks) {
    if (b.type === 'section' && b.text) expect(String(b.text.text).length).toBeLessThanOrEqual(3000);
    for (const f of b.fields ?? []) expect(String(f.text).length).toBeLessThanOrEqual(2000);
  }
}

describe('rules to Slack, through the shim and npm start', () => {
  it('for: 2s holds a critical check back, then notifies; a blip shorter than that is never heard of; repeat reminds; resolved closes', async () => {
    const sent = await consul('slow', [{ Node: 'web-1', CheckID: 'slow-1', Status: 'critical', Output: 'timeout', ModifyIndex: 20 }, { Node: 'web-1', CheckID: 'slow-blip', Status: 'critical', ModifyIndex: 21 }], 21);
    await sleep(1200);
    expect(slack.postsTo('ops')).toEqual([]);
    // slow-blip recovers before its 2 s: nothing, neither firing nor resolved.
    await consul('slow', [{ Node: 'web-1', CheckID: 'slow-1', Status: 'critical', Output: 'timeout', ModifyIndex: 20 }, { Node: 'web-1', CheckID: 'slow-blip', Status: 'passing', ModifyIndex: 22 }], 22);

    await until('the firing notice', () => about('ops', 'slow-1')().length >= 1, 10000);
    const [firing] = about('ops', 'slow-1')();
    expect(firing!.at - sent).toBeGreaterThanOrEqual(2000);
    expectBlockKit(firing!, { emoji: ':red_circle:', color: '#E01E5A', title: 'CRITICAL:' });
    const text = blockText(firing!.body);
    expect(text).toContain('web-1');
    expect(text).toContain('timeout');
    expect(text).toContain('rule slow');
    expect(firing!.body.attachments[0]!.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open', emoji: false }, url: 'https://consul.example.com/ui/default/nodes/web-1' }],
    });

    await until('a reminder', () => about('ops', 'reminder 1')().length === 1, 10000);
    // Not before `for` + `repeat` after the change, which came after the shim started (as for
    // the firing notice above: a slow shim exit on a loaded machine cannot make the gap look short).
    expect(about('ops', 'reminder 1')()[0]!.at - sent).toBeGreaterThanOrEqual(5000);

    await consul('slow', [{ Node: 'web-1', CheckID: 'slow-1', Status: 'passing', ModifyIndex: 30 }, { Node: 'web-1', CheckID: 'slow-blip', Status: 'passing', ModifyIndex: 22 }], 30);
    await until('the resolved notice', () => about('ops', 'RESOLVED')().length === 1, 10000);
    const resolved = about('ops', 'RESOLVED')()[0]!;
    expectBlockKit(resolved, { emoji: ':white_check_mark:', color: '#2EB67D', title: 'RESOLVED:' });
    expect(resolved.body.text).toContain('slow-1');
    const count = slack.postsTo('ops').length;
    await sleep(4000); // no reminder after the resolution
    expect(slack.postsTo('ops')).toHaveLength(count);
    expect(slack.posts.filter((p) => p.body.text.includes('slow-blip'))).toEqual([]);
  }, 60000);

  it('a silence (CLI, admin key) mutes matching alerts until it is expired', async () => {
    const added = await cli(['add', '--match', 'check=web-*', '--match', 'node!=db-1', '--duration', '10m', '--comment', 'deploying web', '--author', 'e2e']);
    expect(added.stderr).toContain('silenced check=web-* node!=db-1 in default until');
    expect(added.code).toBe(0);
    const id = added.stdout.trim();
    const listed = await cli(['list']);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+active\\s+\\S+\\s+e2e\\s+check=web-\\* node!=db-1\\s+deploying web`));
    // The shim's key cannot sign admin requests.
    const wrongKey = await runTocsin(['silence', 'list'], { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: pipeline.key });
    expect(wrongKey.code).toBe(77);
    expect(wrongKey.stderr).toContain('401 unauthenticated');

    await consul('web', [{ Node: 'web-1', CheckID: 'web-a', Status: 'critical', ModifyIndex: 40 }], 40);
    await sleep(3000);
    expect(slack.posts.filter((p) => p.body.text.includes('web-a'))).toEqual([]);

    const expired = await cli(['expire', id]);
    expect(expired.code).toBe(0);
    expect(expired.stdout).toContain(`${id} ended at`);
    // Whole results, so that a failure shows the CLI's stderr too.
    expect(await cli(['list'])).toEqual({ code: 0, stdout: 'no silences\n', stderr: '' });
    expect(await cli(['list', '--all'])).toMatchObject({ code: 0, stdout: expect.stringContaining(`${id}  expired`) });

    await consul('web', [{ Node: 'web-1', CheckID: 'web-a', Status: 'critical', ModifyIndex: 40 }, { Node: 'web-2', CheckID: 'web-b', Status: 'warning', ModifyIndex: 41 }], 41);
    await until('the alert after the silence', () => about('ops', 'web-b')().length === 1, 10000);
    expectBlockKit(about('ops', 'web-b')()[0]!, { emoji: ':large_orange_circle:', color: '#ECB22E', title: 'WARNING:' });
  }, 60000);

  it('the silence API refuses a reused signature as "replayed", and the CLI then signs afresh', async () => {
    const env = { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: adminKey };
    // The first request goes out twice, as when two identical `list`s fall into one second:
    // the CLI gets the answer to the copy, whose signature was already used.
    const answers: Array<{ status: number; body: string; timestamp: string }> = [];
    const firstTwice: typeof fetch = async (input, init) => {
      if (answers.length === 0) await fetch(input, init);
      const res = await fetch(input, init);
      const body = await res.text();
      answers.push({ status: res.status, body, timestamp: new Headers(init?.headers).get(HEADERS.timestamp) ?? '' });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const out = await runSilence(['list', '--json'], env, firstTwice);
    expect(answers[0]).toMatchObject({ status: 401, body: JSON.stringify({ error: 'replayed', message: 'signature already used (replayed request); sign every request afresh' }) });
    expect(answers).toHaveLength(2);
    expect(answers[1]).toMatchObject({ status: 200 });
    expect(Number(answers[1]!.timestamp)).toBeGreaterThan(Number(answers[0]!.timestamp)); // signed afresh, in the next second
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(Array.isArray(JSON.parse(out.stdout))).toBe(true);

    // Three identical lists at once (scripts polling): all answered, one per second.
    await sleep(1000 - (Date.now() % 1000) + 20); // all three are signed in one second
    const three = await Promise.all([1, 2, 3].map(() => runSilence(['list', '--json'], env)));
    expect(three.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, ''], [0, '']]);
  }, 30000);

  it(`storm grouping: ${THRESHOLD} posts one by one, then one digest for the rest of the window`, async () => {
    // Start right after a window boundary so that the burst falls into one window.
    const size = WINDOW_SECONDS * 1000;
    await sleep(size - (Date.now() % size) + 200);
    const nodes = Array.from({ length: 15 }, (_, i) => `storm-${i + 1}`);
    await consul('storm', nodes.map((Node, i) => ({ Node, CheckID: 'disk', Name: 'disk', ServiceID: '', ServiceName: '', ServiceTags: [], Status: 'critical', ModifyIndex: 100 + i })), 200);
    await until('the digest', () => slack.postsTo('storm').some((p) => p.body.text.includes('storm digest')), 20000);
    await sleep(1500);
    const posts = slack.postsTo('storm', 200);
    expect(posts).toHaveLength(THRESHOLD + 1);
    const digest = posts.find((p) => p.body.text.includes('storm digest'))!;
    expect(digest.body.text).toContain(`CRITICAL: ${15 - THRESHOLD} more notifications for cluster default (storm digest)`);
    expectBlockKit(digest, { emoji: ':red_circle:', color: '#E01E5A', title: 'storm digest' });
    const text = blockText(digest.body);
    const listed = nodes.filter((n) => new RegExp(`on ${n}(?![0-9])`).test(text));
    expect(listed).toHaveLength(15 - THRESHOLD);
    expect(text).toContain(`${15 - THRESHOLD} folded in ${WINDOW_SECONDS}s`);
  }, 60000);

  it('storms never hide a critical: after a window full of INFO notices, a CRITICAL is posted at once; the digest lists the folded ones with their details', async () => {
    const size = WINDOW_SECONDS * 1000;
    await sleep(size - (Date.now() % size) + 200);
    const notes = Array.from({ length: 12 }, (_, i) => ({ Node: `quake-${i + 1}`, CheckID: `note-${i + 1}`, ServiceID: 'batch', ServiceName: 'batch', Status: 'warning', Output: `job ${i + 1} late`, ModifyIndex: 500 + i }));
    const db = (Status: string) => ({ Node: 'quake-db', CheckID: 'pg', ServiceID: 'pg', ServiceName: 'postgres', Status, Output: Status === 'critical' ? 'connection refused on :5432' : 'accepting connections', ModifyIndex: Status === 'critical' ? 600 : 450 });
    await consul('quake', [...notes, db('passing')], 520);
    await until('the INFO notices', () => slack.postsTo('quake', 200).length >= THRESHOLD, 10000);
    await consul('quake', [...notes, db('critical')], 600);
    await until('the digest', () => slack.postsTo('quake').some((p) => p.body.text.includes('storm digest')), 20000);
    await sleep(1500);
    const posts = slack.postsTo('quake', 200);
    const digest = posts.find((p) => p.body.text.includes('storm digest'))!;
    const alone = posts.filter((p) => p !== digest);
    // THRESHOLD INFO notices and the CRITICAL one by one, then one digest of the rest.
    expect(alone).toHaveLength(THRESHOLD + 1);
    const critical = alone.filter((p) => p.body.text.includes('quake-db'));
    expect(critical).toHaveLength(1);
    expectBlockKit(critical[0]!, { emoji: ':red_circle:', color: '#E01E5A', title: 'CRITICAL:' });
    expect(blockText(critical[0]!.body)).toContain('connection refused on :5432');
    expect(alone.filter((p) => p.body.text.includes(':large_blue_circle:'))).toHaveLength(THRESHOLD);

    expect(digest.body.text).toContain(`INFO: ${12 - THRESHOLD} more notifications for cluster default (storm digest)`);
    const text = blockText(digest.body);
    expect(text).not.toContain('quake-db');
    const folded = notes.filter((n) => !alone.some((p) => new RegExp(`${n.Node}(?![0-9])`).test(p.body.text)));
    expect(folded).toHaveLength(12 - THRESHOLD);
    for (const n of folded) expect(text).toContain(`[node ${n.Node}, service batch, check ${n.CheckID}] :: ${n.Output}`);
  }, 60000);

  it("Slack answering 429: the Retry-After is honoured, then the message is delivered once", async () => {
    slack.reply = (channel, attempt) => (channel === 'flaky' && attempt === 0 ? { status: 429, retryAfter: 2 } : 200);
    await consul('flaky', [{ Node: 'db-1', CheckID: 'flaky', Status: 'critical', ModifyIndex: 50 }], 50);
    await until('the retried post', () => slack.postsTo('flaky', 200).length === 1, 15000);
    const [limited, ok] = slack.postsTo('flaky');
    expect(limited!.status).toBe(429);
    expect(ok!.at - limited!.at).toBeGreaterThanOrEqual(1900);
    expect(ok!.body).toEqual(limited!.body);
  }, 30000);

  it('Slack down: after maxReceiveCount attempts the message is in the dead-letter queue', async () => {
    slack.reply = (channel) => (channel === 'down' ? 500 : 200);
    await consul('down', [{ Node: 'db-2', CheckID: 'down', Status: 'critical', ModifyIndex: 60 }], 60);
    // The runner says so on stderr: the queue, the dead-letter queue, the notification's subject.
    const deadLettered = () =>
      pipeline
        .logs()
        .split('\n')
        .filter((l) => l.includes('"message dead-lettered"'))
        .map((l) => JSON.parse(l) as { queue: string; deadLetterQueue: string; subject?: string });
    let dead: { queue: string; deadLetterQueue: string; subject?: string } | undefined;
    const deadline = Date.now() + 20000;
    while (!dead && Date.now() < deadline) {
      dead = deadLettered().find((d) => d.subject?.includes('down'));
      if (!dead) await sleep(200);
    }
    expect(dead).toMatchObject({ queue: 'tocsin-slack-down', deadLetterQueue: dlq });
    expect(slack.postsTo('down').map((p) => p.status)).toEqual([500, 500]);
    await sleep(3000);
    expect(slack.postsTo('down')).toHaveLength(2); // no further attempts
  }, 40000);
});
