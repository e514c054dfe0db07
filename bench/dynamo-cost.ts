/**
 * Figure 3, DynamoDB cost per snapshot: capacity units DynamoDB reports
 * (ReturnConsumedCapacity: TOTAL, via lambdas/adapters/dynamo-capacity.ts) for one
 * steady-state 2,000-check snapshot with one change, (a) sent by the bundled shim
 * (deltas) and (b) POSTed whole by Consul's own http handler. The application is
 * wired by the composition root (lambdas/app/application.ts) on the DynamoDB adapters, as
 * the ingest function wires it (replay guard, state stores, rules and the dispatcher with
 * its silence and storm-grouping stores, the repository's tocsin.yaml), and runs in-process against Amazon's DynamoDB Local (dynalite reports no
 * capacity); only SNS and SQS are replaced by in-memory stand-ins (not DynamoDB).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApplication } from '../lambdas/app/application';
import { httpApi } from '../lambdas/app/application-http';
import { awsPorts } from '../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../lambdas/adapters/cluster-keys';
import { StaticConsulTokens } from '../lambdas/adapters/consul-tokens';
import { reportConsumedCapacity } from '../lambdas/adapters/dynamo-capacity';
import { loadConfigFile } from '../lambdas/commons/config-file';
import { heartbeatSettings } from '../lambdas/domain/heartbeats';
import { CONSUL_HTTP, LIMITS, ROUTES } from '../lambdas/domain/protocol';
import { tokenDigest } from '../lambdas/domain/consul/tokens';
import type { Alert } from '../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../local/dynamodb';
import { createHttpServer } from '../local/http-server';
import { startTestDynamo } from '../test/support/dynamodb';
import { ROOT, SHIM, scratchDir } from './lib/paths';
import { join } from 'node:path';
import type { FigureResult, Row } from './lib/report';
import { cluster2000, goJsonLine, maxIndex, withChange, type HealthCheckFixture } from './lib/snapshots';
import { sleep, timeExec } from './lib/stats';

export const TARGETS = { shim: 5, consulHttp: 10 };
const TABLE = 'tocsin-bench-capacity';
/** One cluster per way of sending: subjects (checks) are per cluster. */
const CLUSTERS = { shim: 'bench-shim', consul: 'bench-consul', heartbeat: 'bench-heartbeat' };
/** The heartbeat cluster's `every` (s): short, so that the sign-of-life cache (every/2) expires between two measured heartbeats. */
const HEARTBEAT_EVERY = 2;
const KEY = 'bench-signing-key';
const TOKEN = 'bench-consul-token';

type Kind = 'goes critical (alert)' | 'recovers (resolved notice)' | 'output only (no alert)';

export async function dynamoCost(opts: { rounds: number }): Promise<FigureResult> {
  const dynamo = await startTestDynamo();
  const { client, doc } = dynamoClients(dynamo.endpoint);
  let server: http.Server | undefined;
  try {
    await ensureStateTable(client, TABLE);
    let units = 0;
    const byOp: Record<string, number> = {};
    reportConsumedCapacity(doc, (u, op) => {
      units += u;
      byOp[op] = (byOp[op] ?? 0) + u;
    });
    const alerts: Alert[] = [];
    const loaded = loadConfigFile(join(ROOT, 'tocsin.yaml'));
    // The checks clusters keep tocsin.yaml's heartbeats (every 1m): the per-change rows show the
    // steady path, where a busy watcher's sign of life is cached. The heartbeat cluster's is short.
    const config = {
      ...loaded,
      runtime: {
        ...loaded.runtime,
        heartbeats: { ...heartbeatSettings(loaded.runtime.heartbeats, CLUSTERS.shim), clusters: { [CLUSTERS.heartbeat]: { every: HEARTBEAT_EVERY, missingAfter: 2 * HEARTBEAT_EVERY } } },
      },
    };
    // The ingest function's wiring (the composition root on the DynamoDB adapters); only
    // the channels and the timers queue are stand-ins: they consume no DynamoDB capacity.
    const app = createApplication(
      { config: config.runtime },
      awsPorts({
        clients: () => ({ doc }),
        tableName: TABLE,
        alertsTopicArn: 'unused',
        timersQueueUrl: 'unused',
        config: config.runtime,
        logger: { info: () => undefined, error: () => undefined },
        keys: { clusterKeys: new StaticClusterKeys({ [CLUSTERS.shim]: KEY, [CLUSTERS.heartbeat]: KEY }), adminKeys: new StaticClusterKeys({}), consulTokens: new StaticConsulTokens({ [CLUSTERS.consul]: tokenDigest(TOKEN) }) },
        overrides: { channels: { publish: async (a) => void alerts.push(a) }, timers: { schedule: async () => undefined } },
      }),
    );
    server = createHttpServer(httpApi(app), LIMITS.maxWireBytes);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    /** Units consumed while `fn` runs (requests are sequential, so nothing else is counted). */
    const measure = async (fn: () => Promise<void>) => {
      units = 0;
      for (const k of Object.keys(byOp)) delete byOp[k];
      await fn();
      return { units, byOp: { ...byOp } };
    };

    const spool = scratchDir('capacity-shim');
    const viaShim = (checks: HealthCheckFixture[]) => async () => {
      const r = await timeExec(process.execPath, [SHIM, '--watch', 'checks'], {
        env: {
          PATH: process.env.PATH,
          TOCSIN_URL: `${origin}${ROUTES.ingest.path}`,
          TOCSIN_CLUSTER: CLUSTERS.shim,
          TOCSIN_KEY: KEY,
          TOCSIN_NODE: 'bench-agent',
          TOCSIN_SPOOL_DIR: spool,
          CONSUL_INDEX: String(maxIndex(checks)),
          TOCSIN_TIMEOUT_MS: '30000',
        },
        stdin: goJsonLine(checks),
      });
      if (r.code !== 0 || r.stderr) throw new Error(`shim exited ${r.code}: ${r.stderr}`);
    };
    const viaConsul = (checks: HealthCheckFixture[]) => async () => {
      const body = Buffer.from(goJsonLine(checks));
      const path = `${ROUTES.consulHttp.path.replace('{watchType}', 'checks')}?${CONSUL_HTTP.clusterParam}=${CLUSTERS.consul}&${CONSUL_HTTP.scopeParam}=consul-http`;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${origin}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, [CONSUL_HTTP.indexHeader]: String(maxIndex(checks)), 'content-length': body.length },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      });
      if (status !== 200) throw new Error(`consul http handler route answered ${status}`);
    };

    const rows: Row[] = [];
    const serverName = dynamo.kind === 'dynamodb-local' ? "Amazon's DynamoDB Local" : 'dynalite (reports no capacity: not a valid figure)';
    const details: Record<string, unknown> = { server: dynamo.kind };
    for (const [label, send, target] of [
      ['(a) via the shim (delta)', viaShim, TARGETS.shim],
      ['(b) via Consul http handler (whole list)', viaConsul, TARGETS.consulHttp],
    ] as const) {
      let checks = cluster2000();
      const baseline = await measure(send(checks));
      const per: Record<Kind, Array<{ units: number; byOp: Record<string, number> }>> = {
        'goes critical (alert)': [],
        'recovers (resolved notice)': [],
        'output only (no alert)': [],
      };
      let index = maxIndex(checks);
      for (let r = 0; r < opts.rounds; r++) {
        const i = 100 + r * 37;
        const j = 1000 + r * 41;
        const steps: Array<[Kind, number, Partial<HealthCheckFixture>]> = [
          ['goes critical (alert)', i, { Status: 'critical', Output: 'connection refused' }],
          ['recovers (resolved notice)', i, { Status: 'passing', Output: 'HTTP GET: 200 OK' }],
          ['output only (no alert)', j, { Output: `HTTP GET: 200 OK in ${r} ms` }],
        ];
        for (const [kind, at, change] of steps) {
          checks = withChange(checks, at, { ...change, ModifyIndex: ++index });
          const before = alerts.length;
          per[kind].push(await measure(send(checks)));
          const expectAlert = kind !== 'output only (no alert)';
          if (alerts.length - before !== (expectAlert ? 1 : 0)) throw new Error(`${label} ${kind}: ${alerts.length - before} alerts`);
        }
      }
      const mean = (xs: Array<{ units: number }>) => xs.reduce((n, x) => n + x.units, 0) / xs.length;
      const worst = Math.max(...(Object.values(per) as Array<Array<{ units: number }>>).map(mean));
      rows.push({
        figure: '3 dynamodb cost',
        metric: `${label}: 2,000 checks, 1 change, worst kind, ${serverName}`,
        value: worst,
        unit: 'units',
        target: `<= ${target} units`,
        pass: worst <= target,
        note: (Object.keys(per) as Kind[]).map((k) => `${k.split(' (')[0]} ${mean(per[k])}`).join(', '),
      });
      details[label] = { baselineWholeList: baseline, perChange: per };
    }

    // (c) `tocsin-shim heartbeat`: a watcher's first report, a steady heartbeat (its sign of
    // life older than every/2: written), and one within every/2 of the last (cached).
    const heartbeat = (node: string) => async () => {
      const r = await timeExec(process.execPath, [SHIM, 'heartbeat'], {
        env: { PATH: process.env.PATH, TOCSIN_URL: `${origin}${ROUTES.ingest.path}`, TOCSIN_CLUSTER: CLUSTERS.heartbeat, TOCSIN_KEY: KEY, TOCSIN_NODE: node, TOCSIN_SPOOL_DIR: spool, TOCSIN_TIMEOUT_MS: '30000' },
        stdin: '',
      });
      if (r.code !== 0 || r.stderr) throw new Error(`shim heartbeat exited ${r.code}: ${r.stderr}`);
    };
    const first: Array<{ units: number; byOp: Record<string, number> }> = [];
    const steady: typeof first = [];
    const cached: typeof first = [];
    for (let r = 0; r < opts.rounds; r++) {
      const node = `bench-node-${r}`;
      first.push(await measure(heartbeat(node)));
      await sleep(HEARTBEAT_EVERY * 1000);
      steady.push(await measure(heartbeat(node)));
      cached.push(await measure(heartbeat(node)));
    }
    const avg = (xs: Array<{ units: number }>) => xs.reduce((n, x) => n + x.units, 0) / xs.length;
    rows.push(
      { figure: '3 dynamodb cost', metric: '(c) `tocsin-shim heartbeat`, steady: replay record + sign of life', value: avg(steady), unit: 'units', pass: null, note: `first report of a watcher ${avg(first)}, within every/2 of its last sign of life ${avg(cached)}` },
    );
    details['(c) heartbeat'] = { first, steady, cached };
    return { rows, details };
  } finally {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    client.destroy();
    await dynamo.stop();
  }
}
