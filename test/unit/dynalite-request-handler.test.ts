/**
 * The AWS SDK's transport to the embedded dynalite worker (local/dynalite-worker.ts), against
 * a stand-in for the worker: requests made in one turn of the event loop go as one message,
 * each answer reaches the request it belongs to, and once the worker is gone every waiting
 * or later request fails with the reason.
 */
import { EventEmitter } from 'node:events';
import type { HttpRequest } from '@smithy/types';
import { DynaliteRequestHandler, DynaliteUnavailable } from '../../local/dynalite-worker';

class FakeWorker extends EventEmitter {
  readonly posted: unknown[] = [];
  postMessage(message: unknown): void {
    this.posted.push(message);
  }
}

const request = (target: string, body: string): HttpRequest => ({
  method: 'POST',
  protocol: 'http:',
  hostname: '127.0.0.1',
  port: 8000,
  path: '/',
  query: {},
  headers: { 'x-amz-target': `DynamoDB_20120810.${target}`, 'content-type': 'application/x-amz-json-1.0' },
  body,
});

const nextTurn = () => new Promise((r) => setImmediate(r));

describe('DynaliteRequestHandler', () => {
  it('sends the requests of one turn as one message and hands each answer to its request', async () => {
    const worker = new FakeWorker();
    const handler = new DynaliteRequestHandler(worker as never);
    const answers = ['GetItem', 'PutItem', 'UpdateItem'].map((t, i) => handler.handle(request(t, `{"n":${i}}`)));
    expect(worker.posted).toHaveLength(0); // not one message per request
    await nextTurn();
    expect(worker.posted).toHaveLength(1);
    const batch = worker.posted[0] as Array<{ id: number; headers: Record<string, string>; body: string; path: string; method: string }>;
    expect(batch.map((r) => [r.method, r.path, r.headers['x-amz-target'], r.body])).toEqual([
      ['POST', '/', 'DynamoDB_20120810.GetItem', '{"n":0}'],
      ['POST', '/', 'DynamoDB_20120810.PutItem', '{"n":1}'],
      ['POST', '/', 'DynamoDB_20120810.UpdateItem', '{"n":2}'],
    ]);
    // Answers in another order, in one message, plus one for a request nobody waits for.
    const [a, b, c] = batch as unknown as [{ id: number }, { id: number }, { id: number }];
    worker.emit('message', [
      { id: c.id, status: 400, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: '{"__type":"ConditionalCheckFailedException"}' },
      { id: 9999, status: 200, headers: {}, body: '{}' },
      { id: a.id, status: 200, headers: { 'x-amz-crc32': '1' }, body: '{"Item":{}}' },
      { id: b.id, error: 'dynalite threw' },
    ]);
    const [get, put, update] = await Promise.allSettled(answers);
    expect(get.status === 'fulfilled' && [get.value.response.statusCode, Buffer.from(get.value.response.body as Uint8Array).toString(), get.value.response.headers]).toEqual([200, '{"Item":{}}', { 'x-amz-crc32': '1' }]);
    expect(put.status === 'rejected' && put.reason).toEqual(new DynaliteUnavailable('dynalite: dynalite threw'));
    expect(update.status === 'fulfilled' && update.value.response.statusCode).toBe(400);
  });

  it('fails the waiting requests and every later one once the worker is gone', async () => {
    const worker = new FakeWorker();
    const handler = new DynaliteRequestHandler(worker as never);
    const waiting = handler.handle(request('GetItem', '{}'));
    await nextTurn();
    handler.close('the dynalite worker exited (code 1)');
    await expect(waiting).rejects.toThrow('the dynalite worker exited (code 1)');
    await expect(handler.handle(request('GetItem', '{}'))).rejects.toThrow(DynaliteUnavailable);
    expect(worker.posted).toHaveLength(1);
  });
});
