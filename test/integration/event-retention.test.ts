/**
 * Event dedupe does not expire (docs/consul.md "event", docs/serf.md "User events"): an
 * agent replays an event for as long as it sits in its buffer, however old, so a replay
 * after the TTL event records used to have (Consul 7 days, Serf 30 days) must alert
 * nothing. Through the real source handlers and DynamoDB adapters (DynamoDB Local or
 * dynalite) and SNS/SQS (fauxqs); DynamoDB's TTL process is played by sweepExpired at a
 * time past the former TTL.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/adapters/dynamo-state-store';
import { EVENT_WINDOW } from '../../lambdas/domain/consul/events';
import { consulEnvelope, eventBuffer, userEvent } from '../support/consul-fixtures';
import { newCluster, startConsulIt, type ConsulIt } from '../support/consul-it';
import { sweepExpired } from '../support/dynamodb';
import { queryEnvelope, userEventEnvelope } from '../support/serf-fixtures';

let it_: ConsulIt;
const DAY_MS = 24 * 3600 * 1000;

beforeAll(async () => {
  it_ = await startConsulIt('tocsin-it-event-retention');
}, 120000);

afterAll(async () => {
  await it_?.stop();
});

/** Every item of the cluster's partition: what the table holds for it. */
async function partition(cluster: string): Promise<Array<Record<string, unknown>>> {
  const out = await it_.doc.send(new QueryCommand({ TableName: it_.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': keys.cluster(cluster) } }));
  return out.Items ?? [];
}

describe(`event dedupe outlives the former TTLs (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('Consul: an agent replays its buffer 8 days later (after the former 7-day TTL): nothing alerts', async () => {
    const cluster = newCluster();
    const buffer = eventBuffer(40);
    const first = await it_.ingest(consulEnvelope('event', buffer, { cluster, node: 'agent-1' }));
    expect(first).toMatchObject({ alertsPublished: 40, unsettled: 0 });
    expect(await it_.alerts(2000)).toHaveLength(40);

    // A week and a day pass; DynamoDB's TTL process runs. The quiet agent is reloaded and replays its buffer.
    await sweepExpired(it_.doc, it_.table, Date.now() + 8 * DAY_MS);
    const replay = await it_.ingest(consulEnvelope('event', buffer, { cluster, node: 'agent-1' }));
    expect(replay).toMatchObject({ accepted: 40, transitions: 0, alertsPublished: 0, unsettled: 0 });
    // Another agent, which started later with only the newest of them, too.
    expect(await it_.ingest(consulEnvelope('event', buffer.slice(30), { cluster, node: 'agent-2' }))).toMatchObject({ transitions: 0 });
    expect(await it_.alerts(1000)).toEqual([]);

    // A new event still alerts, once.
    const fresh = userEvent(41);
    await Promise.all(['agent-1', 'agent-2'].map((node) => it_.ingest(consulEnvelope('event', [...buffer, fresh], { cluster, node }))));
    expect((await it_.alerts()).map((a) => Object.fromEntries(a.details).ID)).toEqual([fresh.ID]);

    // What remembers them never expires, and is one item per (name, filters) here.
    const windows = (await partition(cluster)).filter((i) => String(i.sk).startsWith('s#event-window/'));
    expect(windows).toHaveLength(1);
    expect(windows[0]?.expiresAt).toBeUndefined();
  }, 120000);

  it(`Consul: the window is per (name, filters) and keeps the newest ${EVENT_WINDOW} IDs`, async () => {
    const cluster = newCluster();
    // Events targeted at one node: its agent's buffer holds them however many others fire.
    const targeted = [userEvent(1, { NodeFilter: 'web-1' }), userEvent(2, { NodeFilter: 'web-1' })];
    await it_.ingest(consulEnvelope('event', targeted, { cluster, node: 'web-1' }));
    const others = eventBuffer(EVENT_WINDOW + 8, 100);
    await it_.ingest(consulEnvelope('event', others, { cluster, node: 'web-2' }));
    expect(await it_.alerts(3000)).toHaveLength(2 + EVENT_WINDOW + 8);
    await sweepExpired(it_.doc, it_.table, Date.now() + 8 * DAY_MS);

    // web-1 restarts: its buffer still has its own two: no alert.
    expect(await it_.ingest(consulEnvelope('event', targeted, { cluster, node: 'web-1' }))).toMatchObject({ transitions: 0 });
    // The newest EVENT_WINDOW of the untargeted ones are remembered; the 8 oldest have left
    // the window (no agent's 256-entry buffer can still hold them) and alert again if replayed.
    expect(await it_.ingest(consulEnvelope('event', others.slice(16), { cluster, node: 'web-3' }))).toMatchObject({ transitions: 0 });
    const again = await it_.ingest(consulEnvelope('event', others, { cluster, node: 'web-3' }));
    expect(again.transitions).toBe(8);
    await it_.alerts(2000);
  }, 180000);

  it('Serf: a user event replayed 31 days later (after the former 30-day TTL, e.g. a -replay join): nothing alerts', async () => {
    const cluster = newCluster();
    await Promise.all(['serf-a', 'serf-b', 'serf-c'].map((r) => it_.ingest(userEventEnvelope(cluster, r, 'deploy', 41, 'web v41\n'))));
    await Promise.all(['serf-a', 'serf-b'].map((r) => it_.ingest(queryEnvelope(cluster, r, 'uptime', 17, 'now?'))));
    expect((await it_.alerts()).map((a) => a.kind).sort()).toEqual(['query', 'user-event']);

    await sweepExpired(it_.doc, it_.table, Date.now() + 31 * DAY_MS);
    // A node joins with -replay: Serf's buffer (512 LTimes) still holds LTime 41 in a quiet cluster.
    expect(await it_.ingest(userEventEnvelope(cluster, 'serf-d', 'deploy', 41, 'web v41\n'))).toMatchObject({ transitions: 0, alertsPublished: 0 });
    expect(await it_.ingest(queryEnvelope(cluster, 'serf-c', 'uptime', 17, 'now?'))).toMatchObject({ transitions: 0 });
    expect(await it_.alerts(1000)).toEqual([]);
    // Nothing the dedupe rests on carries a TTL.
    expect((await partition(cluster)).filter((i) => i.expiresAt !== undefined)).toEqual([]);
  }, 60000);
});
