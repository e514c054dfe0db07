/**
 * The operator's view (issue 14) as an operator meets it: `npm start`, the bundled shim as
 * Consul runs it, the built CLI (`tocsin alerts`, `ack`, `history`) with the viewer and admin
 * keys npm start prints, a local stand-in for Slack. Reminders every 2 s: an acknowledged
 * alert gets none; after it resolves, a new episode notifies again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { ensureCliBuilt, runTocsin, type CliRun } from '../support/built-cli';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';

let slack: FakeSlack;
let pipeline: LocalPipeline;
let adminKey: string;
let viewerKey: string;

beforeAll(async () => {
  ensureBuilt();
  ensureCliBuilt();
  slack = await startFakeSlack();
  const file = join(tempDir('tocsin-e2e-alerts-'), 'tocsin.yaml');
  writeFileSync(file, `clusters: [default]\nchannels:\n  ops: { type: slack, webhookUrl: "${slack.url('ops')}" }\ndefaults: { channels: [ops], repeat: 2s }\n`);
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file } });
  adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  viewerKey = /^export TOCSIN_VIEWER_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  expect(adminKey).not.toBe('');
  expect(viewerKey).not.toBe('');
  expect(viewerKey).not.toBe(adminKey);
}, 90000);

afterAll(async () => {
  const code = await pipeline?.stop();
  await slack?.close();
  expect(code).toBe(0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function consul(status: 'passing' | 'critical', index: number): Promise<void> {
  const run = await runShim({
    args: ['--watch', 'checks', '--scope', 'web'],
    env: { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_NODE: 'agent-1', TOCSIN_SPOOL_DIR: tempDir('tocsin-e2e-spool-'), CONSUL_INDEX: String(index) },
    stdin: goJsonLine([healthCheck({ Node: 'web-1', CheckID: 'web-a', Name: 'web-a', Status: status, Output: status === 'critical' ? 'HTTP 503' : 'OK', ModifyIndex: index })]),
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

/** The built CLI with only the viewer key, or only the admin key, in its environment. */
const asViewer = (args: string[]): Promise<CliRun> => runTocsin(args, { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_VIEWER_KEY: viewerKey, TOCSIN_ADMIN_KEY: '' });
const asAdmin = (args: string[]): Promise<CliRun> => runTocsin(args, { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: adminKey, TOCSIN_VIEWER_KEY: '' });

const posts = () => slack.postsTo('ops', 200).filter((p) => p.body.text.includes('web-a')).map((p) => p.body.text);

async function waitFor(what: string, probe: () => boolean, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(posts())}`);
    await sleep(200);
  }
}

describe('what is firing (npm start, the CLI)', () => {
  it('lists, acknowledges (no reminders), resolves; a new episode notifies again; the viewer key only reads', async () => {
    await consul('passing', 10);
    await consul('critical', 11);
    await waitFor('the first notice', () => posts().length >= 1);
    await waitFor('a reminder', () => posts().length >= 2, 10000);

    const table = await asViewer(['alerts']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+SEVERITY\s+STATE\s+FOR\s+NODE\s+NOTIFIED\s+TITLE/m);
    expect(table.stdout).toMatch(/CRITICAL\s+firing\s+\S+\s+web-1\s+ops\s/);
    const listed = JSON.parse((await asViewer(['alerts', '--json', '--severity', 'critical'])).stdout) as { alerts: Array<{ id: string; subject: string }> };
    expect(listed.alerts).toHaveLength(1);
    const [{ id, subject }] = listed.alerts as [{ id: string; subject: string }];

    const refused = await asViewer(['ack', id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/admin-key|TOCSIN_ADMIN_KEY/);
    const viewerPost = await runTocsin(['ack', id, '--admin-key', viewerKey], { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster });
    expect(viewerPost.stderr).toContain('403 forbidden');

    const acked = await asAdmin(['ack', id, '--comment', 'looking', '--by', 'e2e-operator']);
    expect(acked.stderr).toBe('');
    expect(acked.stdout).toBe(`${id} acknowledged by e2e-operator\n`);
    const before = posts().length;
    await sleep(5000); // two reminder periods and more
    expect(posts().length).toBe(before);
    expect((await asViewer(['alerts'])).stdout).toMatch(/ack e2e-operator/);

    await consul('passing', 12);
    await waitFor('the RESOLVED', () => posts().some((t) => t.includes('RESOLVED')));
    expect((await asViewer(['alerts'])).stdout).toBe('nothing firing\n');
    const n = posts().length;
    await consul('critical', 13);
    await waitFor('the new episode', () => posts().length > n);
    expect(posts()[n]).toContain('CRITICAL');
    expect((await asViewer(['alerts'])).stdout).toMatch(/CRITICAL\s+firing/);

    const history = await asViewer(['history', subject]);
    expect(history.code).toBe(0);
    expect(history.stdout).toContain(`${subject}: 2 episode(s), 1 flap(s)`);
    expect(history.stdout).toContain('acknowledged by e2e-operator: looking');
    expect(history.stdout).toMatch(/resolved \(passing\) after/);
  }, 90000);
});
