/**
 * The firing inhibition sources (adapters/dynamo-firing-sources.ts) through a real
 * DynamoDB-compatible server (DynamoDB Local when Java is present, else dynalite): one item
 * per subject under its cluster, replaced on a change, gone when removed, read with a limit,
 * nothing of another cluster or of the other items sharing the partition.
 */
import { randomUUID } from 'node:crypto';
import { DynamoFiringSources } from '../../lambdas/adapters/dynamo-firing-sources';
import { DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import type { FiringSource } from '../../lambdas/domain/rules/inhibit';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-firing';
let dynamo: TestDynamo;
let doc: ReturnType<typeof dynamoClients>['doc'];

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const c = dynamoClients(dynamo.endpoint);
  doc = c.doc;
  await ensureStateTable(c.client, TABLE);
}, 120000);
afterAll(async () => dynamo?.stop());

const cluster = () => `c-${randomUUID().slice(0, 8)}`;
const source = (c: string, subject: string, episode = 'e1'): FiringSource => ({ subject, episode, facts: { source: 'consul', kind: 'check', cluster: c, node: 'n1', check: 'serfHealth', status: 'critical', tags: ['a'], nodeMeta: { rack: 'r1' } } });

describe(`firing sources (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('add, replace, list, remove; per cluster; subjects with # and / read back whole', async () => {
    const [c, other] = [cluster(), cluster()];
    const store = new DynamoFiringSources(doc, TABLE);
    // A subject of the same partition that is not a source: never listed.
    await new DynamoSubjectStore(doc, TABLE).put(c, 'check/n1/serfHealth', undefined, { state: { status: 'critical' } });
    await store.add(c, source(c, 'check/n1/serfHealth'));
    await store.add(c, source(c, 'kv/app/#odd key'));
    await store.add(other, source(other, 'check/n9/serfHealth'));
    await store.add(c, { ...source(c, 'check/n1/serfHealth', 'e2'), recordedAt: 1_700_000_000_123 });
    const listed = await store.list(c, 100);
    expect(listed.map((s) => [s.subject, s.episode]).sort()).toEqual([
      ['check/n1/serfHealth', 'e2'],
      ['kv/app/#odd key', 'e1'],
    ]);
    expect(listed[0]!.facts).toEqual(source(c, 'x').facts);
    expect(listed.find((l) => l.episode === 'e2')?.recordedAt).toBe(1_700_000_000_123);
    expect(await store.list(c, 1)).toHaveLength(1);
    await store.remove(c, 'check/n1/serfHealth');
    expect((await store.list(c, 100)).map((s) => s.subject)).toEqual(['kv/app/#odd key']);
    expect((await store.list(other, 100)).map((s) => s.subject)).toEqual(['check/n9/serfHealth']);
  });
});
