/**
 * The Slack app's threads and call marks (adapters/dynamo-slack-threads.ts) through a real
 * DynamoDB-compatible server: of racing claims for an episode's parent exactly one wins, the
 * others see it pending, then the posted thread and who posted it; a surely failed post frees
 * the claim; a stale claim is taken over once; call marks go sending -> done, or are dropped;
 * every item sits under `slack#<channel>` with a TTL.
 */
import { randomUUID } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoSlackThreads } from '../../lambdas/adapters/dynamo-slack-threads';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-slack-threads';
let dynamo: TestDynamo;
let doc: ReturnType<typeof dynamoClients>['doc'];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const c = dynamoClients(dynamo.endpoint);
  doc = c.doc;
  await ensureStateTable(c.client, TABLE);
}, 120000);
afterAll(async () => dynamo?.stop());

test('racing claims: one wins; release, take-over, posted thread; call marks', async () => {
  const channel = `ops-${randomUUID().slice(0, 8)}`;
  const store = new DynamoSlackThreads(doc, TABLE);
  const claims = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((id) => store.claimThread(channel, 'ep1', id, 1000)));
  const winners = claims.filter((c) => c.kind === 'claimed');
  expect(winners).toHaveLength(1);
  expect(claims.filter((c) => c.kind === 'pending')).toHaveLength(3);
  const winner = ['n1', 'n2', 'n3', 'n4'][claims.findIndex((c) => c.kind === 'claimed')]!;

  // Only the claimant releases; then anyone may claim again.
  await store.releaseThread(channel, 'ep1', 'someone-else');
  expect(await store.claimThread(channel, 'ep1', 'n9', 2000)).toEqual({ kind: 'pending', claimedBy: winner, claimedAtMs: 1000 });
  await store.releaseThread(channel, 'ep1', winner);
  expect(await store.claimThread(channel, 'ep1', 'n5', 3000)).toEqual({ kind: 'claimed' });

  // A stale claim is taken over by one notification only.
  const takeovers = await Promise.all(['n6', 'n7'].map((id) => store.takeOverThread(channel, 'ep1', 'n5', id, 9000)));
  expect(takeovers.filter(Boolean)).toHaveLength(1);
  const owner = takeovers[0] ? 'n6' : 'n7';
  await store.setThread(channel, 'ep1', owner, { channelId: 'C1', ts: '1.000001' });
  expect(await store.claimThread(channel, 'ep1', 'n8', 10000)).toEqual({ kind: 'thread', thread: { channelId: 'C1', ts: '1.000001' }, postedBy: owner });
  expect(await store.takeOverThread(channel, 'ep1', owner, 'n8', 10000)).toBe(false);
  await store.releaseThread(channel, 'ep1', owner); // a posted thread is never released
  expect(await store.getThread(channel, 'ep1')).toEqual({ channelId: 'C1', ts: '1.000001' });

  expect(await store.claimStep(channel, 'a1#0')).toBe('claimed');
  expect(await store.claimStep(channel, 'a1#0')).toBe('sending');
  await store.releaseStep(channel, 'a1#0');
  expect(await store.claimStep(channel, 'a1#0')).toBe('claimed');
  await store.finishStep(channel, 'a1#0');
  expect(await store.claimStep(channel, 'a1#0')).toBe('done');

  const items = (await doc.send(new ScanCommand({ TableName: TABLE }))).Items ?? [];
  const mine = items.filter((i) => String(i[STATE_TABLE.partitionKey]).includes(channel));
  expect(mine.map((i) => `${i[STATE_TABLE.partitionKey]} ${i[STATE_TABLE.sortKey]}`).sort()).toEqual([`slack#${channel} step#a1#0`, `slack#${channel} thread#ep1`]);
  for (const i of mine) expect(i[STATE_TABLE.ttlAttribute]).toBeGreaterThan(Date.now() / 1000);
});
