/**
 * Embedded dynalite as `npm start` runs it (local/dynalite-worker.ts): in a worker thread,
 * the AWS SDK reaching it through the worker's message channel instead of loopback HTTP.
 * The adapters' conditional writes must mean the same through it, the loopback endpoint
 * must show the same table, the data must survive a restart on the same directory, and a
 * request once dynalite is stopped must fail at once with a clear error. Requests on the
 * worker's transport are not SigV4-signed (local/embedded-signer.ts), every client on an
 * HTTP endpoint still is; the worker's cache of table descriptions follows every change of
 * a table, whichever way it comes; its kept expression parses answer as a fresh parse would;
 * its reads of what it wrote, answered from memory, are what LevelDB would answer.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSubjectStore, keys } from '../../lambdas/adapters/dynamo-state-store';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { dynamoClients, EMBEDDED_SKIPPED_MIDDLEWARE, ensureStateTable, startDynalite, type RunningDynalite } from '../../local/dynamodb';
import { DynaliteRequestHandler, ownBytes } from '../../local/dynalite-worker';
import { UNSIGNED_SIGNATURE } from '../../local/embedded-signer';

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

  it('signs nothing on the worker transport, and signs with SigV4 on every HTTP endpoint', async () => {
    dynalite = await startDynalite();
    const { client, doc } = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    await ensureStateTable(client, TABLE);
    const posted: Array<Record<string, string>> = [];
    const handle = dynalite.requestHandler.handle.bind(dynalite.requestHandler);
    jest.spyOn(dynalite.requestHandler, 'handle').mockImplementation((request, options) => {
      posted.push({ ...request.headers });
      return handle(request, options);
    });
    // dynalite takes the unsigned request as it takes any signature.
    await doc.send(new PutCommand({ TableName: TABLE, Item: { [STATE_TABLE.partitionKey]: 'p', [STATE_TABLE.sortKey]: 's', n: 1 } }));
    expect(posted).toHaveLength(1);
    expect(posted[0]!.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=tocsinlocal/\\d{8}/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=${UNSIGNED_SIGNATURE}$`));
    expect(posted[0]!['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
    // Nor does it carry what only AWS looks at: User-Agent headers, a Lambda trace id, Host.
    expect(Object.keys(posted[0]!).filter((h) => /user-agent|x-amzn-trace-id|^host$/i.test(h))).toEqual([]);
    expect(client.middlewareStack.identify().filter((m) => EMBEDDED_SKIPPED_MIDDLEWARE.some((name) => m.startsWith(`${name} `)))).toEqual([]);

    // Any HTTP endpoint (--dynamodb-endpoint, DynamoDB Local, AWS): the SDK's SigV4, whatever the handler.
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const plain = dynamoClients(endpoint);
      await plain.doc.send(new GetCommand({ TableName: TABLE, Key: { [STATE_TABLE.partitionKey]: 'p', [STATE_TABLE.sortKey]: 's' } }));
      plain.client.destroy();
      const aws = new DynamoDBClient({ region: 'eu-west-1', endpoint, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'x' } });
      await aws.send(new DeleteTableCommand({ TableName: 'other' })).catch(() => undefined);
      aws.destroy();
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(seen).toHaveLength(2);
    expect(seen.every((headers) => headers['x-amz-user-agent'] !== undefined)).toBe(true);
    for (const headers of seen) expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=\w+\/\d{8}\/[\w-]+\/dynamodb\/aws4_request, SignedHeaders=[\w;-]+, Signature=[0-9a-f]{64}$/);
  });

  it('keeps table descriptions for item operations, and forgets them when a table changes, over either path', async () => {
    dynalite = await startDynalite();
    expect(dynalite.tableCache).toBe(true);
    const worker = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    const http = dynamoClients(dynalite.endpoint);
    const table = 'tocsin-it-table-cache';
    const create = (keys: string[]) =>
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k, AttributeType: 'S' })),
        KeySchema: keys.map((k, i) => ({ AttributeName: k, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      });
    const putHashOnly = () => worker.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a' } }));
    await worker.client.send(create(['pk']));
    await waitUntilTableExists({ client: http.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: table });
    await putHashOnly();
    await putHashOnly(); // now described from the cache
    // Deleted and created again with another key schema, over loopback HTTP: the worker transport must see it.
    await http.client.send(new DeleteTableCommand({ TableName: table }));
    await expect(putHashOnly()).rejects.toThrow(/not found/i);
    await http.client.send(create(['pk', 'sk']));
    // dynalite creates a table asynchronously (CREATING first): item operations wait for ACTIVE.
    await waitUntilTableExists({ client: http.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: table });
    await expect(putHashOnly()).rejects.toThrow(/key/i);
    await worker.doc.send(new PutCommand({ TableName: table, Item: { pk: 'a', sk: 'b' } }));
    http.client.destroy();
  });

  it('keeps expression parses: the same expression with other values and names decides and reports as a fresh parse would', async () => {
    dynalite = await startDynalite();
    expect(dynalite.expressionCache).toBe(true);
    const { client, doc } = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    await ensureStateTable(client, TABLE);
    const key = { [STATE_TABLE.partitionKey]: 'c', [STATE_TABLE.sortKey]: 'scope#x' };
    const FORWARD = '(attribute_not_exists(watermark) OR watermark <= :w) AND (attribute_not_exists(epoch) OR epoch = :e)';
    const forward = (w: number, e: number, extra: Record<string, unknown> = {}) =>
      doc.send(new UpdateCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET watermark = :w, epoch = :e', ConditionExpression: FORWARD, ExpressionAttributeValues: { ':w': w, ':e': e, ...extra } }));
    const watermark = async () => (await doc.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item?.watermark;
    await forward(5, 0);
    await forward(9, 0); // the same expressions again (kept), other values: applied with these
    expect(await watermark()).toBe(9);
    await expect(forward(7, 0)).rejects.toThrow(/conditional request failed/i); // 9 <= 7: refused
    await expect(forward(12, 1)).rejects.toThrow(/conditional request failed/i); // epoch 0 = 1: refused
    expect(await watermark()).toBe(9);
    // A value of another type is another parse; a value left unused is still an error, kept or not.
    await expect(forward(10, 0, { ':x': 1 })).rejects.toThrow(/unused in expressions: keys: \{:x\}/);
    await expect(forward(10, 0, { ':x': 1 })).rejects.toThrow(/unused in expressions: keys: \{:x\}/);
    await expect(doc.send(new UpdateCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET watermark = :w', ConditionExpression: 'size(:w) > :e', ExpressionAttributeValues: { ':w': 3, ':e': 0 } }))).rejects.toThrow(/operand type/i);
    // Names: the same expression text naming other attributes.
    const named = (name: string, v: string) =>
      doc.send(new UpdateCommand({ TableName: TABLE, Key: key, UpdateExpression: 'SET #a = :v', ConditionExpression: 'attribute_not_exists(#a)', ExpressionAttributeNames: { '#a': name }, ExpressionAttributeValues: { ':v': v } }));
    await named('one', 'first');
    await named('two', 'second');
    await expect(named('one', 'again')).rejects.toThrow(/conditional request failed/i);
    const item = (await doc.send(new GetCommand({ TableName: TABLE, Key: key, ConsistentRead: true }))).Item;
    expect(item).toMatchObject({ watermark: 9, epoch: 0, one: 'first', two: 'second' });
  });

  it('answers reads of what it wrote from memory, as LevelDB would: after puts, updates, deletes, batches and a table deleted', async () => {
    dynalite = await startDynalite();
    expect(dynalite.itemCache).toBe(true);
    const worker = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    const http = dynamoClients(dynalite.endpoint);
    await ensureStateTable(worker.client, TABLE);
    const key = (sk: string) => ({ [STATE_TABLE.partitionKey]: 'c', [STATE_TABLE.sortKey]: sk });
    const read = async (sk: string, via = worker) => (await via.doc.send(new GetCommand({ TableName: TABLE, Key: key(sk), ConsistentRead: true }))).Item;
    await worker.doc.send(new PutCommand({ TableName: TABLE, Item: { ...key('a'), n: 1, tags: ['x'] } }));
    // The answer is a fresh copy each time: what one request changes in it is not seen by the next.
    expect(await read('a')).toMatchObject({ n: 1, tags: ['x'] });
    await worker.doc.send(new UpdateCommand({ TableName: TABLE, Key: key('a'), UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': 1 } }));
    await http.doc.send(new UpdateCommand({ TableName: TABLE, Key: key('a'), UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': 1 } }));
    expect(await read('a')).toMatchObject({ n: 3 });
    expect(await read('a', http)).toMatchObject({ n: 3 });
    // Many writes of one item at once, each conditioned on the last: every one sees the one before.
    await Promise.all(
      Array.from({ length: 20 }, () => worker.doc.send(new UpdateCommand({ TableName: TABLE, Key: key('a'), UpdateExpression: 'SET n = n + :one', ExpressionAttributeValues: { ':one': 1 } }))),
    );
    expect(await read('a')).toMatchObject({ n: 23 });
    await worker.doc.send(new DeleteCommand({ TableName: TABLE, Key: key('a') }));
    expect(await read('a')).toBeUndefined();
    await worker.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [{ PutRequest: { Item: { ...key('b'), n: 7 } } }, { PutRequest: { Item: { ...key('a'), n: 8 } } }] } }));
    expect([(await read('a'))?.n, (await read('b'))?.n]).toEqual([8, 7]);
    await worker.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: [{ DeleteRequest: { Key: key('b') } }] } }));
    expect(await read('b')).toBeUndefined();
    // The table deleted and created again: none of its items is answered from memory.
    await http.client.send(new DeleteTableCommand({ TableName: TABLE }));
    await ensureStateTable(worker.client, TABLE);
    expect(await read('a')).toBeUndefined();
    http.client.destroy();
  });

  it('answers each kind of request as its HTTP server does (DIRECT DISPATCH): status, body and headers', async () => {
    dynalite = await startDynalite();
    const { client } = dynamoClients(dynalite.endpoint, undefined, dynalite.requestHandler);
    await ensureStateTable(client, TABLE);
    const auth = 'AWS4-HMAC-SHA256 Credential=tocsinlocal/20261202/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=x';
    const json = (target: string, extra: Record<string, string> = {}) => ({ 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': `DynamoDB_20120810.${target}`, 'X-Amz-Date': '20261202T000000Z', Authorization: auth, ...extra });
    const cases: Array<{ method: string; headers: Record<string, string>; body?: string }> = [
      { method: 'GET', headers: {} }, // health answer
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }, // unknown operation (404)
      { method: 'POST', headers: json('GetItem'), body: '{not json' }, // serialization error
      { method: 'POST', headers: json('Nope'), body: '{}' }, // unknown operation (400)
      { method: 'POST', headers: { ...json('GetItem'), Authorization: '' }, body: '{}' }, // no authentication token
      { method: 'POST', headers: json('GetItem'), body: JSON.stringify({ TableName: TABLE, Key: { pk: { N: '1' } } }) }, // validation error
      { method: 'POST', headers: json('GetItem'), body: JSON.stringify({ TableName: 'missing', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }) }, // no such table
      { method: 'POST', headers: json('PutItem'), body: JSON.stringify({ TableName: TABLE, Item: { pk: { S: 'a' }, sk: { S: 'b' }, text: { S: 'héllo ✓' } } }) },
      { method: 'POST', headers: json('GetItem'), body: JSON.stringify({ TableName: TABLE, Key: { pk: { S: 'a' }, sk: { S: 'b' } }, ConsistentRead: true }) }, // unicode back
      { method: 'POST', headers: json('GetItem', { 'Content-Type': 'application/json' }), body: JSON.stringify({ TableName: TABLE, Key: { pk: { S: 'a' }, sk: { S: 'b' } } }) },
    ];
    const comparable = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).filter(([k]) => !['x-amzn-requestid', 'date', 'connection', 'keep-alive'].includes(k)));
    for (const c of cases) {
      const viaWorker = await dynalite.requestHandler.handle({ method: c.method, protocol: 'http:', hostname: 'localhost', path: '/', query: {}, headers: c.headers, body: c.body } as never);
      const viaHttp = await fetch(dynalite.endpoint, { method: c.method, headers: Object.fromEntries(Object.entries(c.headers).filter(([, v]) => v !== '')), ...(c.body !== undefined ? { body: c.body } : {}) });
      const worker = { status: viaWorker.response.statusCode, body: Buffer.from(viaWorker.response.body as Uint8Array).toString('utf8'), headers: comparable(viaWorker.response.headers) };
      const http = { status: viaHttp.status, body: await viaHttp.text(), headers: comparable(Object.fromEntries(viaHttp.headers.entries())) };
      expect({ case: c, ...worker }).toEqual({ case: c, ...http });
      expect(viaWorker.response.headers['x-amzn-requestid']).toMatch(/^[0-9A-Z]{52}$/);
    }
  });

  it('posts each request body as its own bytes, not the SDK buffer pool it is a view into', async () => {
    const posted: Array<{ id: number; body: Uint8Array }> = [];
    const worker = { on: () => undefined, postMessage: (batch: Array<{ id: number; body: Uint8Array }>) => posted.push(...batch) };
    const { doc } = dynamoClients('http://127.0.0.1:1', undefined, new DynaliteRequestHandler(worker as never));
    const item = { [STATE_TABLE.partitionKey]: 'c', [STATE_TABLE.sortKey]: 's#x', body: Buffer.alloc(300, 7), note: 'héllo ✓' };
    void doc.send(new PutCommand({ TableName: TABLE, Item: item })).catch(() => undefined);
    void doc.send(new PutCommand({ TableName: TABLE, Item: { ...item, note: 'second' } })).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(posted).toHaveLength(2);
    for (const r of posted) {
      expect(r.body).toBeInstanceOf(Uint8Array);
      expect(r.body.byteOffset).toBe(0);
      expect(r.body.buffer.byteLength).toBe(r.body.byteLength); // the SDK's view is into an 8 KB pool
    }
    const sent = posted.map((r) => JSON.parse(Buffer.from(r.body).toString('utf8')) as { Item: { note: { S: string } } });
    expect(sent.map((b) => b.Item.note.S)).toEqual(['héllo ✓', 'second']);
    expect(ownBytes('text')).toBe('text');
  });

  it('fails a request made after it stopped, at once and saying so', async () => {
    const stopped = await startDynalite();
    const { client } = dynamoClients(stopped.endpoint, undefined, stopped.requestHandler);
    await ensureStateTable(client, TABLE);
    await stopped.stop();
    await expect(ensureStateTable(client, TABLE)).rejects.toThrow(/dynalite was stopped/);
  });
});
