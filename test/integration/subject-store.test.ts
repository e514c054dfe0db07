/**
 * DynamoSubjectStore's item layout on a real DynamoDB-compatible server: state and outbox
 * alert in one compressed `body`, the outbox flags as plain attributes, capacity per write,
 * and items written before the codec (state and pending as maps) still read and settled.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { reportConsumedCapacity } from '../../lambdas/adapters/dynamo-capacity';
import { DynamoSubjectStore, keys } from '../../lambdas/adapters/dynamo-state-store';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { decodeBody } from '../../lambdas/adapters/subject-record-codec';
import type { OutboxEntry } from '../../lambdas/domain/rules/outbox';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-subject-store';
let dynamo: TestDynamo;
let doc: DynamoDBDocumentClient;
let store: DynamoSubjectStore;
const units: Array<[string, number]> = [];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const clients = dynamoClients(dynamo.endpoint);
  doc = clients.doc;
  await ensureStateTable(clients.client, TABLE);
  reportConsumedCapacity(doc, (u, op) => units.push([op, u]));
  store = new DynamoSubjectStore(doc, TABLE);
}, 120000);

afterAll(async () => {
  await dynamo?.stop();
});

const raw = async (cluster: string, subject: string) =>
  (await doc.send(new GetCommand({ TableName: TABLE, Key: { [STATE_TABLE.partitionKey]: keys.cluster(cluster), [STATE_TABLE.sortKey]: keys.subject(subject) } }))).Item;

function checkEntry(id: string): OutboxEntry {
  const details: Array<[string, string]> = ['Check', 'Node', 'Service', 'Tags', 'Status', 'Type', 'Definition', 'Output', 'ModifyIndex'].map((k) => [k, `${k} of web-1: ${id}`]);
  const alert: Alert = { id, cluster: 'c1', source: 'consul', kind: 'check', severity: 'critical', state: 'firing', node: 'web-1', check: 'service:web', title: 'CRITICAL: HTTP on :80 (service web) on web-1', to: 'critical', from: 'passing', at: '2026-11-22T05:00:00.000Z', details };
  return { alert, routing: { deliveries: [{ alert: { ...alert, rules: ['default'] }, channels: ['oncall'] }], timers: [] } };
}

/** How items hold an outbox entry (in `body`, and as the `pending` map before the codec): flat. */
const flat = (entry: OutboxEntry) => ({ ...entry.alert, routing: entry.routing });

describe('DynamoSubjectStore items', () => {
  it('stores state and alert compressed; writing and clearing the outbox cost one unit each', async () => {
    const entry = checkEntry('a'.repeat(32));
    const { id } = entry.alert;
    const state = { status: 'critical', modifyIndex: 150, facts: { node: 'web-1', checkId: 'service:web', serviceTags: ['v1', 'primary'] } };
    expect(JSON.stringify({ state, alert: flat(entry) }).length).toBeGreaterThan(1024); // more than one unit as plain JSON
    units.length = 0;
    expect(await store.put('c1', 'check/web-1/service:web', undefined, { state, pending: { entry, leaseUntil: 1000 } })).toBe(true);
    const item = await raw('c1', 'check/web-1/service:web');
    expect(item?.body).toBeInstanceOf(Uint8Array);
    expect(decodeBody(item?.body as Uint8Array)).toEqual({ state, alert: flat(entry) }); // the layout items have always had
    expect(item).toMatchObject({ rev: 1, pendingId: id, lease: 1000 });
    expect(item).not.toHaveProperty('state');
    expect(await store.get('c1', 'check/web-1/service:web')).toEqual({ state, rev: 1, pending: { entry, leaseUntil: 1000 } });

    expect(await store.claimPending('c1', 'check/web-1/service:web', id, 999, 5000)).toBe(false); // lease still held
    expect(await store.claimPending('c1', 'check/web-1/service:web', id, 1000, 5000)).toBe(true);
    expect((await store.get('c1', 'check/web-1/service:web'))?.pending?.leaseUntil).toBe(5000);
    await store.clearPending('c1', 'check/web-1/service:web', id);
    expect(await store.get('c1', 'check/web-1/service:web')).toEqual({ state, rev: 1 });
    // A pending alert blocks the next write; once cleared the compare-and-set goes through.
    expect(await store.put('c1', 'check/web-1/service:web', 1, { state: { ...state, status: 'passing' } })).toBe(true);
    if (dynamo.kind === 'dynamodb-local') {
      expect(units.filter(([op]) => op === 'PutItem').map(([, u]) => u)).toEqual([1, 1]);
      expect(units.filter(([op]) => op === 'UpdateItem').map(([, u]) => u)).toEqual([1, 1]); // claim, clear (a refused condition reports no capacity)
    }
  });

  it('reads, settles and replaces an item written before the codec (state and pending as maps)', async () => {
    const entry = checkEntry('b'.repeat(32));
    const { id } = entry.alert;
    const state = { status: 'warning', modifyIndex: 7 };
    await doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: { [STATE_TABLE.partitionKey]: keys.cluster('c1'), [STATE_TABLE.sortKey]: keys.subject('check/old/x'), state, rev: 3, pending: { alert: flat(entry), leaseUntil: 2000 }, pendingId: id, updatedAt: '2026-11-01T00:00:00.000Z' },
      }),
    );
    expect(await store.get('c1', 'check/old/x')).toEqual({ state, rev: 3, pending: { entry, leaseUntil: 2000 } });
    expect(await store.getMany('c1', ['check/old/x'])).toEqual(new Map([['check/old/x', { state, rev: 3, pending: { entry, leaseUntil: 2000 } }]]));
    expect(await store.claimPending('c1', 'check/old/x', id, 1999, 9000)).toBe(false);
    expect(await store.claimPending('c1', 'check/old/x', id, 2000, 9000)).toBe(true);
    expect((await store.get('c1', 'check/old/x'))?.pending?.leaseUntil).toBe(9000);
    await store.clearPending('c1', 'check/old/x', id);
    expect(await store.get('c1', 'check/old/x')).toEqual({ state, rev: 3 });
    expect(await store.put('c1', 'check/old/x', 3, { state: { ...state, status: 'passing' } })).toBe(true);
    const item = await raw('c1', 'check/old/x');
    expect(item?.body).toBeInstanceOf(Uint8Array);
    expect(item).not.toHaveProperty('state');
    expect(await store.get('c1', 'check/old/x')).toEqual({ state: { ...state, status: 'passing' }, rev: 4 });
  });
});
