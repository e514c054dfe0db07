/**
 * A silence that ends while its alert still fires, as an operator meets it: `npm start` (its
 * sweeper every second, TOCSIN_LOCAL_SWEEP_SECONDS=1), the bundled shim as Consul runs it,
 * `npx tocsin silence add --duration 3s`, a local stand-in for Slack.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { ensureCliBuilt, runTocsin, type CliRun } from '../support/built-cli';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { blockText, startFakeSlack, type FakeSlack } from '../support/fake-slack';

let slack: FakeSlack;
let pipeline: LocalPipeline;
let adminKey: string;

beforeAll(async () => {
  ensureBuilt();
  ensureCliBuilt();
  slack = await startFakeSlack();
  const file = join(tempDir('tocsin-e2e-silence-ends-'), 'tocsin.yaml');
  writeFileSync(file, `clusters: [default]\nchannels:\n  ops: { type: slack, webhookUrl: "${slack.url('ops')}" }\ndefaults: { channels: [ops] }\n`);
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file, TOCSIN_LOCAL_SWEEP_SECONDS: '1', TOCSIN_LOCAL_SILENCE_CACHE_MS: '0' } });
  adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  expect(adminKey).not.toBe('');
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

/** `tocsin silence ARGS`, the built CLI as npx runs it. */
function cli(args: string[]): Promise<CliRun> {
  return runTocsin(['silence', ...args], { ...process.env, TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_ADMIN_KEY: adminKey });
}

const aboutWebA = () => slack.postsTo('ops', 200).filter((p) => p.body.text.includes('web-a'));

describe('a silence that ends while its alert fires (npm start, the CLI)', () => {
  it('is announced once by the sweeper, saying it was silenced until then; the RESOLVED follows', async () => {
    await consul('passing', 10);
    const added = await cli(['add', '--match', 'node=web-1', '--duration', '3s', '--comment', 'deploying web', '--author', 'e2e']);
    expect(added.code).toBe(0);
    const id = added.stdout.trim();
    await consul('critical', 11);
    await sleep(1500);
    expect(aboutWebA()).toEqual([]);

    const deadline = Date.now() + 20000;
    while (aboutWebA().length === 0 && Date.now() < deadline) await sleep(200);
    const [post] = aboutWebA();
    expect(post?.body.text).toContain('CRITICAL');
    const text = blockText(post!.body);
    expect(text).toContain('silenced until');
    expect(text).toContain(id);
    expect(text).toContain('deploying web');
    await sleep(3000); // three more sweeps: still one notice
    expect(aboutWebA()).toHaveLength(1);

    await consul('passing', 12);
    const until = Date.now() + 10000;
    while (aboutWebA().length < 2 && Date.now() < until) await sleep(200);
    expect(aboutWebA().map((p) => p.body.text.includes('RESOLVED'))).toEqual([false, true]);
  }, 90000);
});
