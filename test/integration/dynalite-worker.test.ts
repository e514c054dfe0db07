/**
 * Embedded dynalite as `npm start` runs it (local/dynalite-worker.ts): in a worker thread,
 * the AWS SDK reaching it through the worker's message channel instead of loopback HTTP.
 * The adapters' conditional writes must mean the same through it, the loopback endpoint
 * must show the same table, the data must survive a restart on the same directory, and a
 * request once dynalite is stopped must fail at once with a clear error.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSubjectStore, keys } from '../../lambdas/adapters/dynamo-state-store';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { dynamoClients, ensureStateTable, startDynalite, type RunningDynalite } from '../../local/dynamodb';

const TABLE = 'tocsin-it-dynalite-worker';
const SUBJECT = 'check/web-1/service:web';
const state = (status: string) => ({ status, modifyIndex: 7 });

describe('embedded dynalite in a worker thread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-dynalite-worker-'));
  let dynalite: RunningDynalite | undefined;

  afterEach(async () => {
    await dynalite?.stop();
    dynalite = undefined;
  });

  it('keeps compare-and-set semantics through its message channel, on the table its HTTP endpoint serves', async () => {
    dynalite = await startDynalite(dir);
    const { client, doc } = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    await ensureStateTable(client, TABLE);
    const store = new DynamoSubjectStore(doc, TABLE);

    // Concurrent creations of one subject: exactly one wins (attribute_not_exists).
    const created = await Promise.all(Array.from({ length: 20 }, () => store.put('c1', SUBJECT, undefined, { state: state('critical') })));
    expect(created.filter(Boolean)).toHaveLength(1);
    // A write against a stale revision is refused (ConditionalCheckFailedException, mapped by the adapter).
    expect(await store.put('c1', SUBJECT, 0, { state: state('passing') })).toBe(false);
    expect(await store.put('c1', SUBJECT, 1, { state: state('passing') })).toBe(true);
    expect(await store.get('c1', SUBJECT)).toEqual({ state: state('passing'), rev: 2 });
    expect((await store.getMany('c1', [SUBJECT, 'check/none/x'])).get(SUBJECT)?.rev).toBe(2);

    // The same item over loopback HTTP, as the AWS CLI or another client would see it.
    const http = dynamoClients(dynalite.endpoint);
    const item = await http.doc.send(new GetCommand({ TableName: TABLE, Key: { [STATE_TABLE.partitionKey]: keys.cluster('c1'), [STATE_TABLE.sortKey]: keys.subject(SUBJECT) } }));
    expect(item.Item?.rev).toBe(2);
    http.client.destroy();
  });

  it('finds the data again after a restart on the same directory', async () => {
    dynalite = await startDynalite(dir);
    const { client, doc } = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    await ensureStateTable(client, TABLE);
    expect(await new DynamoSubjectStore(doc, TABLE).get('c1', SUBJECT)).toEqual({ state: state('passing'), rev: 2 });
  });

  it('fails a request made after it stopped, at once and saying so', async () => {
    const stopped = await startDynalite();
    const { client } = dynamoClients(stopped.endpoint, undefined, stopped.requestHandler);
    await ensureStateTable(client, TABLE);
    await stopped.stop();
    await expect(ensureStateTable(client, TABLE)).rejects.toThrow(/dynalite was stopped/);
  });
});
