/**
 * Exactly-once under faults. The real ingest handler over the real DynamoDB adapters
 * (DynamoDB Local in CI, dynalite with TOCSIN_TEST_DYNAMODB=dynalite) and SNS/SQS
 * (fauxqs), with the DynamoDB document client and the SNS client wrapped to throw
 * ProvisionedThroughputExceededException / a 500 on chosen calls, before the call
 * reaches the service. Senders retry like the shim (re-signing each time) until a 2xx;
 * alerts are counted on an SQS queue subscribed to the topic.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { InternalErrorException, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createIngestHandler } from '../../lambdas/app/ingest-http';
import type { HttpRequest, HttpResponse } from '../../lambdas/app/http';
import { DynamoReplayGuard } from '../../lambdas/adapters/dynamo-replay-guard';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { jsonLogger } from '../../lambdas/commons/logger';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { healthCheck, type HealthCheckFixture } from '../support/consul-fixtures';
import { drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';
import { checksEnvelope, signedEnvelope } from '../support/signed-requests';
import { publishUnrouted } from '../support/unrouted-publisher';

const KEY = 'faults-cluster-key';
const TABLE = 'tocsin-it-faults';

type Op = 'getScope' | 'updateScope' | 'getMany' | 'get' | 'write' | 'claim' | 'clear' | 'replay' | 'forget' | 'publish';
/** Per operation kind, how many calls so far (0-based n of the current one). */
type Plan = (op: Op, n: number) => boolean;

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let doc: DynamoDBDocumentClient;
let topicArn: string;
let queueUrl: string;
let plan: Plan = () => false;
const calls = new Map<Op, number>();
const injected: string[] = [];

function classify(cmd: { constructor: { name: string }; input: Record<string, any> }): Op | undefined {
  const { input } = cmd;
  switch (cmd.constructor.name) {
    case 'BatchGetCommand':
      return 'getMany';
    case 'GetCommand':
      return String(input.Key?.sk).startsWith('scope#') ? 'getScope' : 'get';
    case 'PutCommand':
      return String(input.Item?.pk).startsWith('replay#') ? 'replay' : 'write';
    case 'DeleteCommand':
      return 'forget';
    case 'UpdateCommand':
      if (String(input.Key?.sk).startsWith('scope#')) return 'updateScope';
      if (String(input.UpdateExpression).startsWith('REMOVE pending')) return 'clear';
      if (String(input.UpdateExpression).startsWith('SET pending.leaseUntil')) return 'claim';
      return undefined;
    default:
      return undefined;
  }
}

/** Counts the call and says whether to fail it. */
function shouldFail(op: Op): boolean {
  const n = calls.get(op) ?? 0;
  calls.set(op, n + 1);
  const fail = plan(op, n);
  if (fail) injected.push(`${op}#${n}`);
  return fail;
}

function faultyDoc(real: DynamoDBDocumentClient): DynamoDBDocumentClient {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: Parameters<DynamoDBDocumentClient['send']>[0]) => {
        const op = classify(cmd as never);
        if (op && shouldFail(op)) {
          throw new ProvisionedThroughputExceededException({ message: `injected throttle on ${op}`, $metadata: { httpStatusCode: 400 } });
        }
        return target.send(cmd as never);
      };
    },
  });
}

function faultySns(real: SNSClient): SNSClient {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: Parameters<SNSClient['send']>[0]) => {
        if (shouldFail('publish')) throw new InternalErrorException({ message: 'injected SNS 500', $metadata: { httpStatusCode: 500 } });
        return target.send(cmd as never);
      };
    },
  });
}

let handle: (req: HttpRequest) => Promise<HttpResponse>;
let logs: string[] = [];

function makeHandler(leaseMs?: number): (req: HttpRequest) => Promise<HttpResponse> {
  return createIngestHandler({
    keys: { keyFor: async (cluster) => (cluster.startsWith('f-') ? KEY : undefined) },
    replay: new DynamoReplayGuard(faultyDoc(doc), TABLE),
    sources: {
      subjects: new DynamoSubjectStore(faultyDoc(doc), TABLE),
      scopes: new DynamoScopeStore(faultyDoc(doc), TABLE),
      publisher: publishUnrouted(new SnsAlertPublisher(faultySns(snsSqs.sns), topicArn)),
      checkPolicy: defaultCheckPolicy,
      clock: { nowMs: () => Date.now() },
      ...(leaseMs !== undefined ? { leaseMs } : {}),
    },
    logger: jsonLogger((line) => logs.push(line)),
  });
}

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'faults');
  ({ snsSqs, doc, topicArn, queueUrl } = standIns);
  handle = makeHandler();
}, 120_000);

afterAll(async () => {
  await standIns?.stop();
});

beforeEach(() => {
  plan = () => false;
  calls.clear();
  injected.length = 0;
  logs = [];
});

let clusterSeq = 0;
const newCluster = () => `f-${process.pid}-${++clusterSeq}`;

/** One agent's delivery of a snapshot, signed now (the shim signs every send afresh). */
const delivery = (cluster: string, checks: HealthCheckFixture[], node = 'agent-1') => {
  const envelope = checksEnvelope(cluster, checks, { node });
  return () => signedEnvelope(envelope, { key: KEY, cluster });
};

/** Like the shim: retry 5xx (after a pause) until a 2xx; a 4xx is a test failure. */
async function untilDelivered(build: () => HttpRequest, attempts = 60): Promise<HttpResponse[]> {
  const answers: HttpResponse[] = [];
  for (let i = 0; i < attempts; i++) {
    const res = await handle(build());
    answers.push(res);
    if (res.status < 300) return answers;
    if (res.status < 500) throw new Error(`refused: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50 + (i % 4) * 50));
  }
  throw new Error(`not delivered after ${attempts} attempts: ${JSON.stringify(answers.map((a) => [a.status, a.body.error ?? a.body.message]))}`);
}

/** Everything on the subscriber queue within `waitMs`. */
async function alerts(waitMs = 1500): Promise<Alert[]> {
  return (await drainQueue(snsSqs.sqs, queueUrl, waitMs)).map((n) => alertFromNotification(n.message));
}

const check = (id: string, status: string, modifyIndex: number) => healthCheck({ CheckID: id, Status: status, CreateIndex: 5, ModifyIndex: modifyIndex });

describe(`exactly-once under injected faults (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('an SNS failure is injected: the alert is delivered once, after the retry', async () => {
    const cluster = newCluster();
    plan = (op, n) => op === 'publish' && n === 0;
    const send = delivery(cluster, [check('sns', 'critical', 20)]);
    const req = send();

    const failed = await handle(req);
    expect(failed.status).toBe(503);
    expect(failed.headers).toEqual({ 'retry-after': '5' });
    expect(failed.body).toMatchObject({ error: 'unsettled', transitions: 1, alertsPublished: 0 });
    expect(await alerts(1000)).toEqual([]);

    // The retry comes at once and verbatim (same signature: a 5xx request may be retried).
    const started = Date.now();
    const retried = await handle({ ...req, body: Buffer.from(req.body) });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ ok: true, alertsPublished: 1 });
    expect(Date.now() - started).toBeLessThan(2000); // the failed publisher handed its lease back
    const delivered = await alerts();
    expect(delivered.map((a) => [a.check, a.to])).toEqual([['sns', 'critical']]);

    // A later delivery of the same snapshot (the next watch invocation): nothing more.
    expect((await handle(delivery(cluster, [check('sns', 'critical', 20)])())).body).toMatchObject({ alertsPublished: 0 });
    expect(await alerts(1000)).toEqual([]);
    expect(injected).toEqual(['publish#0']);
  });

  it.each<[string, Plan, number]>([
    ['the transition write', (op, n) => op === 'write' && n === 0, 503],
    ['the state reads (scope, batch get)', (op, n) => (op === 'getScope' || op === 'getMany') && n === 0, 503],
    ['the replay guard write', (op, n) => op === 'replay' && n === 0, 503],
    ['the watermark update after the alert went out', (op, n) => op === 'updateScope' && n === 0, 503],
    ['clearing the outbox after the publish (twice: retried in place)', (op, n) => op === 'clear' && n < 2, 200],
  ])('DynamoDB throttles %s: the alert is published exactly once', async (_name, faults, firstStatus) => {
    const cluster = newCluster();
    plan = faults;
    const snapshot = [check('db', 'warning', 30), check('ok', 'passing', 31)];
    const answers = await untilDelivered(delivery(cluster, snapshot));
    expect(answers[0]?.status).toBe(firstStatus);
    if (firstStatus === 503) expect(answers[0]?.body.error).toMatch(/^(unavailable|unsettled)$/);
    expect(injected.length).toBeGreaterThan(0);
    // Later deliveries of the same change, from the same and another agent.
    await untilDelivered(delivery(cluster, snapshot));
    await untilDelivered(delivery(cluster, snapshot, 'agent-2'));
    expect((await alerts()).map((a) => [a.check, a.severity, a.state])).toEqual([['db', 'warning', 'firing']]);
  });

  it('eight agents deliver one change at once while SNS fails twice and DynamoDB throttles: one alert', async () => {
    const cluster = newCluster();
    await untilDelivered(delivery(cluster, [check('c', 'passing', 40)]));
    plan = (op, n) => (op === 'publish' && n < 2) || (op === 'write' && n % 3 === 1) || (op === 'getMany' && n === 2);
    const snapshot = [check('c', 'critical', 41)];
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => untilDelivered(delivery(cluster, snapshot, `agent-${i}`))));
    expect(results.every((answers) => answers.at(-1)!.status === 200)).toBe(true);
    expect(injected.filter((f) => f.startsWith('publish'))).toEqual(['publish#0', 'publish#1']);
    expect((await alerts()).map((a) => [a.check, a.from, a.to])).toEqual([['c', 'passing', 'critical']]);
  });

  it('a seeded campaign of random faults on every call: each change alerts exactly once', async () => {
    const seed = Number(process.env.TOCSIN_FAULT_SEED ?? 0xfa17) >>> 0;
    // eslint-disable-next-line no-console
    console.log(`fault campaign seed ${seed} (TOCSIN_FAULT_SEED to reproduce)`);
    let a = seed;
    const random = () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    // A short lease, so that a lease stranded by a failed hand-back costs seconds, not 30.
    handle = makeHandler(2000);
    let clearStreak = 0;
    plan = (op) => {
      // Forgetting a failed request's signature is best effort; a shim retry a second later
      // has a new signature anyway. Clearing the outbox gets at most 2 failures in a row
      // (the engine tries 5 times): beyond that the alert could be published twice.
      if (op === 'forget') return false;
      if (op === 'clear') {
        const fail = clearStreak < 2 && random() < 0.2;
        clearStreak = fail ? clearStreak + 1 : 0;
        return fail;
      }
      return random() < 0.15;
    };
    const cluster = newCluster();
    const scopes = ['s1', 's2', 's3'];
    const ROUNDS = 8;
    let index = 100;
    const expected: string[] = [];
    const started = Date.now();
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const status = round % 2 === 0 ? 'critical' : 'passing';
        await Promise.all(
          scopes.map(async (scope) => {
            const idx = ++index;
            expected.push(`${scope}-check ${status === 'critical' ? 'firing' : 'resolved'} ${idx}`);
            const envelopeFor = (node: string) => checksEnvelope(cluster, [check(`${scope}-check`, status, idx)], { node, scope });
            // Three agents report each change at the same time, each retrying until accepted.
            await Promise.all(
              ['a', 'b', 'c'].map((node) => {
                const env = envelopeFor(node);
                return untilDelivered(() => signedEnvelope(env, { key: KEY, cluster }), 120);
              }),
            );
          }),
        );
      }
    } finally {
      handle = makeHandler();
    }
    const got = await alerts(2500);
    // eslint-disable-next-line no-console
    console.log(`fault campaign: ${injected.length} faults injected over ${[...calls.values()].reduce((x, y) => x + y, 0)} calls, ${got.length} alerts, ${Date.now() - started} ms`);
    const seen = got.map((al) => `${al.check} ${al.state} ${al.details.find(([k]) => k === 'ModifyIndex')?.[1]}`);
    expect(seen.sort()).toEqual(expected.sort());
    expect(injected.length).toBeGreaterThan(20);
  }, 180_000);
});
