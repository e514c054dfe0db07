/**
 * tocsin's own metrics as the Lambdas write them: the composition root on the DynamoDB
 * adapters (a DynamoDB-compatible server), the Powertools adapter writing CloudWatch EMF to
 * stdout, as in a Lambda; the lines are captured from stdout and parsed as CloudWatch would.
 * A check going critical through the ingest API gives a transition and a published alert;
 * a refused request is counted by status and by error code; two sweeps a minute apart give
 * the sweeper's lag.
 */
import { randomUUID } from 'node:crypto';
import { createApplication } from '../../lambdas/app/application';
import { httpApi } from '../../lambdas/app/application-http';
import { sweeper } from '../../lambdas/app/application-sweeper';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { powertoolsMetrics } from '../../lambdas/adapters/powertools-metrics';
import { METRICS } from '../../lambdas/commons/deployment';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { consulEnvelope, healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { signedEnvelope } from '../support/signed-requests';

const TABLE = 'tocsin-it-metrics';
const KEY = 'it-shim-key';
const NAMESPACE = 'tocsin/it-metrics';

let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const { client } = dynamoClients(dynamo.endpoint);
  await ensureStateTable(client, TABLE);
  client.destroy();
}, 120000);

afterAll(async () => {
  await dynamo?.stop();
});

/** EMF lines written to stdout while `run` runs, parsed. */
async function emfOf(run: () => Promise<void>): Promise<Array<Record<string, any>>> {
  const lines: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return lines.flatMap((l) => {
    try {
      const o = JSON.parse(l) as Record<string, any>;
      return o._aws ? [o] : [];
    } catch {
      return [];
    }
  });
}

/** What CloudWatch extracts from EMF lines: "<metric> <dim=value,...> <value> <unit>", sorted. */
function extracted(lines: Array<Record<string, any>>): string[] {
  const out: string[] = [];
  for (const line of lines) {
    for (const directive of line._aws.CloudWatchMetrics as Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }>) {
      expect(directive.Namespace).toBe(NAMESPACE);
      for (const dims of directive.Dimensions) {
        for (const m of directive.Metrics) out.push(`${m.Name} ${dims.map((d) => `${d}=${line[d]}`).join(',')} ${line[m.Name]} ${m.Unit}`);
      }
    }
  }
  return out.sort();
}

function pipeline(service: string) {
  const name = `m-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const { config, issues } = normalizeConfig({ clusters: [name], channels: { oncall: { type: 'email' } }, defaults: { channels: ['oncall'] } });
  expect(issues).toEqual([]);
  const published: Alert[] = [];
  const { doc } = dynamoClients(dynamo.endpoint);
  const metrics = powertoolsMetrics({ namespace: NAMESPACE, serviceName: service });
  const app = createApplication(
    { config },
    awsPorts({
      clients: () => ({ doc }),
      tableName: TABLE,
      alertsTopicArn: 'unused',
      timersQueueUrl: 'unused',
      config,
      clock,
      logger: { info: () => undefined, error: () => undefined },
      metrics,
      keys: { clusterKeys: new StaticClusterKeys({ [name]: KEY }), adminKeys: new StaticClusterKeys({ [name]: 'admin' }) },
      overrides: {
        channels: { publish: async (a) => void published.push(a) },
        timers: { schedule: async () => undefined },
        alertsProbe: { reachable: async () => undefined },
      },
    }),
  );
  return { name, app, metrics, published, advance: (s: number) => void (now += s * 1000), now: () => now };
}

test('an ingest that raises an alert: one transition from consul, one check alert published; nothing else', async () => {
  const p = pipeline(METRICS.services.ingest);
  const api = httpApi(p.app);
  const checks = (status: string, modifyIndex: number) =>
    consulEnvelope('checks', [healthCheck({ Node: 'web-1', CheckID: 'service:web', Status: status, Output: status === 'critical' ? 'connection refused' : 'ok', ModifyIndex: modifyIndex })], {
      cluster: p.name,
      node: 'web-1',
      scope: 'checks-web-1',
      index: String(modifyIndex),
    });
  const send = async (status: string, modifyIndex: number) => {
    const res = await api(signedEnvelope(checks(status, modifyIndex), { key: KEY, cluster: p.name, timestamp: Math.floor(p.now() / 1000) }));
    expect(res.status).toBe(200);
    p.metrics.flush(); // as the ingest Lambda does after each invocation
  };
  // The baseline (a passing check seen first) changes nothing worth a count.
  expect(await emfOf(() => send('passing', 10))).toEqual([]);
  const lines = await emfOf(() => send('critical', 11));
  expect(p.published.map((a) => `${a.kind} ${a.state}`)).toEqual(['check firing']);
  expect(extracted(lines)).toEqual(['AlertsPublished service=ingest,Kind=check 1 Count', 'Transitions service=ingest,Source=consul 1 Count']);
});

test('a refused request is counted once by status and once by error code', async () => {
  const p = pipeline(METRICS.services.ingest);
  const api = httpApi(p.app);
  const envelope = consulEnvelope('checks', [healthCheck({ Node: 'web-1' })], { cluster: p.name, node: 'web-1', scope: 'checks-web-1', index: '5' });
  let status = 0;
  let code = '';
  const lines = await emfOf(async () => {
    const res = await api(signedEnvelope(envelope, { key: 'not-the-key', cluster: p.name, timestamp: Math.floor(p.now() / 1000) }));
    status = res.status;
    code = String(res.body.error);
    p.metrics.flush();
  });
  expect(status).toBe(401);
  expect(extracted(lines)).toEqual([`RequestsRefused service=ingest,Error=${code} 1 Count`, 'RequestsRefused service=ingest,Status=401 1 Count']);
});

test("the sweeper's lag since the previous sweep, its sweeps and its failures", async () => {
  const p = pipeline(METRICS.services.sweeper);
  const sweep = sweeper(p.app);
  const first = await emfOf(async () => {
    expect((await sweep()).ok).toBe(true);
    p.metrics.flush();
  });
  // The first sweep of a table has no previous one: no lag yet.
  expect(extracted(first)).toEqual(['SweepFailures service=sweeper 0 Count', 'Sweeps service=sweeper 1 Count']);
  p.advance(60);
  const second = await emfOf(async () => {
    expect((await sweep()).sincePreviousMs).toBe(60000);
    p.metrics.flush();
  });
  expect(extracted(second)).toEqual(['SweepFailures service=sweeper 0 Count', 'SweepLagMs service=sweeper 60000 Milliseconds', 'Sweeps service=sweeper 1 Count']);
});
