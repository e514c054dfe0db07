/**
 * Nothing lost, nothing duplicated: the real bundled shim (agent-shim/dist) against the
 * real local pipeline (`npm start`, DynamoDB Local in CI or dynalite), alerts counted in
 * the runner's record of every notification published (notifications.jsonl).
 *
 * 1. The API is down (half the nodes: nothing listens; the others: a server answering
 *    503) while 10 nodes x 100 serial watch invocations report 1,000 distinct checks
 *    going critical. Everything spools. After recovery `tocsin-shim flush` on every node
 *    delivers it all: exactly 1,000 alerts, one per check.
 * 2. 50 agents report one change at the same moment: one alert.
 *
 * Storm grouping (tocsin.yaml `grouping`) would fold a burst of 1,000 notifications into
 * a digest; this test counts individual alerts, so its pipeline runs with a config whose
 * threshold is above the burst. Grouping itself is tested with the rules.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../../lambdas/domain/types';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { NotificationLog } from '../support/notifications';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { deadPort, ensureBuilt, queued, runShim, startApi, tempDir, type FakeApi } from '../shim/helpers';

let dynamo: TestDynamo;
let pipeline: LocalPipeline;
let notifications: NotificationLog;

beforeAll(async () => {
  ensureBuilt();
  dynamo = await startTestDynamo();
  const configFile = join(tempDir('tocsin-outage-config-'), 'tocsin.yaml');
  writeFileSync(
    configFile,
    ['clusters: [default]', 'channels:', '  oncall: { type: email, addresses: [] }', 'defaults:', '  channels: [oncall]', 'grouping:', '  windowSeconds: 60', '  threshold: 5000', ''].join('\n'),
  );
  pipeline = await startLocalPipeline({ args: ['--dynamodb-endpoint', dynamo.endpoint], env: { TOCSIN_CONFIG: configFile } });
  notifications = NotificationLog.of(pipeline.dataDir);
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await dynamo?.stop();
});

/** Receives until `count` alerts arrived (or `timeoutMs`), then keeps listening `quietMs` for extras. */
async function collect(count: number, timeoutMs: number, quietMs: number): Promise<Alert[]> {
  return (await notifications.collect(count, timeoutMs, quietMs)).map((n) => n.alert);
}

/** Node `node`'s checks watch after its first k+1 checks went critical, one at a time. */
function snapshot(node: string, k: number) {
  return Array.from({ length: k + 1 }, (_, j) =>
    healthCheck({
      Node: node,
      CheckID: `svc-${j}`,
      Name: `svc-${j}`,
      Status: 'critical',
      Output: 'connection refused',
      ServiceID: `svc-${j}`,
      ServiceName: `svc-${j}`,
      ServiceTags: [],
      Definition: {},
      CreateIndex: 1,
      ModifyIndex: 1000 + j,
    }),
  );
}

function watchEnv(url: string, node: string, spool: string, index: number) {
  return {
    TOCSIN_URL: url,
    TOCSIN_CLUSTER: pipeline.cluster,
    TOCSIN_KEY: pipeline.key,
    TOCSIN_NODE: node,
    TOCSIN_SCOPE: node,
    TOCSIN_SPOOL_DIR: spool,
    CONSUL_INDEX: String(index),
  };
}

/** `tocsin-shim flush` until the spool is empty (a flush stops at its time bound). */
async function flushAll(node: string, spool: string): Promise<number> {
  let runs = 0;
  while (queued(spool).length > 0 && runs < 10) {
    runs++;
    const run = await runShim({ args: ['flush'], env: { ...watchEnv(pipeline.url, node, spool, 0), TOCSIN_TIMEOUT_MS: '60000' }, killAfterMs: 90_000 });
    if (run.code !== 0 && run.code !== 75) throw new Error(`flush on ${node} exited ${run.code}: ${run.stderr}`);
  }
  return runs;
}

describe('outage and recovery through the real shim and pipeline', () => {
  it('API down while 1,000 events are sent: all delivered after recovery, none duplicated', async () => {
    const NODES = 10;
    const PER_NODE = 100;
    const deadUrl = `http://127.0.0.1:${await deadPort()}/v1/ingest`;
    const failing: FakeApi = await startApi();
    failing.reply = () => ({ status: 503, body: { error: 'unavailable', message: 'down for maintenance' } });
    const nodes = Array.from({ length: NODES }, (_, i) => ({ name: `node-${String(i).padStart(2, '0')}`, spool: tempDir('tocsin-outage-'), url: i % 2 === 0 ? deadUrl : failing.url }));

    // The outage: each node runs its watch handler 100 times, serially, as Consul would.
    const outageStarted = Date.now();
    const codes = await Promise.all(
      nodes.map(async (node) => {
        const seen: Array<number | null> = [];
        for (let k = 0; k < PER_NODE; k++) {
          const run = await runShim({ args: ['--watch', 'checks'], env: watchEnv(node.url, node.name, node.spool, 1000 + k), stdin: goJsonLine(snapshot(node.name, k)) });
          if (run.code !== 0 || !run.stderr.includes('spooled')) throw new Error(`${node.name} #${k}: exit ${run.code}: ${run.stderr}`);
          seen.push(run.code);
        }
        return seen;
      }),
    );
    const outageMs = Date.now() - outageStarted;
    await failing.close();
    expect(codes.flat()).toEqual(Array(NODES * PER_NODE).fill(0));
    expect(nodes.map((n) => queued(n.spool).length)).toEqual(Array(NODES).fill(PER_NODE));
    expect(failing.requests.length).toBeGreaterThanOrEqual((NODES / 2) * PER_NODE); // the 503 server did see them

    // Recovery: every node flushes its spool to the running pipeline.
    const recoveryStarted = Date.now();
    const flushRuns = await Promise.all(nodes.map((n) => flushAll(n.name, n.spool)));
    const flushedMs = Date.now() - recoveryStarted;
    const alerts = await collect(NODES * PER_NODE, 120_000, 3000);
    const recoveryMs = Date.now() - recoveryStarted - 3000;
    // eslint-disable-next-line no-console
    console.log(
      `outage: ${NODES * PER_NODE} shim runs spooled in ${outageMs} ms; recovery: spools flushed in ${flushedMs} ms (${flushRuns.reduce((a, b) => a + b, 0)} flush runs), ` +
        `${alerts.length} alerts received within ${recoveryMs} ms of the first flush`,
    );

    expect(nodes.map((n) => queued(n.spool).length)).toEqual(Array(NODES).fill(0));
    expect(nodes.map((n) => queued(`${n.spool}/rejected`).length)).toEqual(Array(NODES).fill(0));
    const keys = alerts.map((a) => `${a.node}/${a.check}`);
    expect(new Set(keys).size).toBe(keys.length); // none duplicated
    expect(alerts).toHaveLength(NODES * PER_NODE); // none lost
    const expected = nodes.flatMap((n) => Array.from({ length: PER_NODE }, (_, j) => `${n.name}/svc-${j}`));
    expect(keys.sort()).toEqual(expected.sort());
    expect(alerts.every((a) => a.severity === 'critical' && a.state === 'firing' && a.to === 'critical')).toBe(true);
    expect(new Set(alerts.map((a) => a.id)).size).toBe(NODES * PER_NODE);
  }, 600_000);

  it('50 agents report one change at the same moment: one alert', async () => {
    const scope = 'fleet';
    const run = (node: string, spool: string, status: string, index: number) =>
      runShim({
        args: ['--watch', 'checks'],
        env: { ...watchEnv(pipeline.url, node, spool, index), TOCSIN_SCOPE: scope },
        stdin: goJsonLine([healthCheck({ Node: 'web-1', CheckID: 'fleet-check', Status: status, CreateIndex: 5, ModifyIndex: index })]),
        killAfterMs: 60_000,
      });
    expect((await run('agent-00', tempDir('tocsin-fleet-'), 'passing', 3000)).code).toBe(0);

    const agents = Array.from({ length: 50 }, (_, i) => ({ node: `agent-${String(i + 1).padStart(2, '0')}`, spool: tempDir('tocsin-fleet-') }));
    const started = Date.now();
    const runs = await Promise.all(agents.map((a) => run(a.node, a.spool, 'critical', 3001)));
    const concurrentMs = Date.now() - started;
    expect(runs.map((r) => r.code)).toEqual(Array(50).fill(0));
    // Whoever was told to retry (contention: 503) delivers on its next flush.
    const spooled = agents.filter((a) => queued(a.spool).length > 0);
    for (const a of spooled) await flushAll(a.node, a.spool);
    const alerts = await collect(1, 30_000, 3000);
    // eslint-disable-next-line no-console
    console.log(`50 concurrent agents: ran in ${concurrentMs} ms, ${spooled.length} spooled and flushed, ${alerts.length} alert(s)`);
    expect(alerts.map((a) => [a.node, a.check, a.from, a.to])).toEqual([['web-1', 'fleet-check', 'passing', 'critical']]);
  }, 180_000);

  it('a malformed observation is named in the 422; the valid one in the same envelope still alerts', async () => {
    const spool = tempDir('tocsin-422-');
    const checks = [
      healthCheck({ Node: 'web-9', CheckID: 'good', Status: 'critical', CreateIndex: 5, ModifyIndex: 4001 }),
      { ...healthCheck({ Node: 'web-9', CheckID: 'bad', CreateIndex: 5, ModifyIndex: 4002 }), Status: 'on fire' },
    ];
    const run = await runShim({ args: ['--watch', 'checks'], env: { ...watchEnv(pipeline.url, 'web-9', spool, 4002), TOCSIN_SCOPE: 'mixed' }, stdin: goJsonLine(checks) });
    expect(run.code).toBe(65); // the API refused part of it: kept in rejected/ with the reason
    expect(run.stderr).toContain('HTTP 422');
    expect(run.stderr).toContain('1 observation(s) rejected (#1: Status "on fire" is not one of passing, warning, critical, maintenance); the others were processed');
    const rejected = queued(`${spool}/rejected`);
    expect(rejected).toHaveLength(1);
    const alerts = await collect(1, 30_000, 2000);
    expect(alerts.map((a) => [a.node, a.check, a.to])).toEqual([['web-9', 'good', 'critical']]);
  }, 60_000);

  it("the pipeline's logs never contain the cluster key", () => {
    expect(pipeline.logs().length).toBeGreaterThan(0);
    expect(pipeline.logs()).not.toContain(pipeline.key);
  });
});
