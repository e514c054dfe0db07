/**
 * `checks` delta envelopes (what the shim sends between whole lists) through the
 * source handler and a real DynamoDB-compatible server (DynamoDB Local when Java is
 * present, else dynalite). Alerts are recorded in memory.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { recordDynamoCalls } from '../../lambdas/adapters/dynamo-capacity';
import { consulChecks } from '../../lambdas/app/sources/consul-checks';
import type { SourceContext } from '../../lambdas/app/sources';
import { parseEnvelope } from '../../lambdas/domain/envelope';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import type { Alert, Envelope } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { goJsonLine, healthCheck, largeSnapshot, type HealthCheckFixture } from '../support/consul-fixtures';

let dynamo: TestDynamo;
let ctx: SourceContext;
let doc: DynamoDBDocumentClient;
const published: Alert[] = [];
const TABLE = 'tocsin-it-deltas';

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const clients = dynamoClients(dynamo.endpoint);
  doc = clients.doc;
  await ensureStateTable(clients.client, TABLE);
  ctx = {
    subjects: new DynamoSubjectStore(doc, TABLE),
    scopes: new DynamoScopeStore(doc, TABLE),
    publisher: { dispatch: async (entry) => void published.push(entry.alert) },
    checkPolicy: defaultCheckPolicy,
    clock: { nowMs: () => Date.now() },
  };
}, 120000);

afterAll(async () => {
  await dynamo?.stop();
});

beforeEach(() => {
  published.length = 0;
});

const newCluster = () => `c-${randomUUID().slice(0, 8)}`;

function envelope(cluster: string, index: number, body: string, delta?: { base: number }): Envelope {
  // Through parseEnvelope, as the API receives it.
  return parseEnvelope({
    v: 1,
    cluster,
    source: 'consul',
    type: 'checks',
    scope: 'checks',
    node: 'agent-1',
    index: String(index),
    sentAt: new Date().toISOString(),
    body,
    bodyEncoding: 'utf8',
    ...(delta ? { delta: true, base: String(delta.base) } : {}),
  });
}

const full = (cluster: string, index: number, checks: HealthCheckFixture[]) => consulChecks(envelope(cluster, index, goJsonLine(checks)), ctx);
const delta = (cluster: string, index: number, base: number, changed: HealthCheckFixture[], removed: Array<[string, string]> = []) =>
  consulChecks(envelope(cluster, index, JSON.stringify({ changed, removed: removed.map(([Node, CheckID]) => ({ Node, CheckID })) }), { base }), ctx);

const seen = () => published.map((a) => `${a.check} ${a.state} ${a.from}->${a.to}`);

describe(`checks deltas (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('asks for the whole list when the scope has no baseline, and changes nothing', async () => {
    const cluster = newCluster();
    const r = await delta(cluster, 20, 10, [healthCheck({ CheckID: 'a', Status: 'critical', ModifyIndex: 20 })]);
    expect(r).toMatchObject({ needFull: true, examined: 0, transitions: 0 });
    expect(published).toEqual([]);
    // The whole list then establishes the baseline (and alerts: it is a real change).
    await full(cluster, 20, [healthCheck({ CheckID: 'a', Status: 'critical', ModifyIndex: 20 })]);
    expect(seen()).toEqual(['a firing undefined->critical']);
  });

  it('applies changed checks and listed removals on top of the baseline', async () => {
    const cluster = newCluster();
    const base = [healthCheck({ CheckID: 'a', ModifyIndex: 10 }), healthCheck({ CheckID: 'b', ModifyIndex: 11 }), healthCheck({ CheckID: 'c', ModifyIndex: 12 })];
    await full(cluster, 12, base);
    const r = await delta(cluster, 20, 12, [healthCheck({ CheckID: 'b', Status: 'critical', Output: 'down', ModifyIndex: 20 })]);
    expect(r).toMatchObject({ examined: 1, transitions: 1, alertsPublished: 1 });
    expect(r.needFull).toBeUndefined();
    expect(seen()).toEqual(['b firing passing->critical']);

    // b deregistered while critical: resolved; c (passing) gone: nothing to say.
    published.length = 0;
    const gone = await delta(cluster, 25, 20, [], [['web-1', 'b'], ['web-1', 'c']]);
    expect(gone).toMatchObject({ examined: 1, transitions: 1 });
    expect(seen()).toEqual(['b resolved critical->removed']);
  });

  it('refuses a delta whose base is ahead of the watermark (a gap), and accepts one behind it', async () => {
    const cluster = newCluster();
    await full(cluster, 30, [healthCheck({ CheckID: 'a', ModifyIndex: 30 })]);
    // A delta relative to a snapshot at 40 the backend never processed.
    expect(await delta(cluster, 50, 40, [healthCheck({ CheckID: 'a', Status: 'warning', ModifyIndex: 50 })])).toMatchObject({ needFull: true });
    expect(published).toEqual([]);

    // Another agent's whole list moved the watermark to 60; a lagging agent's delta
    // relative to 30 carries an older change (ignored) and a newer one (applied).
    await full(cluster, 60, [healthCheck({ CheckID: 'a', Status: 'warning', ModifyIndex: 55 }), healthCheck({ CheckID: 'x', ModifyIndex: 60 })]);
    expect(seen()).toEqual(['a firing passing->warning']);
    published.length = 0;
    const lagging = await delta(cluster, 70, 30, [
      healthCheck({ CheckID: 'a', Status: 'warning', ModifyIndex: 55 }),
      healthCheck({ CheckID: 'x', Status: 'critical', ModifyIndex: 70 }),
    ]);
    expect(lagging).toMatchObject({ examined: 1, transitions: 1 });
    expect(lagging.needFull).toBeUndefined();
    expect(seen()).toEqual(['x firing passing->critical']);
  });

  it('replaying an applied delta changes nothing (a lost answer, then a retry)', async () => {
    const cluster = newCluster();
    await full(cluster, 5, [healthCheck({ CheckID: 'a', CreateIndex: 2, ModifyIndex: 5 })]);
    const change = [healthCheck({ CheckID: 'a', Status: 'critical', CreateIndex: 2, ModifyIndex: 9 })];
    await delta(cluster, 9, 5, change);
    await delta(cluster, 9, 5, change);
    await full(cluster, 9, change);
    expect(seen()).toEqual(['a firing passing->critical']);
  });

  it('moves the watermark while the published alert leaves the outbox, not after', async () => {
    const cluster = newCluster();
    await full(cluster, 12, [healthCheck({ CheckID: 'a', ModifyIndex: 10 }), healthCheck({ CheckID: 'b', ModifyIndex: 12 })]);
    const subjects = new DynamoSubjectStore(doc, TABLE);
    const scopes = new DynamoScopeStore(doc, TABLE);
    const steps: string[] = [];
    let watermarkWritten!: () => void;
    const watermark = new Promise<void>((resolve) => (watermarkWritten = resolve));
    // The clear waits (at most 3 s) for the watermark's write: without the overlap it waits in vain.
    const clearPending: DynamoSubjectStore['clearPending'] = async (...args) => {
      steps.push(`clear ${args[1]} started`);
      await Promise.race([watermark, new Promise((resolve) => setTimeout(resolve, 3000))]);
      await subjects.clearPending(...args);
      steps.push(`clear ${args[1]} done`);
    };
    const updateScope: DynamoScopeStore['updateScope'] = async (...args) => {
      steps.push(`watermark ${args[2].watermark}`);
      watermarkWritten();
      await scopes.updateScope(...args);
    };
    const overlapping: SourceContext = { ...ctx, subjects: Object.assign(Object.create(subjects) as DynamoSubjectStore, { clearPending }), scopes: Object.assign(Object.create(scopes) as DynamoScopeStore, { updateScope }) };
    const changed = healthCheck({ CheckID: 'b', Status: 'critical', ModifyIndex: 20 });
    const envelopeOf = envelope(cluster, 20, JSON.stringify({ changed: [changed], removed: [] }), { base: 12 });
    expect(await consulChecks(envelopeOf, overlapping)).toMatchObject({ examined: 1, transitions: 1, alertsPublished: 1 });
    expect(steps).toEqual(['clear check/web-1/b started', 'watermark 20', 'clear check/web-1/b done']);
    // Both landed before the answer: nothing pending, the scope at 20 (a replay is a no-op).
    expect((await subjects.get(cluster, 'check/web-1/b'))?.pending).toBeUndefined();
    expect((await scopes.getScope(cluster, 'consul-checks/checks')).watermark).toBe(20);
    expect(seen()).toEqual(['b firing passing->critical']);
  });

  it('a one-change delta against a 2,000-check baseline examines one check', async () => {
    const cluster = newCluster();
    const snapshot = largeSnapshot(2000);
    await full(cluster, 149, snapshot);
    const changed = { ...snapshot[1234]!, Status: 'critical', ModifyIndex: 500 };
    const r = await delta(cluster, 500, 149, [changed]);
    expect(r).toMatchObject({ accepted: 1, examined: 1, transitions: 1, alertsPublished: 1 });
    expect(published.map((a) => `${a.node} ${a.check}`)).toEqual(['node-123 service:svc-4']);
  }, 120000);

  it('reads its scope and its checks in one BatchGetItem', async () => {
    const cluster = newCluster();
    await full(cluster, 10, [healthCheck({ CheckID: 'a', ModifyIndex: 5 }), healthCheck({ CheckID: 'b', Status: 'critical', ModifyIndex: 10 })]);
    published.length = 0;
    const counted = dynamoClients(dynamo.endpoint).doc;
    const calls: string[] = [];
    recordDynamoCalls(counted, (op) => calls.push(op));
    const counting: SourceContext = { ...ctx, subjects: new DynamoSubjectStore(counted, TABLE), scopes: new DynamoScopeStore(counted, TABLE) };
    const changed = [healthCheck({ CheckID: 'a', Status: 'critical', ModifyIndex: 11 }), healthCheck({ CheckID: 'b', Status: 'passing', ModifyIndex: 11 })];
    const r = await consulChecks(envelope(cluster, 11, JSON.stringify({ changed, removed: [] }), { base: 10 }), counting);
    expect(r).toMatchObject({ examined: 2, transitions: 2, alertsPublished: 2 });
    expect(calls.filter((c) => c.startsWith('Get') || c.startsWith('BatchGet') || c === 'Query')).toEqual(['BatchGetItem']);
    expect(seen().sort()).toEqual(['a firing passing->critical', 'b resolved critical->passing']);
  });

  it('rejects malformed delta bodies with a reason', async () => {
    const cluster = newCluster();
    await expect(consulChecks(envelope(cluster, 1, goJsonLine([healthCheck()]), { base: 1 }), ctx)).rejects.toThrow(/delta body must be a JSON object/);
    await expect(consulChecks(envelope(cluster, 1, '{"changed":[],"removed":[{"Node":"n"}]}', { base: 1 }), ctx)).rejects.toThrow(/delta\.removed\[0\]/);
  });
});

describe(`the scope with its subjects in one read (DynamoScopeStore.getScopeWith, DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('reads what getScope and getMany read: a scope not written, inline, spilled; subjects found or not, more than one batch', async () => {
    const cluster = newCluster();
    const scopes = new DynamoScopeStore(doc, TABLE);
    const subjects = new DynamoSubjectStore(doc, TABLE);
    const names = Array.from({ length: 150 }, (_, i) => `check/n${i}/c`);
    for (const name of names.slice(0, 120)) await subjects.put(cluster, name, undefined, { state: { n: name } });
    const same = async (scope: string) => {
      const both = await scopes.getScopeWith<{ n: string }>(cluster, scope, [...names, 'check/n0/c']);
      expect(both.scope).toEqual(await scopes.getScope(cluster, scope));
      expect(both.records).toEqual(await subjects.getMany(cluster, names));
      expect(both.records.size).toBe(120);
      return both.scope;
    };
    expect(await same('consul-checks/none')).toEqual({ watermark: 0, active: new Set() });
    await scopes.updateScope(cluster, 'consul-checks/inline', { watermark: 7, addActive: names.slice(0, 3), removeActive: [] });
    expect((await same('consul-checks/inline')).active.size).toBe(3);
    await scopes.updateScope(cluster, 'consul-checks/spilled', { watermark: 9, addActive: names.slice(0, 140), removeActive: [] });
    expect(await same('consul-checks/spilled')).toMatchObject({ watermark: 9 });
    expect((await scopes.getScope(cluster, 'consul-checks/spilled')).active.size).toBe(140);
  }, 120000);
});
