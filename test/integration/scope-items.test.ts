/**
 * Bounded items (issue 16, part 4): a snapshot watch's scope keeps working at the size of
 * a large datacenter — 30,000 checks, 10,000 keys, 5,000 service instances — on the
 * DynamoDB-compatible server (DynamoDB Local enforces the 400 KB item limit), and no item
 * it writes passes 64 KB, measured as DynamoDB counts item sizes.
 * Before member items (one string set on the scope item) every one of these failed: the
 * first update of such a scope was refused ("Item size has exceeded the maximum allowed
 * size") and the scope never advanced.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScopeStore, keys } from '../../lambdas/adapters/dynamo-state-store';
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

const largest = (sizes: Array<{ sk: string; size: number }>) => sizes.reduce((a, b) => (b.size > a.size ? b : a));
const pad = (n: number) => String(n).padStart(5, '0');

/** Subject names as the sources build them, at realistic lengths. */
const SCOPES = {
  'consul-checks/checks': (i: number) => `check/node-${pad(Math.floor(i / 5))}.dc1.example.internal/service:payments-api-${pad(i)}`,
  'consul-keyprefix/app-config': (i: number) => `key/app-config/services/payments-api/instance-${pad(i)}/feature-flags`,
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

  it('a keyprefix of 10,000 keys: baseline, then a change and a removal are alerted', async () => {
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

    const big = largest(await itemSizes(it_.doc, it_.table, cluster));
    expect(big.size).toBeLessThan(LIMIT);
  }, 300000);
});
