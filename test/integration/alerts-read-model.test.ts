/**
 * The operator's read model and its API (issue 14) through the composition root on the
 * DynamoDB adapters against a DynamoDB-compatible server: Consul check envelopes through the
 * HTTP API, timers fired through the timer worker, the alerts API signed with the admin and
 * the viewer keys. Every DynamoDB command is recorded: the index is written and removed with
 * the transitions (never updated), history rides in the subject's record and spills to items
 * with their TTL, and nothing is ever scanned.
 */
import { randomUUID } from 'node:crypto';
import { createApplication, timerWorker } from '../../lambdas/app/application';
import { httpApi } from '../../lambdas/app/application-http';
import type { HttpRequest } from '../../lambdas/app/http';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { ROUTES } from '../../lambdas/domain/protocol';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import { alertRef } from '../../lambdas/domain/rules/read-model';
import { keyId } from '../../lambdas/domain/signing';
import type { Timer } from '../../lambdas/domain/rules/outbox';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { consulEnvelope, healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { signedEnvelope, signedRaw } from '../support/signed-requests';

const TABLE = 'tocsin-it-alerts';
const KEY = 'it-shim-key';
const ADMIN = 'it-admin-key';
const VIEWER = 'it-viewer-key';

let dynamo: TestDynamo;
beforeAll(async () => {
  dynamo = await startTestDynamo();
  const { client } = dynamoClients(dynamo.endpoint);
  await ensureStateTable(client, TABLE);
  client.destroy();
}, 120000);
afterAll(async () => dynamo?.stop());

function pipeline() {
  const name = `al-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const { config, issues } = normalizeConfig({
    clusters: [name],
    channels: { oncall: { type: 'email' } },
    defaults: { channels: ['oncall'], repeat: '10m' },
    history: { retention: '2d' },
  });
  expect(issues).toEqual([]);
  const published: Alert[] = [];
  const timers: Timer[] = [];
  const commands: Array<{ name: string; input: Record<string, unknown> }> = [];
  const { doc } = dynamoClients(dynamo.endpoint);
  doc.middlewareStack.add((next, context) => async (args) => {
    commands.push({ name: String(context.commandName), input: args.input as Record<string, unknown> });
    return next(args);
  }, { step: 'initialize', name: 'recordCommands' });
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
      keys: { clusterKeys: new StaticClusterKeys({ [name]: KEY }), adminKeys: new StaticClusterKeys({ [name]: ADMIN }), viewerKeys: new StaticClusterKeys({ [name]: VIEWER }) },
      overrides: {
        channels: { publish: async (a) => void published.push(a) },
        timers: { schedule: async (t) => void timers.push(t) },
        alertsProbe: { reachable: async () => undefined },
      },
    }),
  );
  const api = httpApi(app);
  const fire = timerWorker(app);
  let index = 10;
  const signed = (key: string, method: string, path: string, body = '', query?: Record<string, string>): HttpRequest => ({
    ...signedRaw(Buffer.from(body), { key, cluster: name, method, path, timestamp: Math.floor(now / 1000) + index++ }),
    ...(query ? { query } : {}),
  });
  return {
    name,
    app,
    commands,
    take: () => published.splice(0).map((a) => `${a.state} ${a.severity}${a.reminder ? ` r${a.reminder}` : ''}`),
    advance: (s: number) => void (now += s * 1000),
    now: () => now,
    async check(status: 'passing' | 'warning' | 'critical') {
      index++;
      const env = consulEnvelope('checks', [healthCheck({ Status: status, Output: status, ModifyIndex: index })], { cluster: name, index: String(index) });
      const res = await api(signedEnvelope(env, { key: KEY, cluster: name, timestamp: Math.floor(now / 1000) }));
      expect(res.status).toBe(200);
    },
    /** Fires every timer due by now (the timers queue's stand-in). */
    async timersDue() {
      for (const t of timers.splice(0)) {
        if (t.dueAt <= now) await fire(JSON.stringify(t));
        else timers.push(t);
      }
    },
    get: (key: string, path: string, query?: Record<string, string>) => api(signed(key, 'GET', path, '', query)),
    post: (key: string, path: string, body: unknown) => api(signed(key, 'POST', path, JSON.stringify(body))),
  };
}

describe(`alerts read model (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('index written and removed with the episode; ack stops reminders; a higher severity clears it; history carried by the record; no scan', async () => {
    const p = pipeline();
    await p.check('passing');
    await p.check('warning');
    expect(p.take()).toEqual(['firing warning']);

    const list = await p.get(VIEWER, ROUTES.alertList.path);
    expect(list.status).toBe(200);
    const alerts = list.body.alerts as Array<Record<string, unknown>>;
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert).toMatchObject({ severity: 'warning', state: 'firing', node: 'web-1', channels: ['oncall'] });
    const id = String(alert.id);
    expect(id).toBe(alertRef(String(alert.subject)));
    // Filters narrow; an unknown filter is refused.
    expect(((await p.get(VIEWER, ROUTES.alertList.path, { severity: 'critical' })).body.alerts as unknown[]).length).toBe(0);
    expect((await p.get(VIEWER, ROUTES.alertList.path, { colour: 'red' })).status).toBe(400);
    expect((await p.get(VIEWER, ROUTES.alertList.path, { cluster: 'elsewhere' })).status).toBe(403);

    // The viewer key reads, never writes; a wrong key is refused.
    expect((await p.post(VIEWER, ROUTES.alertAck.path.replace('{id}', id), { by: 'eve' })).status).toBe(403);
    expect((await p.get('wrong-key', ROUTES.alertList.path)).status).toBe(401);

    const ack = await p.post(ADMIN, ROUTES.alertAck.path.replace('{id}', id), { by: 'ann', comment: 'on it' });
    expect(ack.status).toBe(200);
    const acked = (await p.get(VIEWER, ROUTES.alertGet.path.replace('{id}', id))).body;
    expect(acked.alert).toMatchObject({ state: 'acknowledged', ack: { by: 'ann', comment: 'on it', severity: 'warning' } });

    // The reminder is due: acknowledged, it is not sent.
    p.advance(601);
    await p.timersDue();
    expect(p.take()).toEqual([]);

    // A worse severity notifies and clears the acknowledgement.
    await p.check('critical');
    expect(p.take()).toEqual(['firing critical']);
    const after = (await p.get(ADMIN, ROUTES.alertGet.path.replace('{id}', id))).body;
    expect(after.alert).toMatchObject({ severity: 'critical', state: 'firing' });
    expect(after.alert).not.toHaveProperty('ack');
    p.advance(601);
    await p.timersDue();
    expect(p.take()).toEqual(['firing critical r1']);

    // Resolved: the index entry goes; the history tells the story.
    await p.check('passing');
    expect(p.take()).toEqual(['resolved critical']);
    expect((await p.get(VIEWER, ROUTES.alertList.path)).body.alerts).toEqual([]);
    expect((await p.get(VIEWER, ROUTES.alertGet.path.replace('{id}', id))).status).toBe(404);
    const history = await p.get(VIEWER, ROUTES.history.path, { subject: String(alert.subject) });
    expect(history.status).toBe(200);
    const events = (history.body.history as Array<{ events: Array<{ type: string }> }>).flatMap((h) => h.events.map((e) => e.type));
    // The skipped reminder changes nothing the operator reads; the one after the ack was cleared is a notification.
    expect(events).toEqual(['firing', 'notified', 'acknowledged', 'firing', 'unacknowledged', 'notified', 'notified', 'resolved', 'notified']);
    expect(history.body.summary).toMatchObject({ episodes: 1, flaps: 0, lastRecoveryMs: expect.any(Number) });

    // A new episode starts unacknowledged and notifies again.
    await p.check('warning');
    expect(p.take()).toEqual(['firing warning']);
    expect(((await p.get(VIEWER, ROUTES.alertList.path)).body.alerts as Array<Record<string, unknown>>)[0]).toMatchObject({ id, state: 'firing' });

    // Writes: the index item with the transitions, history items with their TTL (2 days), never a scan.
    const names = p.commands.map((c) => c.name);
    expect(names.filter((n) => n.startsWith('Scan'))).toEqual([]);
    const sk = (c: { input: Record<string, unknown> }) => String((c.input.Key as Record<string, unknown> | undefined)?.sk ?? '');
    // Index entries and their removal go in BatchWriteItem calls (shared by a request's transitions).
    type BatchRequest = { PutRequest?: { Item: Record<string, unknown> }; DeleteRequest?: { Key: Record<string, unknown> } };
    const batches = p.commands.filter((c) => c.name === 'BatchWriteItemCommand').map((c) => Object.values(c.input.RequestItems as Record<string, BatchRequest[]>).flat());
    const batched = batches.flat().flatMap((r) => (r.PutRequest ? [r.PutRequest.Item] : []));
    expect(batched.filter((i) => String(i.sk).startsWith('alert#')).length).toBe(3); // warning, critical, warning again
    expect(p.commands.filter((c) => c.name === 'DeleteItemCommand' && sk(c).startsWith('alert#')).length).toBe(0);
    expect(batches.filter((b) => b.some((r) => String(r.DeleteRequest?.Key.sk).startsWith('alert#'))).length).toBe(1);
    // No index update and no history item per write: the acknowledgement and the reminder change
    // only the subject's record, which carries the history (written by the compare-and-set).
    expect(p.commands.filter((c) => c.name === 'UpdateItemCommand' && sk(c).startsWith('alert#'))).toEqual([]);
    expect(batched.filter((i) => String(i.sk).startsWith(`h#${id}#`))).toEqual([]);
    // Listing: one Query on the index prefix and a batch read of the subjects it names.
    const queries = p.commands.filter((c) => c.name === 'QueryCommand').map((c) => (c.input.ExpressionAttributeValues as Record<string, unknown>)[':prefix']);
    expect(queries).toContain('alert#');
  }, 60000);

  it('a long history: the record carries the newest entries, older ones go to h# items a few at a time; the API answers every entry once, in order', async () => {
    const p = pipeline();
    const rounds = 8;
    for (let i = 0; i < rounds; i++) {
      await p.check('critical');
      p.advance(1800);
      await p.check('passing');
      p.advance(1800);
    }
    expect(p.take()).toHaveLength(2 * rounds);
    const subject = 'check/web-1/service:web';
    const id = alertRef(subject);
    const history = await p.get(VIEWER, ROUTES.history.path, { subject });
    expect(history.status).toBe(200);
    const entries = history.body.history as Array<{ at: string; events: Array<{ type: string }> }>;
    expect(entries.map((h) => h.events.map((e) => e.type).join('+'))).toEqual(Array.from({ length: rounds }, () => ['firing+notified', 'resolved+notified']).flat());
    const ats = entries.map((h) => Date.parse(h.at));
    expect([...ats].sort((a, b) => a - b)).toEqual(ats);
    expect(history.body.summary).toMatchObject({ episodes: rounds, flaps: rounds - 1 });
    // 24 writes, a handful of h# items (each several entries, kept 2 days after its newest).
    type BatchRequest = { PutRequest?: { Item: Record<string, unknown> } };
    const spills = p.commands
      .filter((c) => c.name === 'BatchWriteItemCommand')
      .flatMap((c) => Object.values(c.input.RequestItems as Record<string, BatchRequest[]>).flat())
      .flatMap((r) => (r.PutRequest && String(r.PutRequest.Item.sk).startsWith(`h#${id}#`) ? [r.PutRequest.Item] : []));
    expect(spills.length).toBeGreaterThan(0);
    expect(spills.length).toBeLessThanOrEqual(2 * rounds / 3);
    for (const item of spills) {
      const carried = JSON.parse(String(item.entries)) as Array<{ at: number }>;
      expect(carried.length).toBeGreaterThan(1);
      expect(item.expiresAt).toBe(Math.ceil((carried[carried.length - 1]!.at + 2 * 86_400_000) / 1000));
    }
  }, 60000);

  it('an index entry whose subject no longer fires is removed by the reader that finds it (after a minute)', async () => {
    const p = pipeline();
    await p.check('critical');
    const id = String(((await p.get(VIEWER, ROUTES.alertList.path)).body.alerts as Array<Record<string, unknown>>)[0]!.id);
    // A crash between the resolve's write and the index removal, simulated: the entry put back.
    // Acknowledged without a name: the fingerprint of the key that signed.
    const anonymous = await p.post(ADMIN, ROUTES.alertAck.path.replace('{id}', id), {});
    expect(anonymous.body.ack).toMatchObject({ by: `key ${keyId(ADMIN)}` });
    const entry = (await p.get(VIEWER, ROUTES.alertGet.path.replace('{id}', id))).body.alert as Record<string, unknown>;
    await p.check('passing');
    const { dynamoClients: clients } = await import('../../local/dynamodb');
    const { doc } = clients(dynamo.endpoint);
    await doc.send(new (await import('@aws-sdk/lib-dynamodb')).PutCommand({ TableName: TABLE, Item: { pk: `cluster#${p.name}`, sk: `alert#${id}`, id, subject: entry.subject, cluster: p.name, episode: 'x', severity: 'critical', status: 'critical', title: 't', source: 'consul', kind: 'check', node: 'web-1', since: p.now(), lastChange: p.now(), channels: [] } }));
    expect(((await p.get(VIEWER, ROUTES.alertList.path)).body.alerts as unknown[]).length).toBe(1); // a write under way, for all it knows
    p.advance(61);
    expect((await p.get(VIEWER, ROUTES.alertList.path)).body.alerts).toEqual([]);
    expect((await doc.send(new (await import('@aws-sdk/lib-dynamodb')).GetCommand({ TableName: TABLE, Key: { pk: `cluster#${p.name}`, sk: `alert#${id}` } }))).Item).toBeUndefined();
  }, 60000);

  it('a silenced alert is listed as silenced, with the silence and its end', async () => {
    const p = pipeline();
    const endsAt = new Date(p.now() + 3600_000).toISOString();
    await p.app.ports.silences.create({ id: 'sil-1', cluster: p.name, matchers: { node: 'web-1' }, startsAt: new Date(p.now()).toISOString(), endsAt, author: 'it', comment: 'deploy', createdAt: new Date(p.now()).toISOString() });
    await p.check('critical');
    expect(p.take()).toEqual([]);
    const alerts = (await p.get(VIEWER, ROUTES.alertList.path, { state: 'silenced' })).body.alerts as Array<Record<string, unknown>>;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: 'silenced', silencedBy: 'sil-1', silencedUntil: endsAt, channels: [] });
  }, 60000);
});
