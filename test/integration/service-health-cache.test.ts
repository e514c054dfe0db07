/**
 * The service counts of DynamoNodeCatalog (adapters/dynamo-node-catalog.ts) through a real
 * DynamoDB-compatible server: a count read is reused for SERVICE_HEALTH_CACHE_MS (a check
 * change of a service reads it with every delta), absent counts too; this process's own
 * put of a count is read at once; another writer's count is read once the moment is over.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoNodeCatalog, SERVICE_HEALTH_CACHE_MS, SERVICE_HEALTH_PREFIX } from '../../lambdas/adapters/dynamo-node-catalog';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { keys } from '../../lambdas/adapters/dynamo-state-store';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-svc-health';
let dynamo: TestDynamo;
let doc: ReturnType<typeof dynamoClients>['doc'];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const c = dynamoClients(dynamo.endpoint);
  doc = c.doc;
  await ensureStateTable(c.client, TABLE);
}, 120000);
afterAll(async () => dynamo?.stop());

/** Counts each BatchGetItem the catalog sends. */
function counted(): { reads: () => number } {
  let n = 0;
  const send = doc.send.bind(doc);
  jest.spyOn(doc, 'send').mockImplementation(((command: { constructor: { name: string } }) => {
    if (command.constructor.name === 'BatchGetCommand') n++;
    return send(command as never);
  }) as never);
  return { reads: () => n };
}

afterEach(() => jest.restoreAllMocks());

describe(`service counts (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('reuses a read for a moment, absent counts too; its own put is read at once; another writer is seen after the moment', async () => {
    const cluster = `c-${randomUUID().slice(0, 8)}`;
    let nowMs = 1_000_000;
    const catalog = new DynamoNodeCatalog(doc, TABLE, SERVICE_HEALTH_CACHE_MS, () => nowMs);
    const calls = counted();

    expect(await catalog.serviceHealth(cluster, ['web', 'db'])).toEqual(new Map());
    expect(await catalog.serviceHealth(cluster, ['web'])).toEqual(new Map()); // absent, remembered
    expect(calls.reads()).toBe(1);

    await catalog.putServiceHealth(cluster, { service: 'web', healthy: 2, total: 3 }, 10);
    expect((await catalog.serviceHealth(cluster, ['web', 'db'])).get('web')).toEqual({ service: 'web', healthy: 2, total: 3 });
    expect(calls.reads()).toBe(2); // web again (its put dropped it); db still remembered absent

    // Another process's service watch counts 1 of 3: not seen within the moment, seen after it.
    await doc.send(new PutCommand({ TableName: TABLE, Item: { [STATE_TABLE.partitionKey]: keys.cluster(cluster), [STATE_TABLE.sortKey]: `${SERVICE_HEALTH_PREFIX}web`, healthy: 1, total: 3, ix: 11 } }));
    nowMs += SERVICE_HEALTH_CACHE_MS - 1;
    expect((await catalog.serviceHealth(cluster, ['web'])).get('web')?.healthy).toBe(2);
    nowMs += 1;
    expect((await catalog.serviceHealth(cluster, ['web'])).get('web')?.healthy).toBe(1);
    expect(calls.reads()).toBe(3);
  });
});
