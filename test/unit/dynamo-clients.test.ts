/**
 * The embedded dynalite client's configuration has fast properties (FAST CONFIG in
 * local/dynamodb.ts): the SDK copies it three times per call, ~10x slower from V8's
 * dictionary mode. Nothing else about it may change.
 */
import { setFlagsFromString } from 'node:v8';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynaliteRequestHandler } from '../../local/dynalite-worker';
import { dynamoClients, withFastProperties } from '../../local/dynamodb';

setFlagsFromString('--allow-natives-syntax');
const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

/** Answers every posted request with an empty item, as the dynalite worker would for a missing key. */
function answeringWorker() {
  let listener: ((batch: unknown) => void) | undefined;
  const posted: Array<{ headers: Record<string, string> }> = [];
  return {
    posted,
    on: (_event: string, l: (batch: unknown) => void) => (listener = l),
    postMessage: (batch: Array<{ id: number; headers: Record<string, string> }>) => {
      posted.push(...batch);
      setImmediate(() => listener?.(batch.map((r) => ({ id: r.id, status: 200, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{}' }))));
    },
  };
}

describe('the embedded dynalite client', () => {
  it('has its configuration in fast properties, the same object with the same values, and still answers', async () => {
    const worker = answeringWorker();
    const { client, doc } = dynamoClients('http://127.0.0.1:1', undefined, new DynaliteRequestHandler(worker as never));
    // A client built the ordinary way, for its keys and values (and the reason for all this: dictionary mode).
    const { client: plain } = dynamoClients('http://127.0.0.1:1');
    expect(hasFastProperties(client.config)).toBe(true);
    expect(Object.keys(client.config).sort()).toEqual(Object.keys(plain.config).sort());
    expect(doc.config).toBe(client.config);
    expect(await client.config.region()).toBe(await plain.config.region());
    expect(await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a', sk: 'b' } }))).toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(worker.posted[0]!.headers['x-amz-target']).toBe('DynamoDB_20120810.GetItem');
    expect(hasFastProperties(client.config)).toBe(true); // and stays so once calls went through it
    plain.destroy();
  });

  it('gives an object fast properties without changing it', () => {
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < 60; i++) Object.assign(obj, { [`k${i}`]: i });
    delete obj.k0;
    expect(hasFastProperties(obj)).toBe(false);
    const same = withFastProperties(obj);
    expect(same).toBe(obj);
    expect(hasFastProperties(obj)).toBe(true);
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype);
    expect(Object.keys(obj)).toHaveLength(59);
    obj.k1 = 'changed';
    expect({ ...obj }.k1).toBe('changed');
  });
});
