/**
 * Timers survive a lost queue message (docs/ARCHITECTURE.md, "Episodes" and "Storm
 * grouping"): the application on its AWS adapters against a DynamoDB-compatible server and
 * fauxqs. A `for`, a `repeat` and a storm digest are scheduled on a real SQS delay queue, the
 * queue is purged (the message is lost), and the sweeper, two sweeps at once, delivers each
 * step once through the timer worker's code. The clock is ours: durations pass by moving it.
 */
import { randomUUID } from 'node:crypto';
import { GetQueueAttributesCommand, PurgeQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createApplication } from '../../lambdas/app/application';
import { httpApi } from '../../lambdas/app/application-http';
import { sweeper } from '../../lambdas/app/application-sweeper';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { DIGEST_GRACE_SECONDS } from '../../lambdas/domain/rules/storm';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { consulEnvelope, healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { createQueue, startTestSnsSqs, type TestSnsSqs } from '../support/fauxqs';
import { signedEnvelope } from '../support/signed-requests';

const TABLE = 'tocsin-it-timers';
const KEY = 'it-shim-key';
const GRACE_SECONDS = 5;
const WINDOW_SECONDS = 10;

let dynamo: TestDynamo;
let faux: TestSnsSqs;

beforeAll(async () => {
  [dynamo, faux] = await Promise.all([startTestDynamo(), startTestSnsSqs()]);
  const { client } = dynamoClients(dynamo.endpoint);
  await ensureStateTable(client, TABLE);
  client.destroy();
}, 120000);

afterAll(async () => {
  await Promise.all([dynamo?.stop(), faux?.stop()]);
});

async function queued(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed', 'ApproximateNumberOfMessagesNotVisible'] }));
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
}

/** One cluster on the shared table and queue server; `process()` is another Lambda container (same table, queue, clock). */
async function cluster() {
  const name = `tm-${randomUUID().slice(0, 8)}`;
  const queue = await createQueue(faux.sqs, `timers-${name}`);
  let now = Date.now();
  const clock = { nowMs: () => now };
  const { config, issues } = normalizeConfig({
    clusters: [name],
    channels: { oncall: { type: 'email' }, storm: { type: 'email' } },
    defaults: { channels: ['oncall'] },
    grouping: { windowSeconds: WINDOW_SECONDS, threshold: 1 },
    rules: [
      { name: 'slow', match: { check: 'slow' }, channels: ['oncall'], for: '20s', repeat: '30s' },
      { name: 'storm', match: { node: { glob: 'storm-*' } }, channels: ['storm'] },
    ],
  });
  expect(issues).toEqual([]);
  const published: Alert[] = [];
  const process = () => {
    const { doc } = dynamoClients(dynamo.endpoint);
    const app = createApplication(
      { config, timerGraceMs: GRACE_SECONDS * 1000 },
      awsPorts({
        clients: () => ({ doc, sqs: faux.sqs }),
        tableName: TABLE,
        alertsTopicArn: 'unused',
        timersQueueUrl: queue.url,
        config,
        clock,
        logger: { info: () => undefined, error: () => undefined },
        keys: { clusterKeys: new StaticClusterKeys({ [name]: KEY }), adminKeys: new StaticClusterKeys({}) },
        // A channel that takes its time, as SNS may: concurrent senders overlap.
        overrides: { channels: { publish: async (a) => void (await new Promise((r) => setTimeout(r, 200)), published.push(a)) }, alertsProbe: { reachable: async () => undefined } },
      }),
    );
    return { app, api: httpApi(app), sweep: sweeper(app) };
  };
  let index = 10;
  return {
    name,
    process,
    advance: (seconds: number) => void (now += seconds * 1000),
    async checks(p: ReturnType<typeof process>, node: string, checks: Array<{ id: string; status: string }>) {
      index += 1;
      const env = consulEnvelope('checks', checks.map((c) => healthCheck({ Node: node, CheckID: c.id, Name: c.id, Status: c.status, Output: `${c.id} output`, ModifyIndex: index })), {
        cluster: name,
        node,
        scope: `checks-${node}`,
        index: String(index),
        sentAt: new Date(now).toISOString(),
      });
      const res = await p.api(signedEnvelope(env, { key: KEY, cluster: name, timestamp: Math.floor(now / 1000) }));
      expect(res.status).toBe(200);
    },
    /** The SQS timer messages are lost: the queue is emptied (delayed ones too). */
    async loseTimers() {
      expect(await queued(faux.sqs, queue.url)).toBeGreaterThan(0);
      await faux.sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
      expect(await queued(faux.sqs, queue.url)).toBe(0);
    },
    take: (): string[] => published.splice(0).map((a) => `${a.channels?.join(',')} ${a.title}`),
  };
}

describe('timers survive a lost SQS message', () => {
  it('the sweep delivers the `for` notification, each reminder and the storm digest once, with two sweeps at once', async () => {
    const c = await cluster();
    const [a, b] = [c.process(), c.process()];

    await c.checks(a, 'web-1', [{ id: 'slow', status: 'critical' }]);
    expect(c.take()).toEqual([]); // held for 20 s
    await c.loseTimers();

    // Due, but within the grace: the queue may still deliver it; the sweep leaves it.
    c.advance(20 + GRACE_SECONDS - 1);
    expect(await a.sweep()).toMatchObject({ ok: true, tasks: [{ name: 'heartbeats' }, { name: 'timers', ok: true, summary: { overdue: 0 } }, { name: 'silences', ok: true }] });
    expect(c.take()).toEqual([]);

    c.advance(2);
    const [s1, s2] = await Promise.all([a.sweep(), b.sweep()]);
    expect(s1.ok && s2.ok).toBe(true);
    const firing = c.take();
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatch(/^oncall CRITICAL: .*slow/);
    await c.loseTimers(); // the first reminder's message, scheduled by the sweep

    c.advance(30 + GRACE_SECONDS + 1);
    await Promise.all([a.sweep(), b.sweep(), a.sweep()]);
    const reminders = c.take();
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatch(/^oncall .*slow/);
    await c.loseTimers(); // the second reminder's

    c.advance(30 + GRACE_SECONDS + 1);
    await Promise.all([a.sweep(), b.sweep()]);
    expect(c.take()).toHaveLength(1);

    // Resolved (in a new storm window, threshold 1): the resolved notice now; the pending reminder goes stale and leaves the index.
    c.advance(WINDOW_SECONDS);
    await c.checks(a, 'web-1', [{ id: 'slow', status: 'passing' }]);
    expect(c.take()).toEqual([expect.stringMatching(/^oncall RESOLVED: .*slow/)]);
    c.advance(30 - WINDOW_SECONDS + GRACE_SECONDS + 1);
    expect(await a.sweep()).toMatchObject({ tasks: [{}, { name: 'timers', summary: { overdue: 1, stale: 1 } }, { name: 'silences' }] });
    expect(c.take()).toEqual([]);
    expect(await a.app.ports.pendingTimers.due(c.name, Date.now() + 86400_000 * 365, 100)).toEqual([]);
  }, 60000);

  it('a storm window with folds and a lost digest message: the sweep sends its digest once', async () => {
    const c = await cluster();
    const [a, b] = [c.process(), c.process()];
    // Threshold 1: the first notice of the window goes out, the next two are folded.
    await c.checks(a, 'storm-1', [{ id: 'disk', status: 'warning' }]);
    await c.checks(a, 'storm-2', [{ id: 'disk', status: 'warning' }]);
    await c.checks(a, 'storm-3', [{ id: 'disk', status: 'warning' }]);
    const alone = c.take();
    expect(alone).toHaveLength(1);
    await c.loseTimers();

    c.advance(WINDOW_SECONDS + DIGEST_GRACE_SECONDS + GRACE_SECONDS + 1);
    await Promise.all([a.sweep(), b.sweep(), b.sweep()]);
    const digests = c.take();
    expect(digests).toHaveLength(1);
    expect(digests[0]).toMatch(/^storm .*2/);
    c.advance(60);
    await Promise.all([a.sweep(), b.sweep()]);
    expect(c.take()).toEqual([]);
    expect(await a.app.ports.pendingTimers.due(c.name, Date.now() + 86400_000 * 365, 100)).toEqual([]);
  }, 60000);
});
