/**
 * A check that has not run yet (docs/consul.md "A new check"): Consul registers it critical
 * with empty Output until its first run. Through the `checks` path as each sender delivers
 * it: whole lists and deltas (the shim's envelopes) and Consul's own http handler (POST
 * /v1/consul/checks), with rules, the dispatcher, the timer worker, a DynamoDB-compatible
 * server and SNS/SQS (fauxqs). The clock is ours; timers fire when it passes their due time.
 */
import { randomUUID } from 'node:crypto';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { StaticConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { DynamoReplayGuard } from '../../lambdas/adapters/dynamo-replay-guard';
import { DynamoDigestStore } from '../../lambdas/adapters/dynamo-storm-store';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { Dispatcher } from '../../lambdas/app/dispatcher';
import { createIngestHandler } from '../../lambdas/app/ingest-http';
import { handlerFor, type SourceContext } from '../../lambdas/app/sources';
import { handleTimer, type TimerWorkerDeps } from '../../lambdas/app/timer-worker';
import { jsonLogger } from '../../lambdas/commons/logger';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { tokenDigest } from '../../lambdas/domain/consul/tokens';
import { parseEnvelope } from '../../lambdas/domain/envelope';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients } from '../../local/dynamodb';
import { goJsonLine, healthCheck, serfHealth, type HealthCheckFixture } from '../support/consul-fixtures';
import { AWAITED_PUBLISH_WAIT_MS, drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';

const TABLE = 'tocsin-it-first-run';
const GRACE = 60;
const TOKEN = 'first-run-consul-token';

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let doc: ReturnType<typeof dynamoClients>['doc'];
let topicArn: string;
let queueUrl: string;

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'it-first-run');
  ({ snsSqs, doc, topicArn, queueUrl } = standIns);
}, 120000);

afterAll(async () => {
  await standIns?.stop();
});

function pipeline() {
  const cluster = `f-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const rules = compileRules({
    clusters: [cluster],
    channels: { oncall: { type: 'email' } },
    defaults: { channels: ['oncall'], resolved: true },
    rules: [],
    grouping: { windowSeconds: 60, threshold: 100 },
    checks: { firstRunGraceSeconds: GRACE },
  });
  const queued: Timer[] = [];
  const timers = { schedule: async (t: Timer) => void queued.push(t) };
  const channels = new SnsAlertPublisher(snsSqs.sns, topicArn);
  const dispatcher = new Dispatcher({ rules, channels, timers, clock });
  const subjects = new DynamoSubjectStore(doc, TABLE);
  const ctx: SourceContext = { subjects, scopes: new DynamoScopeStore(doc, TABLE), publisher: dispatcher, checkPolicy: defaultCheckPolicy, rules, clock };
  const worker: TimerWorkerDeps = { subjects, publisher: dispatcher, channels, timers, digests: new DynamoDigestStore(doc, TABLE), grouping: { windowSeconds: 60, threshold: 100 }, clock };
  const http = createIngestHandler({
    keys: new StaticClusterKeys({ [cluster]: 'hmac-key-not-used-here' }),
    replay: new DynamoReplayGuard(doc, TABLE),
    sources: ctx,
    logger: jsonLogger(() => undefined),
    consulTokens: new StaticConsulTokens({ [cluster]: tokenDigest(TOKEN) }),
  });
  const envelope = (index: number, body: string, delta?: number) =>
    parseEnvelope({ v: 1, cluster, source: 'consul', type: 'checks', scope: 'checks', node: 'agent-1', index: String(index), sentAt: new Date(now).toISOString(), body, bodyEncoding: 'utf8', ...(delta !== undefined ? { delta: true, base: String(delta) } : {}) });
  const run = async (e: ReturnType<typeof envelope>) => {
    const result = await handlerFor('consul', 'checks')!(e, ctx);
    expect(result).toMatchObject({ unsettled: 0, rejected: [], errors: [] });
    expect(result.needFull).toBeUndefined();
  };
  return {
    cluster,
    timers: queued,
    /** A whole list, as the shim sends it first and after a 409. */
    list: (index: number, checks: HealthCheckFixture[]) => run(envelope(index, goJsonLine(checks))),
    /** A delta against the sender's last delivered list (whose highest ModifyIndex is `base`). */
    delta: (index: number, base: number, changed: HealthCheckFixture[]) => run(envelope(index, JSON.stringify({ changed, removed: [] }), base)),
    /** What Consul's http handler POSTs: the same body line, X-Consul-Index, the bearer token. */
    async post(index: number, checks: HealthCheckFixture[]) {
      const res = await http({
        method: 'POST',
        path: '/v1/consul/checks',
        headers: { 'content-type': 'application/json', 'x-consul-index': String(index), authorization: `Bearer ${TOKEN}` },
        query: { cluster, scope: 'checks' },
        body: Buffer.from(goJsonLine(checks), 'utf8'),
      });
      expect(res.status).toBe(200);
    },
    async advance(ms: number) {
      now += ms;
      for (;;) {
        const due = queued.filter((t) => t.dueAt <= now);
        if (due.length === 0) return;
        for (const t of due) queued.splice(queued.indexOf(t), 1);
        for (const t of due) await handleTimer(worker, t);
      }
    },
    async received(waitMs = AWAITED_PUBLISH_WAIT_MS): Promise<Alert[]> {
      return (await drainQueue(snsSqs.sqs, queueUrl, waitMs)).map((n) => alertFromNotification(n.message)).filter((a) => a.cluster === cluster);
    },
  };
}

const web = (over: Partial<HealthCheckFixture>) => healthCheck({ Node: 'web-1', CreateIndex: 10, ModifyIndex: 10, ...over });
/** As Consul registers a check given no status (handler-inputs.md "A new check"). */
const fresh = (index: number) => healthCheck({ Node: 'web-1', CheckID: 'service:api', Name: "Service 'api' check", ServiceID: 'api', ServiceName: 'api', Status: 'critical', Output: '', CreateIndex: index, ModifyIndex: index, Definition: CONSUL_17_DEFINITION });
const ran = (index: number, status: string, output: string) => ({ ...fresh(index), Status: status, Output: output, CreateIndex: fresh(index).CreateIndex });
/** What a Consul 1.7 catalog says of a check's definition: zero values (handler-inputs.md), so the grace is the configured one. */
const CONSUL_17_DEFINITION = { Interval: '0s', Timeout: '0s', DeregisterCriticalServiceAfter: '0s', HTTP: '', Header: null, Method: '', Body: '', TLSServerName: '', TLSSkipVerify: false, TCP: '', TCPUseTLS: false, UDP: '', GRPC: '', OSService: '', GRPCUseTLS: false };
const steady = [web({}), serfHealth('web-1', { CreateIndex: 5, ModifyIndex: 5 })];
const titles = (alerts: Alert[]) => alerts.map((a) => `${a.state} ${a.title}`);

describe(`a check that has not run yet (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('whole lists: registered critical, passing at its first run: nobody hears of it, ever', async () => {
    const p = pipeline();
    await p.list(10, steady);
    await p.list(50, [...steady, fresh(50)]);
    await p.advance(5_000);
    expect(await p.received()).toEqual([]);
    expect(p.timers.map((t) => t.kind)).toEqual(['for']); // the held alert, due after the grace
    await p.list(52, [...steady, { ...ran(50, 'passing', 'HTTP GET http://127.0.0.1:9090/health: 200 OK'), ModifyIndex: 52 }]);
    await p.advance(GRACE * 1000);
    expect(await p.received()).toEqual([]);
    expect(p.timers).toEqual([]);
  }, 60000);

  it('deltas: a check that never reports is alerted once the grace is over, then resolved when it passes', async () => {
    const p = pipeline();
    await p.list(10, steady);
    await p.delta(50, 10, [fresh(50)]);
    await p.advance(30_000);
    expect(await p.received()).toEqual([]);
    await p.advance(31_000); // past the grace, the check still without a result
    const late = await p.received();
    expect(titles(late)).toEqual(["firing CRITICAL: Service 'api' check (service api) on web-1: no result since it was registered"]);
    expect(late[0]).toMatchObject({ kind: 'check', severity: 'critical', to: 'critical', check: 'service:api' });
    expect(late[0]?.details).toContainEqual(['Reason', expect.stringContaining('has shown no result since it was registered (alert held 60s for it)') as string]);
    // It reports at last, still failing (now with output): already told, nothing new.
    await p.delta(60, 50, [{ ...ran(50, 'critical', 'dial tcp 127.0.0.1:9090: connection refused'), ModifyIndex: 60 }]);
    expect(await p.received()).toEqual([]);
    await p.delta(70, 60, [{ ...ran(50, 'passing', 'ok'), ModifyIndex: 70 }]);
    expect(titles(await p.received())).toEqual(["resolved RESOLVED: Service 'api' check (service api) on web-1"]);
  }, 60000);

  it("Consul's http handler: the first run fails with output within the grace: alerted at once, once", async () => {
    const p = pipeline();
    await p.post(10, steady);
    await p.post(50, [...steady, fresh(50)]);
    await p.advance(10_000);
    expect(await p.received()).toEqual([]);
    await p.post(55, [...steady, { ...ran(50, 'critical', 'dial tcp 127.0.0.1:9090: connection refused'), ModifyIndex: 55 }]);
    const now = await p.received();
    expect(titles(now)).toEqual(["firing CRITICAL: Service 'api' check (service api) on web-1"]);
    expect(now[0]?.details).toContainEqual(['Output', 'dial tcp 127.0.0.1:9090: connection refused']);
    await p.advance(GRACE * 1000); // the held alert's timer finds the episode moved on
    expect(await p.received()).toEqual([]);
    await p.post(60, [...steady, { ...ran(50, 'passing', 'ok'), ModifyIndex: 60 }]);
    expect(titles(await p.received())).toEqual(["resolved RESOLVED: Service 'api' check (service api) on web-1"]);
  }, 60000);

  it('a check that ran and went critical without output is alerted at once (not a new check)', async () => {
    const p = pipeline();
    await p.list(10, [...steady, { ...ran(8, 'passing', 'ok'), ModifyIndex: 9 }]);
    await p.list(40, [...steady, { ...ran(8, 'critical', ''), ModifyIndex: 40 }]);
    expect(titles(await p.received())).toEqual(["firing CRITICAL: Service 'api' check (service api) on web-1"]);
  }, 60000);
});
