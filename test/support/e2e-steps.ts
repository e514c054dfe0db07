/** Steps the end-to-end tests of `npm start` share: waiting for what it delivers, and a checks watch through the built shim. */
import { runShim, tempDir } from '../shim/helpers';
import { goJsonLine, healthCheck } from './consul-fixtures';
import type { LocalPipeline } from './local-pipeline';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 100 ms; past `timeoutMs` fails naming `what` and what `seen` reports. */
export async function until(what: string, probe: () => boolean, timeoutMs: number, seen: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; seen:\n${seen()}`);
    await sleep(100);
  }
}

/** One Consul checks watch run through the built shim (node agent-1, a fresh spool); it must succeed quietly. */
export async function shimChecks(pipeline: LocalPipeline, scope: string, checks: Array<Parameters<typeof healthCheck>[0]>, index: number): Promise<void> {
  const run = await runShim({
    args: ['--watch', 'checks', '--scope', scope],
    env: { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_NODE: 'agent-1', TOCSIN_SPOOL_DIR: tempDir('tocsin-e2e-spool-'), CONSUL_INDEX: String(index) },
    stdin: goJsonLine(checks.map((c) => healthCheck({ Name: c?.CheckID ?? 'check', ...c }))),
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}
