/**
 * Storms never hide a critical (issue 11), through the Consul checks handler, the
 * dispatcher with the DynamoDB storm gate (DynamoDB Local or dynalite), SNS/SQS (fauxqs)
 * and the timer worker's digest: a window filled by INFO notices still lets a CRITICAL
 * out at once, and the digest then lists each folded notice with its node, service,
 * check and output. The clock is ours; the digest timer is fired by moving it past its due time.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDigestStore, DynamoStormGate } from '../../lambdas/adapters/dynamo-storm-store';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { Dispatcher } from '../../lambdas/app/dispatcher';
import { handlerFor, type SourceContext } from '../../lambdas/app/sources';
import { handleTimer, type TimerWorkerDeps } from '../../lambdas/app/timer-worker';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients } from '../../local/dynamodb';
import { consulEnvelope, healthCheck } from '../support/consul-fixtures';
import { AWAITED_PUBLISH_WAIT_MS, drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';

const TABLE = 'tocsin-it-storm-critical';
const GROUPING = { windowSeconds: 60, threshold: 3 };

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let doc: ReturnType<typeof dynamoClients>['doc'];
let topicArn: string;
let queueUrl: string;

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'it-storm-critical');
  ({ snsSqs, doc, topicArn, queueUrl } = standIns);
}, 120000);

afterAll(async () => {
  await standIns?.stop();
});

function pipeline() {
  const cluster = `s-${randomUUID().slice(0, 8)}`;
  // Two seconds into a window (recent, so that the items' one-day TTL lies ahead).
  const size = GROUPING.windowSeconds * 1000;
  let now = Math.floor(Date.now() / size) * size + 2000;
  const clock = { nowMs: () => now };
  const rules = compileRules({
    clusters: [cluster],
    channels: { slack: { type: 'slack' } },
    defaults: { channels: ['slack'], resolved: true },
    rules: [{ name: 'notes', match: { check: { glob: 'note-*' } }, severity: 'info', channels: ['slack'] }],
    grouping: GROUPING,
  });
  const queued: Timer[] = [];
  const timers = { schedule: async (t: Timer) => void queued.push(t) };
  const channels = new SnsAlertPublisher(snsSqs.sns, topicArn);
  const storm = new DynamoStormGate(doc, TABLE, GROUPING);
  const dispatcher = new Dispatcher({ rules, channels, timers, clock, storm });
  const subjects = new DynamoSubjectStore(doc, TABLE);
  const ctx: SourceContext = { subjects, scopes: new DynamoScopeStore(doc, TABLE), publisher: dispatcher, checkPolicy: defaultCheckPolicy, rules, clock };
  const worker: TimerWorkerDeps = { subjects, publisher: dispatcher, channels, timers, digests: new DynamoDigestStore(doc, TABLE), grouping: GROUPING, clock };
  let index = 100;
  return {
    cluster,
    timers: queued,
    /** One checks-watch delivery (the whole list, as Consul hands it), one second later. */
    async checks(list: Array<Parameters<typeof healthCheck>[0]>) {
      now += 1000;
      index += 1;
      const handler = handlerFor('consul', 'checks')!;
      const result = await handler(consulEnvelope('checks', list.map((c) => healthCheck(c)), { cluster, index: String(index) }), ctx);
      expect(result).toMatchObject({ unsettled: 0, rejected: [], errors: [] });
    },
    async advance(ms: number) {
      now += ms;
      const due = queued.filter((t) => t.dueAt <= now);
      for (const t of due) queued.splice(queued.indexOf(t), 1);
      for (const t of due) await handleTimer(worker, t);
    },
    async received(waitMs = AWAITED_PUBLISH_WAIT_MS): Promise<Alert[]> {
      const got = await drainQueue(snsSqs.sqs, queueUrl, waitMs);
      return got.map((n) => alertFromNotification(n.message)).filter((a) => a.cluster === cluster);
    },
  };
}

const note = (i: number, status: string, modifyIndex: number) => ({
  Node: `node-${i}`,
  CheckID: `note-${i}`,
  Name: `note-${i}`,
  ServiceID: 'batch',
  ServiceName: 'batch',
  Status: status,
  Output: status === 'passing' ? 'ok' : `job ${i} is late by ${i} minutes`,
  ModifyIndex: modifyIndex,
});

describe(`storms never hide a critical (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'} + fauxqs)`, () => {
  it('a CRITICAL after a window full of INFO notices goes out at once; the digest lists the folded ones with their details', async () => {
    const p = pipeline();
    const notes = Array.from({ length: 20 }, (_, i) => i);
    // Baseline: every check passing, and the web check too.
    const web = (Status: string, ModifyIndex: number) => ({ Node: 'web-1', CheckID: 'service:web', ServiceID: 'web', ServiceName: 'web', Status, Output: Status === 'critical' ? 'HTTP GET http://10.0.0.1/health: 503 Service Unavailable' : 'ok', ModifyIndex });
    await p.checks([...notes.map((i) => note(i, 'passing', 10)), web('passing', 10)]);
    expect(await p.received(500)).toEqual([]);

    // 20 INFO notices fill the window: threshold of them go out, the rest are folded.
    await p.checks([...notes.map((i) => note(i, 'warning', 200 + i)), web('passing', 10)]);
    const infos = await p.received();
    expect(infos.map((a) => a.severity)).toEqual(['info', 'info', 'info']);
    expect(p.timers.filter((t) => t.kind === 'digest')).toHaveLength(1);

    // The CRITICAL, in the same window: at once, not folded.
    await p.checks([...notes.map((i) => note(i, 'warning', 200 + i)), web('critical', 300)]);
    const critical = await p.received();
    expect(critical).toHaveLength(1);
    expect(critical[0]).toMatchObject({ severity: 'critical', node: 'web-1', service: 'web', channels: ['slack'] });
    expect(critical[0]!.kind).not.toBe('digest');

    // The digest, after the window: the 17 folded INFO notices, each with its details.
    await p.advance(GROUPING.windowSeconds * 1000 + 5000);
    const [digest, ...rest] = await p.received();
    expect(rest).toEqual([]);
    expect(digest).toMatchObject({ kind: 'digest', severity: 'info', digest: { count: 17 } });
    const list = digest!.details.find(([k]) => k === 'Alerts')![1].split('\n');
    expect(list).toHaveLength(17);
    const delivered = new Set(infos.map((a) => a.node));
    for (const i of notes.filter((n) => !delivered.has(`node-${n}`))) {
      expect(list.some((l) => l.includes(`[node node-${i}, service batch, check note-${i}] :: job ${i} is late by ${i} minutes`))).toBe(true);
    }
    expect(list.join('\n')).not.toContain('web-1');
  }, 60000);

  it('a window of criticals still folds past the threshold: the bound holds', async () => {
    const p = pipeline();
    const ids = Array.from({ length: 8 }, (_, i) => i);
    const check = (i: number, Status: string, ModifyIndex: number) => ({ Node: `db-${i}`, CheckID: 'disk', ServiceID: '', ServiceName: '', ServiceTags: [], Status, Output: `disk ${90 + i}% full`, ModifyIndex });
    await p.checks(ids.map((i) => check(i, 'passing', 10)));
    await p.checks(ids.map((i) => check(i, 'critical', 400 + i)));
    expect((await p.received()).map((a) => a.severity)).toEqual(['critical', 'critical', 'critical']);
    await p.advance(GROUPING.windowSeconds * 1000 + 5000);
    const [digest] = await p.received();
    expect(digest).toMatchObject({ kind: 'digest', severity: 'critical', digest: { count: 5 } });
    expect(digest!.details.find(([k]) => k === 'Alerts')![1]).toMatch(/\[node db-\d, check disk\] :: disk 9\d% full/);
  }, 60000);
});
