/**
 * Silences that end (issue 11, section 3), through the composition root on the DynamoDB
 * adapters against a DynamoDB-compatible server: Consul check envelopes through the HTTP
 * API, silences in the store the silence API uses, sweeps through the sweeper, alerts to a
 * channel publisher that records what it is handed. The clock is ours.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createApplication } from '../../lambdas/app/application';
import { httpApi } from '../../lambdas/app/application-http';
import { sweeper } from '../../lambdas/app/application-sweeper';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import type { Silence } from '../../lambdas/domain/rules/silences';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { consulEnvelope, healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { signedEnvelope } from '../support/signed-requests';

const TABLE = 'tocsin-it-silence-ends';
const KEY = 'it-shim-key';

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

function cluster() {
  const name = `se-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const { config, issues } = normalizeConfig({ clusters: [name], channels: { oncall: { type: 'email' } }, defaults: { channels: ['oncall'] } });
  expect(issues).toEqual([]);
  const published: Alert[] = [];
  let index = 10;
  /** Another process (Lambda container) on the same table and clock: its own caches. */
  const process = () => {
    const { doc } = dynamoClients(dynamo.endpoint);
    // Outbox clears this process sent (UpdateItem REMOVE pendingId).
    const seen = { clears: 0 };
    doc.middlewareStack.add(
      (next) => async (args) => {
        if (/^REMOVE pendingId/.test(String((args.input as { UpdateExpression?: unknown }).UpdateExpression))) seen.clears++;
        return next(args);
      },
      { step: 'initialize', name: 'itClearCounter' },
    );
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
        silenceCacheMs: 0,
        keys: { clusterKeys: new StaticClusterKeys({ [name]: KEY }), adminKeys: new StaticClusterKeys({ [name]: 'admin' }) },
        overrides: {
          channels: { publish: async (a) => void published.push(a) },
          timers: { schedule: async () => undefined },
          alertsProbe: { reachable: async () => undefined },
        },
      }),
    );
    const api = httpApi(app);
    return {
      app,
      seen,
      /** The check's subject item has an outbox entry pending. */
      async pending(): Promise<boolean> {
        const out = await doc.send(new QueryCommand({ TableName: TABLE, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)', ExpressionAttributeValues: { ':pk': `cluster#${name}`, ':s': 's#check/' } }));
        expect(out.Items).toHaveLength(1);
        return out.Items![0]!.pendingId !== undefined;
      },
      sweep: sweeper(app),
      async check(status: 'passing' | 'critical') {
        index++;
        const env = consulEnvelope('checks', [healthCheck({ Status: status, Output: status === 'critical' ? 'HTTP 500' : 'OK', ModifyIndex: index })], { cluster: name, index: String(index) });
        const res = await api(signedEnvelope(env, { key: KEY, cluster: name, timestamp: Math.floor(now / 1000) }));
        expect(res.status).toBe(200);
      },
      async silence(seconds: number, matchers: Silence['matchers'] = { node: 'web-1' }): Promise<Silence> {
        const s: Silence = {
          id: randomUUID(),
          cluster: name,
          matchers,
          startsAt: new Date(now).toISOString(),
          endsAt: new Date(now + seconds * 1000).toISOString(),
          author: 'it',
          comment: 'deploying web',
          createdAt: new Date(now).toISOString(),
        };
        await app.ports.silences.create(s);
        return s;
      },
    };
  };
  return {
    name,
    process,
    advance: (seconds: number) => void (now += seconds * 1000),
    now: () => now,
    take: () => published.splice(0),
  };
}

const line = (a: Alert) => `${a.state} ${a.title}`;

describe('silences that end', () => {
  it('a silence ends while its alert fires: one notice after the sweep, saying until when (two sweeps at once: one); the RESOLVED then follows', async () => {
    const c = cluster();
    const [p, q] = [c.process(), c.process()];
    await p.check('passing');
    const s = await p.silence(30);
    await p.check('critical');
    expect(c.take()).toEqual([]);
    // Silenced with nothing else to do (no timer): written without an outbox entry, so nothing to clear.
    expect(await p.pending()).toBe(false);
    expect(p.seen.clears).toBe(0);
    await p.sweep();
    expect(c.take()).toEqual([]); // still silenced

    c.advance(31);
    const outs = await Promise.all([p.sweep(), q.sweep(), p.sweep()]);
    expect(outs.every((o) => o.ok)).toBe(true);
    const got = c.take();
    expect(got.map(line)).toEqual([expect.stringMatching(/^firing CRITICAL: /)]);
    expect(got[0]!.details).toContainEqual(['silenced until', `${s.endsAt} (silence ${s.id}: deploying web)`]);
    expect(got[0]!.channels).toEqual(['oncall']);

    c.advance(60);
    await p.sweep();
    expect(c.take()).toEqual([]); // announced once

    await p.check('passing');
    expect(c.take().map(line)).toEqual([expect.stringMatching(/^resolved RESOLVED: /)]);
    expect(p.seen.clears + q.seen.clears).toBe(2); // the announcement and the RESOLVED went the outbox's way
    expect(await p.pending()).toBe(false);
  });

  it('the alert resolves while silenced: nothing then, nothing when the silence ends', async () => {
    const c = cluster();
    const p = c.process();
    await p.check('passing');
    await p.silence(30, { node: 'web-1', status: 'critical' }); // the RESOLVED (status passing) is not matched
    await p.check('critical');
    await p.check('passing');
    expect(c.take()).toEqual([]);
    c.advance(31);
    await p.sweep();
    expect(c.take()).toEqual([]);
  });

  it('covered by two silences, one ending: nothing until both end (the second expired early)', async () => {
    const c = cluster();
    const p = c.process();
    await p.check('passing');
    await p.silence(10);
    const long = await p.silence(3600, { service: 'web' });
    await p.check('critical');
    c.advance(11);
    await p.sweep();
    expect(c.take()).toEqual([]);
    c.advance(60);
    await p.sweep();
    expect(c.take()).toEqual([]);

    expect((await p.app.ports.silences.expire(c.name, long.id, c.now())).kind).toBe('expired');
    c.advance(1);
    await p.sweep();
    const got = c.take();
    expect(got.map(line)).toEqual([expect.stringMatching(/^firing CRITICAL: /)]);
    expect(got[0]!.details.filter(([k]) => k === 'silenced until')).toEqual([['silenced until', `${new Date(c.now() - 1000).toISOString()} (silence ${long.id}: deploying web)`]]);
    c.advance(60);
    await p.sweep();
    expect(c.take()).toEqual([]);
  });
});
