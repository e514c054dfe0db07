/**
 * The AWS SDK's CPU per DynamoDB call on `npm start`'s event loop, without dynalite: the
 * client `local/dynamodb.ts` builds for embedded dynalite (its worker transport, unsigned,
 * without the middleware nothing there reads) against the same client configured as for
 * any HTTP endpoint (SigV4, the whole stack), both through the DocumentClient, with a
 * transport that answers every request at once, so that only the client side is measured.
 * Alternated runs in fresh processes; prints µs of CPU per call (this process: one thread).
 *
 *   npx tsx bench/sdk-call-cost.ts [rounds] [calls]
 */
import { execFileSync } from 'node:child_process';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { DynaliteRequestHandler } from '../local/dynalite-worker';
import { dynamoClients } from '../local/dynamodb';
import { median } from './lib/stats';

const ANSWER = { status: 200, headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'bench' }, body: '{"Attributes":{"rev":{"N":"3"}}}' };

/** Answers each posted batch on the next turn, as the worker does (one message per turn). */
function answeringWorker() {
  let listener: ((batch: unknown) => void) | undefined;
  return {
    on: (_event: string, l: (batch: unknown) => void) => (listener = l),
    postMessage: (batch: Array<{ id: number }>) => setImmediate(() => listener?.(batch.map((r) => ({ id: r.id, ...ANSWER })))),
  };
}

/** The same answer for a client on an HTTP endpoint (its request handler). */
const httpHandler = {
  handle: async (_request: HttpRequest): Promise<{ response: HttpResponse }> => ({ response: { statusCode: ANSWER.status, headers: ANSWER.headers, body: Buffer.from(ANSWER.body) } }),
  updateHttpClientConfig: () => undefined,
  httpHandlerConfigs: () => ({}),
  destroy: () => undefined,
};

async function measure(variant: 'embedded' | 'http', calls: number): Promise<number> {
  const endpoint = 'http://127.0.0.1:1';
  const { doc } =
    variant === 'embedded'
      ? dynamoClients(endpoint, undefined, new DynaliteRequestHandler(answeringWorker() as never))
      : dynamoClients(endpoint, undefined, httpHandler as unknown as DynaliteRequestHandler);
  // One of the adapters' heavier calls: clearing an outbox entry under its condition.
  const call = () =>
    doc.send(
      new UpdateCommand({
        TableName: 'tocsin-local-state',
        Key: { pk: 'cluster#default', sk: 's#check/node-1/web' },
        UpdateExpression: 'SET #body = :body, rev = :next REMOVE pendingId, lease',
        ConditionExpression: 'rev = :rev AND pendingId = :pending',
        ExpressionAttributeNames: { '#body': 'body' },
        ExpressionAttributeValues: { ':body': Buffer.alloc(300, 7), ':next': 4, ':rev': 3, ':pending': 'check/node-1/web@1234' },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
  const inFlight = 16;
  for (let i = 0; i < 2000; i++) await Promise.all(Array.from({ length: inFlight }, call)); // warm-up
  const before = process.cpuUsage();
  for (let i = 0; i < calls / inFlight; i++) await Promise.all(Array.from({ length: inFlight }, call));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

async function main(): Promise<void> {
  process.removeAllListeners('warning'); // the AWS SDK's Node 20 notice
  const [variant, calls] = [process.argv[2], Number(process.argv[3] ?? 20000)];
  if (variant === 'embedded' || variant === 'http') {
    process.stdout.write(`${(await measure(variant, calls)).toFixed(1)}\n`);
    return;
  }
  const rounds = Number(process.argv[2] ?? 3);
  const runs: Record<'embedded' | 'http', number[]> = { embedded: [], http: [] };
  for (let round = 0; round < rounds; round++) {
    for (const v of ['http', 'embedded'] as const) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', __filename, v, String(calls)], { encoding: 'utf8' });
      runs[v].push(Number(out.trim()));
    }
  }
  const http = median(runs.http);
  const embedded = median(runs.embedded);
  process.stdout.write(
    `SDK CPU per UpdateItem call, 16 in flight, transport answering at once, median of ${rounds} alternated runs of ${calls} calls:\n` +
      `  as for an HTTP endpoint (SigV4, full stack): ${http.toFixed(1)} µs (${runs.http.map((x) => x.toFixed(1)).join(', ')})\n` +
      `  embedded dynalite's client (unsigned, trimmed stack, worker transport): ${embedded.toFixed(1)} µs (${runs.embedded.map((x) => x.toFixed(1)).join(', ')})\n` +
      `  ratio ${(embedded / http).toFixed(2)}x\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`sdk-call-cost: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
