/**
 * End to end: a check that has not run yet (docs/consul.md "A new check") through `npm start`
 * with `checks.firstRunGrace: 3s`, reached by the built shim as Consul runs it (whole lists,
 * then deltas from one agent's spool) and by Consul's own http handler; alerts observed on an
 * SQS queue subscribed to the alerts topic. Timers are the runner's SQS delay queue.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { NotificationLog } from '../support/notifications';
import { goJsonLine, healthCheck, serfHealth, type HealthCheckFixture } from '../support/consul-fixtures';
import { waitFor } from '../support/ports';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';

const GRACE_SECONDS = 3;
let pipeline: LocalPipeline;
let notifications: NotificationLog;
let consulToken: string;

beforeAll(async () => {
  ensureBuilt();
  const dir = tempDir('tocsin-e2e-new-check-');
  const config = join(dir, 'tocsin.yaml');
  writeFileSync(config, `clusters: [default]\nchannels:\n  oncall: { type: email }\ndefaults: { channels: [oncall] }\nchecks: { firstRunGrace: ${GRACE_SECONDS}s }\n`);
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: config } });
  consulToken = /^# consul http handler token: (\S+)/m.exec(pipeline.output())?.[1] ?? '';
  expect(consulToken).not.toBe('');
  notifications = NotificationLog.of(pipeline.dataDir);
}, 90000);

afterAll(async () => {
  expect(await pipeline?.stop()).toBe(0);
});

/** One agent's `checks` watch handler: the built shim, its own spool (deltas after the first list) unless `spool` is new each time. */
async function shim(spool: string, scope: string, checks: HealthCheckFixture[], index: number): Promise<void> {
  const run = await runShim({
    args: ['--watch', 'checks'],
    env: { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_NODE: 'agent-1', TOCSIN_SCOPE: scope, TOCSIN_SPOOL_DIR: spool, CONSUL_INDEX: String(index) },
    stdin: goJsonLine(checks),
  });
  expect(run).toMatchObject({ code: 0, stderr: '' });
}

/** What Consul's http handler POSTs. */
async function consulHttp(scope: string, checks: HealthCheckFixture[], index: number): Promise<void> {
  const res = await fetch(new URL(`/v1/consul/checks?cluster=${pipeline.cluster}&scope=${scope}`, pipeline.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-consul-index': String(index), authorization: `Bearer ${consulToken}` },
    body: goJsonLine(checks),
  });
  expect(res.status).toBe(200);
}

const received = async (waitMs: number, node: string): Promise<Alert[]> =>
  (await notifications.drain(waitMs)).map((n) => alertFromNotification(n.message)).filter((a) => a.node === node);

/** A node's steady checks, and a check as Consul registers it without a status: critical, no output. */
/** What a Consul 1.7 catalog says of a check's definition: zero values (handler-inputs.md), so the grace is the configured one. */
const CONSUL_17_DEFINITION = { Interval: '0s', Timeout: '0s', DeregisterCriticalServiceAfter: '0s', HTTP: '', Header: null, Method: '', Body: '', TLSServerName: '', TLSSkipVerify: false, TCP: '', TCPUseTLS: false, UDP: '', GRPC: '', OSService: '', GRPCUseTLS: false };
const steady = (node: string) => [healthCheck({ Node: node, CreateIndex: 10, ModifyIndex: 10 }), serfHealth(node, { CreateIndex: 5, ModifyIndex: 5 })];
const fresh = (node: string, index: number, over: Partial<HealthCheckFixture> = {}) =>
  healthCheck({ Node: node, CheckID: 'service:api', Name: "Service 'api' check", ServiceID: 'api', ServiceName: 'api', Status: 'critical', Output: '', CreateIndex: index, ModifyIndex: index, Definition: CONSUL_17_DEFINITION, ...over });

const worker = (node: string, index: number, over: Partial<HealthCheckFixture> = {}) =>
  fresh(node, index, { CheckID: 'service:worker', Name: "Service 'worker' check", ServiceID: 'worker', ServiceName: 'worker', ...over });

/**
 * Two checks registered at once: `api` passes at its first run, `worker` never reports.
 * Only worker's alert comes, once, after the grace; then it passes and is resolved.
 */
async function twoNewChecks(send: (checks: HealthCheckFixture[], index: number) => Promise<void>, node: string): Promise<void> {
  await send(steady(node), 10);
  await send([...steady(node), fresh(node, 50), worker(node, 51)], 51);
  await send([...steady(node), fresh(node, 50, { Status: 'passing', Output: 'HTTP GET http://127.0.0.1:9090/health: 200 OK', ModifyIndex: 52 }), worker(node, 51)], 52);
  const first = await waitFor("worker's held alert", async () => {
    const got = await received(1000, node);
    return got.length > 0 ? got : undefined;
  });
  expect(first.map((a) => `${a.state} ${a.title}`)).toEqual([`firing CRITICAL: Service 'worker' check (service worker) on ${node}: no result since it was registered`]);
  expect(first[0]?.details).toContainEqual(['Reason', expect.stringContaining(`alert held ${GRACE_SECONDS}s for it`) as string]);
  await send([...steady(node), fresh(node, 50, { Status: 'passing', Output: 'ok', ModifyIndex: 52 }), worker(node, 51, { Status: 'passing', Output: 'ok', ModifyIndex: 60 })], 60);
  expect((await received(3000, node)).map((a) => `${a.state} ${a.title}`)).toEqual([`resolved RESOLVED: Service 'worker' check (service worker) on ${node}`]);
}

describe('a check that has not run yet, through npm start', () => {
  it('shim deltas (one agent, its spool kept): the check passing at its first run is never heard of; the one that never runs is, once', async () => {
    const spool = tempDir('tocsin-e2e-spool-');
    await twoNewChecks((checks, index) => shim(spool, 'agent-a', checks, index), 'node-a');
  }, 60000);

  it('shim whole lists (a fresh spool each run): the same', async () => {
    await twoNewChecks((checks, index) => shim(tempDir('tocsin-e2e-spool-'), 'agent-b', checks, index), 'node-b');
  }, 60000);

  it("Consul's http handler: the same; and a first run failing with output is alerted at once, and only once", async () => {
    await twoNewChecks((checks, index) => consulHttp('http-c', checks, index), 'node-c');
    await consulHttp('http-c', [...steady('node-c'), fresh('node-c', 80, { CheckID: 'service:cache', Name: "Service 'cache' check", ServiceID: 'cache', ServiceName: 'cache' })], 80);
    await consulHttp('http-c', [...steady('node-c'), fresh('node-c', 80, { CheckID: 'service:cache', Name: "Service 'cache' check", ServiceID: 'cache', ServiceName: 'cache', Output: 'dial tcp 127.0.0.1:6379: connection refused', ModifyIndex: 81 })], 81);
    const now = await received(3000, 'node-c');
    expect(now.map((a) => a.title)).toEqual(["CRITICAL: Service 'cache' check (service cache) on node-c"]);
    expect(now[0]?.details).toContainEqual(['Output', 'dial tcp 127.0.0.1:6379: connection refused']);
    expect(await received((GRACE_SECONDS + 3) * 1000, 'node-c')).toEqual([]); // its held alert's timer finds the episode moved on
  }, 60000);
});
