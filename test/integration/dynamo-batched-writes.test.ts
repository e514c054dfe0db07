/**
 * BatchedWrites (lambdas/adapters/dynamo-batched-writes.ts) against a DynamoDB-compatible
 * server: puts and deletes asked at one moment share BatchWriteItem calls (at most 25 items
 * each), a key asked twice in one batch keeps the write asked last (DynamoDB refuses a
 * request naming a key twice), and a failed call fails every write it carried.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BatchedWrites } from '../../lambdas/adapters/dynamo-batched-writes';
import { recordDynamoCalls } from '../../lambdas/adapters/dynamo-capacity';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-batched-writes';
let dynamo: TestDynamo;
let doc: ReturnType<typeof dynamoClients>['doc'];
const calls: string[] = [];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const clients = dynamoClients(dynamo.endpoint);
  await ensureStateTable(clients.client, TABLE);
  doc = clients.doc;
  recordDynamoCalls(doc, (op) => calls.push(op));
}, 120000);
afterAll(async () => {
  doc?.destroy();
  await dynamo?.stop();
});
beforeEach(() => (calls.length = 0));

const key = (sk: string) => ({ pk: 'cluster#bw', sk });
const stored = async (sk: string) => (await doc.send(new GetCommand({ TableName: TABLE, Key: key(sk) }))).Item;

describe('BatchedWrites', () => {
  it('puts and deletes asked at one moment go in one BatchWriteItem call', async () => {
    await doc.send(new PutCommand({ TableName: TABLE, Item: { ...key('alert#gone'), v: 1 } }));
    calls.length = 0;
    const writes = new BatchedWrites(doc, TABLE);
    await Promise.all([writes.put({ ...key('h#a#1'), v: 'history' }), writes.delete(key('alert#gone')), writes.put({ ...key('alert#new'), v: 'index' })]);
    expect(calls).toEqual(['BatchWriteItem']);
    expect(await stored('alert#gone')).toBeUndefined();
    expect((await stored('h#a#1'))?.v).toBe('history');
    expect((await stored('alert#new'))?.v).toBe('index');
  }, 30000);

  it('a key asked twice in one batch keeps the write asked last (a removal, then the next episode\'s put, and the other way round)', async () => {
    await doc.send(new PutCommand({ TableName: TABLE, Item: { ...key('alert#both'), v: 'old' } }));
    const writes = new BatchedWrites(doc, TABLE);
    calls.length = 0;
    await Promise.all([writes.delete(key('alert#both')), writes.put({ ...key('alert#both'), v: 'next episode' }), writes.put({ ...key('alert#other'), v: 1 }), writes.delete(key('alert#other'))]);
    expect(calls).toEqual(['BatchWriteItem']);
    expect((await stored('alert#both'))?.v).toBe('next episode');
    expect(await stored('alert#other')).toBeUndefined();
  }, 30000);

  it('more than 25 writes at once take more calls, 25 items at most each', async () => {
    const writes = new BatchedWrites(doc, TABLE);
    await Promise.all(Array.from({ length: 30 }, (_, i) => writes.put({ ...key(`h#many#${i}`), i })));
    expect(calls).toEqual(['BatchWriteItem', 'BatchWriteItem']);
    expect((await stored('h#many#29'))?.i).toBe(29);
  }, 30000);

  it('a call that fails fails every write it carried; the next writes go on', async () => {
    const broken = new BatchedWrites(doc, 'tocsin-it-no-such-table');
    const results = await Promise.allSettled([broken.put({ ...key('h#x#1') }), broken.delete(key('alert#x'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const writes = new BatchedWrites(doc, TABLE);
    await writes.put({ ...key('h#after#1'), v: 2 });
    expect((await stored('h#after#1'))?.v).toBe(2);
  }, 30000);
});
