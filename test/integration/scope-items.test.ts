/**
 * Bounded items (issue 16, part 4): a snapshot watch's scope keeps working at the size of
 * a large datacenter — 30,000 checks, 10,000 keys, 5,000 service instances — on the
 * DynamoDB-compatible server (DynamoDB Local enforces the 400 KB item limit), and no item
 * it writes passes 64 KB, measured as DynamoDB counts item sizes.
 * Before member items (one string set on the scope item) every one of these failed: the
 * first update of such a scope was refused ("Item size has exceeded the maximum allowed
 * size") and the scope never advanced.
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScopeStore, INLINE_MEMBERS, keys } from '../../lambdas/adapters/dynamo-state-store';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { consulEnvelope, kvPair } from '../support/consul-fixtures';
import { newCluster, startConsulIt, titles, type ConsulIt } from '../support/consul-it';
import { dynamoItemSize } from '../support/dynamodb-item-size';

const LIMIT = 64 * 1024;
let it_: ConsulIt;
let scopes: DynamoScopeStore;

beforeAll(async () => {
  it_ = await startConsulIt('tocsin-it-scope-items');
  scopes = new DynamoScopeStore(it_.doc, it_.table);
}, 120000);

afterAll(async () => {
  await it_?.stop();
});

/** Every item of `cluster`'s partition, with its size as DynamoDB counts it. */
async function itemSizes(doc: DynamoDBDocumentClient, table: string, cluster: string): Promise<Array<{ sk: string; size: number }>> {
  const sizes: Array<{ sk: string; size: number }> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.cluster(cluster) },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) sizes.push({ sk: item[STATE_TABLE.sortKey] as string, size: dynamoItemSize(item) });
    start = page.LastEvaluatedKey;
  } while (start);
  return sizes;
}

const head = async (cluster: string, scope: string) =>
  (await it_.doc.send(new GetCommand({ TableName: it_.table, Key: { [STATE_TABLE.partitionKey]: keys.cluster(cluster), [STATE_TABLE.sortKey]: keys.scope(scope) } }))).Item;
const largest = (sizes: Array<{ sk: string; size: number }>) => sizes.reduce((a, b) => (b.size > a.size ? b : a));
const pad = (n: number) => String(n).padStart(5, '0');

/** Subject names as the sources build them, at realistic lengths. */
const SCOPES = {
  'consul-checks/checks': (i: number) => `check/node-${pad(Math.floor(i / 5))}.dc1.example.internal/service:payments-api-${pad(i)}`,
  'consul-keyprefix/app-config': (i: number) => `kv/app-config/services/payments-api/instance-${pad(i)}/feature-flags`,
  'consul-service/payments-api': (i: number) => `service/payments-api/node-${pad(i)}.dc1.example.internal/payments-api-${pad(i)}`,
};
const SIZES = { 'consul-checks/checks': 30000, 'consul-keyprefix/app-config': 10000, 'consul-service/payments-api': 5000 };

describe(`scope items at datacenter size (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it.each(Object.keys(SCOPES) as Array<keyof typeof SCOPES>)('%s: every member kept, a removal seen, no item over 64 KB', async (scope) => {
    const cluster = newCluster();
    const subjects = Array.from({ length: SIZES[scope] }, (_, i) => SCOPES[scope](i));
    // One snapshot makes every subject a member (a baseline, or a storm where all go non-passing).
    await scopes.updateScope(cluster, scope, { watermark: 100, addActive: subjects, removeActive: [] });
    const read = await scopes.getScope(cluster, scope);
    expect(read.watermark).toBe(100);
    expect(read.active.size).toBe(subjects.length);
    expect([...read.active].sort()).toEqual([...subjects].sort());

    // The scope keeps advancing: one removed, one added, watermark forward.
    const added = SCOPES[scope](SIZES[scope]);
    await scopes.updateScope(cluster, scope, { watermark: 101, addActive: [added], removeActive: [subjects[7]!] });
    const after = await scopes.getScope(cluster, scope);
    expect(after.watermark).toBe(101);
    expect(after.active.size).toBe(subjects.length);
    expect(after.active.has(subjects[7]!)).toBe(false);
    expect(after.active.has(added)).toBe(true);

    const big = largest(await itemSizes(it_.doc, it_.table, cluster));
    expect(big.size).toBeLessThan(LIMIT);
  }, 300000);

  it('a keyprefix of 10,000 keys: baseline, then a change and a removal are alerted, then an index reset re-baselines it', async () => {
    const cluster = newCluster();
    const env = (body: unknown, index: number) => consulEnvelope('keyprefix', body, { cluster, scope: 'app-config', index: String(index) });
    const keyOf = (i: number) => `app-config/services/payments-api/instance-${pad(i)}/feature-flags`;
    const pairs = Array.from({ length: 10000 }, (_, i) => kvPair(keyOf(i), `{"canary":${i % 2 === 0}}`, { CreateIndex: 100 + i, ModifyIndex: 100 + i }));
    expect(await it_.ingest(env(pairs, 10099))).toMatchObject({ alertsPublished: 0, unsettled: 0, errors: [] });
    expect((await it_.ctx.scopes.getScope(cluster, 'consul-keyprefix/app-config')).watermark).toBe(10099);

    const changed = kvPair(keyOf(42), '{"canary":false,"rollout":0.5}', { CreateIndex: 142, ModifyIndex: 20000 });
    const next = pairs.filter((_, i) => i !== 4242).map((p, i) => (i === 42 ? changed : p));
    expect(await it_.ingest(env(next, 20000))).toMatchObject({ alertsPublished: 2, unsettled: 0, errors: [] });
    expect(titles(await it_.alerts())).toEqual([`INFO: key ${keyOf(42)} changed`, `INFO: key ${keyOf(4242)} deleted`]);
    const scope = await it_.ctx.scopes.getScope(cluster, 'consul-keyprefix/app-config');
    expect(scope).toMatchObject({ watermark: 20000 });
    expect(scope.active.size).toBe(9999);

    // The newest key deleted: the list's index drops below the watermark, the agent that
    // reported it reports the lower one, and the scope is reset (re-baselined) at this size.
    const reset = await it_.ingest(env(next.filter((_, i) => i !== 42), 10099));
    expect(reset).toMatchObject({ index: { verdict: 'reset' }, alertsPublished: 1, unsettled: 0, errors: [] });
    expect(titles(await it_.alerts())).toEqual([`INFO: key ${keyOf(42)} deleted`]);
    const rebased = await it_.ctx.scopes.getScope(cluster, 'consul-keyprefix/app-config');
    expect(rebased.watermark).toBe(10099);
    expect(rebased.active.size).toBe(9998);
    expect(rebased.active.has(`kv/${keyOf(42)}`)).toBe(false);

    const big = largest(await itemSizes(it_.doc, it_.table, cluster));
    expect(big.size).toBeLessThan(LIMIT);
  }, 300000);

  it('a small scope keeps its members inline (one item); outgrowing the head moves them to member items', async () => {
    const cluster = newCluster();
    const scope = 'consul-keyprefix/app';
    const subject = (i: number) => `kv/app/k-${pad(i)}`;
    const first = Array.from({ length: INLINE_MEMBERS - 10 }, (_, i) => subject(i));
    await scopes.updateScope(cluster, scope, { watermark: 10, addActive: first, removeActive: [] });
    expect((await itemSizes(it_.doc, it_.table, cluster)).map((i) => i.sk)).toEqual([keys.scope(scope)]);
    expect((await head(cluster, scope))?.active).toEqual(new Set(first));

    // 20 more do not fit: all members move out, the update applies on top (a removal too).
    const more = Array.from({ length: 20 }, (_, i) => subject(INLINE_MEMBERS + i));
    await scopes.updateScope(cluster, scope, { watermark: 11, addActive: more, removeActive: [subject(3)] });
    const moved = await head(cluster, scope);
    expect(moved).toMatchObject({ watermark: 11, spilled: true });
    expect(moved?.active).toBeUndefined();
    const expected = [...first, ...more].filter((s) => s !== subject(3)).sort();
    // A fresh store (another process) reads the same members.
    expect([...(await new DynamoScopeStore(it_.doc, it_.table).getScope(cluster, scope)).active].sort()).toEqual(expected);

    // A late update (older watermark) neither adds nor removes; a later one does.
    await scopes.updateScope(cluster, scope, { watermark: 10, addActive: [subject(900)], removeActive: [subject(4)] });
    expect((await scopes.getScope(cluster, scope)).active.has(subject(4))).toBe(true);
    await scopes.updateScope(cluster, scope, { watermark: 12, addActive: [], removeActive: [subject(4), subject(900)] });
    const now = await scopes.getScope(cluster, scope);
    expect(now.watermark).toBe(12);
    expect(now.active.has(subject(4))).toBe(false);
    expect(now.active.has(subject(900))).toBe(false);

    // A reset replaces the members: new ones in, missing ones out, the old epoch's late update refused.
    const last = { node: 'agent-1', sentAt: Date.now(), at: Date.now() };
    const after = [subject(0), subject(1), subject(5000)];
    expect(await scopes.resetScope(cluster, scope, { from: { watermark: 12, epoch: 0 }, watermark: 5, epoch: 1000, active: after, last })).toBe(true);
    expect(await scopes.getScope(cluster, scope)).toEqual({ watermark: 5, epoch: 1000, active: new Set(after), last });
    await scopes.updateScope(cluster, scope, { watermark: 13, addActive: [subject(7000)], removeActive: [subject(0)] });
    expect((await scopes.getScope(cluster, scope)).active).toEqual(new Set([...after, subject(7000)]));
    // Only the head and one item per member remain.
    expect((await itemSizes(it_.doc, it_.table, cluster)).length).toBe(1 + after.length + 1);
  }, 120000);

  it('a head written before member items, its set near the 400 KB limit, still reads and moves out on the next addition', async () => {
    const cluster = newCluster();
    const scope = 'consul-keyprefix/app-config';
    const legacy = Array.from({ length: 4000 }, (_, i) => SCOPES[scope](i));
    await it_.doc.send(new PutCommand({ TableName: it_.table, Item: { [STATE_TABLE.partitionKey]: keys.cluster(cluster), [STATE_TABLE.sortKey]: keys.scope(scope), watermark: 50, active: new Set(legacy), updatedAt: new Date().toISOString() } }));
    expect((await scopes.getScope(cluster, scope)).active.size).toBe(4000);
    await scopes.updateScope(cluster, scope, { watermark: 51, addActive: [SCOPES[scope](4000)], removeActive: [legacy[0]!] });
    const read = await scopes.getScope(cluster, scope);
    expect(read.watermark).toBe(51);
    expect(read.active.size).toBe(4000);
    expect(read.active.has(legacy[0]!)).toBe(false);
    expect(largest(await itemSizes(it_.doc, it_.table, cluster)).size).toBeLessThan(LIMIT);
  }, 120000);
});
