/**
 * Every Consul watch type but `checks`, through the registered source handlers, the
 * DynamoDB adapters (DynamoDB Local or dynalite) and SNS/SQS (fauxqs).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/adapters/dynamo-state-store';
import {
  agentService,
  BINARY_BYTES,
  catalogNode,
  catalogServices,
  consulEnvelope,
  eventBuffer,
  kvPair,
  nodeMaintenance,
  serfHealth,
  healthCheck,
  serviceEntry,
  serviceMaintenance,
  userEvent,
} from '../support/consul-fixtures';
import { newCluster, startConsulIt, titles, type ConsulIt } from '../support/consul-it';

let it_: ConsulIt;

beforeAll(async () => {
  it_ = await startConsulIt('tocsin-it-consul-watches');
}, 120000);

afterAll(async () => {
  await it_?.stop();
});

describe(`consul watches (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  describe('event', () => {
    it('one alert per event ID across buffer replays, re-deliveries and several agents', async () => {
      const cluster = newCluster();
      const buffer = eventBuffer(256);
      // The first agent starts: the whole 256-event buffer, in arrival order.
      const first = await it_.ingest(consulEnvelope('event', buffer, { cluster, node: 'agent-1', index: '17950917117329582394' }));
      expect(first).toMatchObject({ accepted: 256, rejected: [], alertsPublished: 256, unsettled: 0 });
      const fired = await it_.alerts(3000);
      expect(fired).toHaveLength(256);
      expect(new Set(fired.map((a) => a.id)).size).toBe(256);
      expect(new Set(fired.map((a) => Object.fromEntries(a.details).ID)).size).toBe(256);

      // Two more agents start (and one restarts) with the same buffer, at the same time.
      const replays = await Promise.all(['agent-2', 'agent-3', 'agent-1'].map((node) => it_.ingest(consulEnvelope('event', buffer, { cluster, node }))));
      expect(replays.map((r) => r.alertsPublished)).toEqual([0, 0, 0]);
      expect(replays.every((r) => r.unsettled === 0 && r.transitions === 0)).toBe(true);

      // A new event reaches every agent; one agent's Consul re-delivers old ones with it.
      const fresh = userEvent(999, { Name: 'rollback', payload: BINARY_BYTES, ServiceFilter: 'api', TagFilter: 'v2' });
      const index = '18446744073709551557'; // a hash above 2^53
      const news = await Promise.all([
        it_.ingest(consulEnvelope('event', [fresh], { cluster, node: 'agent-1', index })),
        it_.ingest(consulEnvelope('event', [fresh], { cluster, node: 'agent-2', index })),
        it_.ingest(consulEnvelope('event', [...buffer.slice(250), fresh], { cluster, node: 'agent-3', index })),
      ]);
      expect(news.reduce((n, r) => n + r.alertsPublished, 0)).toBe(1);
      const [one, ...rest] = await it_.alerts();
      expect(rest).toEqual([]);
      expect(one).toMatchObject({ kind: 'event', severity: 'info', title: 'INFO: event "rollback" fired in cluster ' + cluster });
      const details = Object.fromEntries(one!.details);
      expect(details).toMatchObject({ ID: fresh.ID, 'Payload encoding': 'binary', ServiceFilter: 'api', TagFilter: 'v2', NodeFilter: '(none)', 'Watch index': index });
      expect(details.Payload).toContain('hex: 1f 8b 08');

      // The record carries the alert and a TTL; after it, the event's window (no TTL) remembers the ID
      // (test/integration/event-retention.test.ts).
      const item = await it_.doc.send(new GetCommand({ TableName: it_.table, Key: { pk: keys.cluster(cluster), sk: keys.subject(`event/${fresh.ID}`) } }));
      const ttl = item.Item?.expiresAt as number;
      expect(ttl - Date.now() / 1000).toBeGreaterThan(6.9 * 24 * 3600);
      expect(ttl - Date.now() / 1000).toBeLessThan(7.1 * 24 * 3600);
    }, 120000);

    it('[] and null deliver nothing', async () => {
      const cluster = newCluster();
      expect(await it_.ingest(consulEnvelope('event', [], { cluster }))).toMatchObject({ accepted: 0, alertsPublished: 0 });
      expect(await it_.ingest(consulEnvelope('event', null, { cluster }))).toMatchObject({ accepted: 0, alertsPublished: 0 });
      expect(await it_.alerts(800)).toEqual([]);
    });
  });

  describe('keyprefix', () => {
    it('baseline, then created / changed / deleted; null deletes all; stale views change nothing', async () => {
      const cluster = newCluster();
      const env = (body: unknown, index: number, node = 'agent-1') => consulEnvelope('keyprefix', body, { cluster, scope: 'app', index: String(index), node });
      const a1 = kvPair('app/a', 'one', { CreateIndex: 10, ModifyIndex: 10 });
      const b1 = kvPair('app/b', 'bee', { CreateIndex: 11, ModifyIndex: 11 });

      // Install: the first snapshot is the baseline.
      expect(await it_.ingest(env([a1, b1], 11))).toMatchObject({ alertsPublished: 0, examined: 0 });
      expect(await it_.alerts(800)).toEqual([]);

      // a changes, c appears (a unicode value with Go-escaped <, >, &).
      const a2 = kvPair('app/a', 'two', { CreateIndex: 10, ModifyIndex: 20 });
      const c1 = kvPair('app/c', '<b>Grüße & 🚀</b>', { CreateIndex: 21, ModifyIndex: 21 });
      const r = await Promise.all([it_.ingest(env([a2, b1, c1], 21)), it_.ingest(env([a2, b1, c1], 21, 'agent-2'))]);
      expect(r.reduce((n, x) => n + x.alertsPublished, 0)).toBe(2);
      const changed = await it_.alerts();
      expect(titles(changed)).toEqual(['INFO: key app/a changed', 'INFO: key app/c created']);
      expect(Object.fromEntries(changed.find((a) => a.to === 'created')!.details).Value).toBe('<b>Grüße & 🚀</b>');

      // b deleted (missing from the list).
      await it_.ingest(env([a2, c1], 25));
      const deleted = await it_.alerts();
      expect(titles(deleted)).toEqual(['INFO: key app/b deleted']);

      // A lagging agent still shows b and the old a: nothing.
      expect(await it_.ingest(env([a1, b1], 11, 'agent-9'))).toMatchObject({ alertsPublished: 0, transitions: 0 });
      expect(await it_.alerts(800)).toEqual([]);

      // Everything under the prefix deleted: Consul sends null, not [].
      await it_.ingest(env(null, 30));
      const all = await it_.alerts();
      expect(titles(all)).toEqual(['INFO: key app/a deleted', 'INFO: key app/c deleted']);
      expect(Object.fromEntries(all.find((a) => a.title.includes('app/a'))!.details)['Last value']).toBe('two');
      // Re-delivered: nothing more.
      await it_.ingest(env(null, 30, 'agent-2'));
      expect(await it_.alerts(800)).toEqual([]);

      // Re-created with a binary value.
      await it_.ingest(env([kvPair('app/a', BINARY_BYTES, { CreateIndex: 40, ModifyIndex: 40 })], 40));
      const [recreated] = await it_.alerts();
      expect(recreated?.title).toBe('INFO: key app/a created');
      expect(Object.fromEntries(recreated!.details)['Value encoding']).toBe('binary');
    });
  });

  describe('key', () => {
    it('one key: baseline, change, delete (null); repeats and stale views ignored; a null on a shared scope is refused', async () => {
      const cluster = newCluster();
      const env = (body: unknown, index: number, scope = 'flag', node = 'agent-1') => consulEnvelope('key', body, { cluster, scope, index: String(index), node });
      await it_.ingest(env(kvPair('flags/dark-mode', 'off', { ModifyIndex: 5, CreateIndex: 5 }), 5));
      await it_.ingest(env(kvPair('flags/dark-mode', 'on', { ModifyIndex: 9, CreateIndex: 5 }), 9));
      await it_.ingest(env(null, 12));
      await it_.ingest(env(null, 12)); // agent restart: the same "no key" again
      await it_.ingest(env(kvPair('flags/dark-mode', 'off', { ModifyIndex: 9, CreateIndex: 5 }), 9, 'flag', 'agent-2')); // stale: a lagging agent
      const seen = await it_.alerts();
      expect(seen.map((a) => a.title)).toEqual(['INFO: key flags/dark-mode changed', 'INFO: key flags/dark-mode deleted']);
      expect(Object.fromEntries(seen[0]!.details)['Previous value']).toBeUndefined(); // unchanged since the baseline: not recorded
      expect(Object.fromEntries(seen[1]!.details)['Last value']).toBe('on');

      // Two key watches sharing one scope: a null cannot be attributed.
      await it_.ingest(env(kvPair('k/one', '1', { ModifyIndex: 3 }), 3, 'shared'));
      await it_.ingest(env(kvPair('k/two', '2', { ModifyIndex: 4 }), 4, 'shared'));
      expect(titles(await it_.alerts())).toEqual(['INFO: key k/two created']); // the scope's baseline was k/one
      const refused = await it_.ingest(env(null, 20, 'shared'));
      expect(refused.rejected[0]?.reason).toContain('own scope');
      expect(await it_.alerts(800)).toEqual([]);
    });
  });

  describe('services (catalog)', () => {
    it('baseline, then registered / tags changed / deregistered, ordered by the watch index', async () => {
      const cluster = newCluster();
      const env = (body: unknown, index: number, node = 'agent-1') => consulEnvelope('services', body, { cluster, index: String(index), node });
      expect(await it_.ingest(env(catalogServices({ consul: [], web: ['v1'], legacy: null }), 100))).toMatchObject({ alertsPublished: 0 });
      expect(await it_.alerts(800)).toEqual([]);

      const next = catalogServices({ consul: [], web: ['v1', 'canary'], legacy: null, api: ['grpc'] });
      const five = await Promise.all(Array.from({ length: 5 }, (_, i) => it_.ingest(env(next, 110, `agent-${i}`))));
      expect(five.reduce((n, r) => n + r.alertsPublished, 0)).toBe(2);
      expect(titles(await it_.alerts())).toEqual(['INFO: service api registered', 'INFO: service web tags changed (+canary)']);

      // A lagging agent's older snapshot: skipped without reading a service.
      expect(await it_.ingest(env(catalogServices({ consul: [], web: ['v1'] }), 105, 'agent-9'))).toMatchObject({ examined: 0, alertsPublished: 0 });
      // An agent restart re-delivers the current snapshot: nothing.
      expect(await it_.ingest(env(next, 110))).toMatchObject({ examined: 0, alertsPublished: 0 });

      await it_.ingest(env(catalogServices({ consul: [], api: ['grpc'], legacy: null }), 120));
      expect(titles(await it_.alerts())).toEqual(['INFO: service web deregistered']);
      // {} : every service gone.
      await it_.ingest(env({}, 130));
      expect(titles(await it_.alerts())).toEqual(['INFO: service api deregistered', 'INFO: service consul deregistered', 'INFO: service legacy deregistered']);
    });
  });

  describe('nodes (catalog)', () => {
    it('baseline, then joined / updated (IPv6 tagged address) / left; stale ignored', async () => {
      const cluster = newCluster();
      const env = (body: unknown, index: number, node = 'agent-1') => consulEnvelope('nodes', body, { cluster, index: String(index), node });
      const n = (name: string, over: Parameters<typeof catalogNode>[1] = {}) => catalogNode(name, { CreateIndex: 10, ModifyIndex: 10, ...over });
      await it_.ingest(env([n('web-1'), n('web-2'), n('db-1', { TaggedAddresses: null, Meta: null })], 10));
      expect(await it_.alerts(800)).toEqual([]);

      await it_.ingest(env([n('web-1', { ModifyIndex: 20, TaggedAddresses: { lan: '10.0.0.11', wan_ipv6: '2001:db8::99' } }), n('web-2'), n('db-1', { TaggedAddresses: null, Meta: null }), n('web-3', { CreateIndex: 21, ModifyIndex: 21 })], 21));
      const changed = await it_.alerts();
      expect(titles(changed)).toEqual(['INFO: node web-1 updated (TaggedAddresses)', 'INFO: node web-3 joined the catalog']);
      expect(Object.fromEntries(changed.find((a) => a.node === 'web-1')!.details)['TaggedAddresses changed']).toContain('-> lan=10.0.0.11, wan_ipv6=2001:db8::99');

      await it_.ingest(env([n('web-1', { ModifyIndex: 20 }), n('web-3', { CreateIndex: 21, ModifyIndex: 21 })], 30));
      expect(titles(await it_.alerts())).toEqual(['INFO: node db-1 left the catalog', 'INFO: node web-2 left the catalog']);
      // The old view again (lagging agent): nothing, and db-1 is not "back".
      expect(await it_.ingest(env([n('web-1'), n('web-2'), n('db-1')], 10, 'agent-9'))).toMatchObject({ examined: 0, alertsPublished: 0 });
      expect(await it_.alerts(800)).toEqual([]);
    });
  });

  describe('service (health of instances)', () => {
    it('baseline, health changes once across agents, maintenance suppresses then notices, deregistration; stale ignored', async () => {
      const cluster = newCluster();
      const env = (body: unknown, index: number, node = 'agent-1') => consulEnvelope('service', body, { cluster, scope: 'web', index: String(index), node });
      const inst = (node: string, id: string, status: string, index: number, extra: ReturnType<typeof healthCheck>[] = []) =>
        serviceEntry(node, id, {
          checks: [serfHealth(node, { ModifyIndex: 10 }), healthCheck({ Node: node, CheckID: `service:${id}`, ServiceID: id, ServiceName: 'web', Status: status, ModifyIndex: index }), ...extra],
        });

      // Baseline: a passing instance is recorded quietly; a critical one alerts.
      await it_.ingest(env([inst('web-1', 'web-1a', 'passing', 20), inst('web-2', 'web-2a', 'critical', 21)], 21));
      expect(titles(await it_.alerts())).toEqual(['CRITICAL: service web instance web-2a on web-2 is critical']);

      // web-1a fails; five agents deliver the same snapshot at once: one alert.
      const failing = [inst('web-1', 'web-1a', 'critical', 30), inst('web-2', 'web-2a', 'critical', 21)];
      const five = await Promise.all(Array.from({ length: 5 }, (_, i) => it_.ingest(env(failing, 30, `agent-${i}`))));
      expect(five.reduce((n, r) => n + r.alertsPublished, 0)).toBe(1);
      expect(titles(await it_.alerts())).toEqual(['CRITICAL: service web instance web-1a on web-1 is critical']);

      // web-1a recovers; web-2 goes into node maintenance.
      await it_.ingest(env([inst('web-1', 'web-1a', 'passing', 40), inst('web-2', 'web-2a', 'critical', 21, [nodeMaintenance('web-2', 'disk swap', 41)])], 41));
      expect(titles(await it_.alerts())).toEqual(['INFO: service web instance web-2a on web-2 entered maintenance', 'RESOLVED: service web instance web-1a on web-1 is passing again']);

      // During maintenance web-2a recovers then fails again: no alert (it was alerted before: the recovery resolves).
      await it_.ingest(env([inst('web-1', 'web-1a', 'passing', 40), inst('web-2', 'web-2a', 'passing', 50, [nodeMaintenance('web-2', 'disk swap', 41)])], 50));
      expect(titles(await it_.alerts())).toEqual(['RESOLVED: service web instance web-2a on web-2 is passing again']);
      await it_.ingest(env([inst('web-1', 'web-1a', 'passing', 40), inst('web-2', 'web-2a', 'critical', 55, [nodeMaintenance('web-2', 'disk swap', 41)])], 55));
      expect(await it_.alerts(800)).toEqual([]);

      // Maintenance ends with the instance still critical: the withheld alert fires now.
      await it_.ingest(env([inst('web-1', 'web-1a', 'passing', 40), inst('web-2', 'web-2a', 'critical', 55)], 60));
      expect(titles(await it_.alerts())).toEqual(['CRITICAL: service web instance web-2a on web-2 is critical (maintenance ended)']);

      // Service maintenance of web-1a only; a stale snapshot changes nothing.
      await it_.ingest(env([inst('web-1', 'web-1a', 'critical', 70, [serviceMaintenance('web-1', 'web-1a', 'web', 'deploy', 70)]), inst('web-2', 'web-2a', 'critical', 55)], 70));
      expect(titles(await it_.alerts())).toEqual(['INFO: service web instance web-1a on web-1 entered maintenance']);
      expect(await it_.ingest(env(failing, 30, 'agent-9'))).toMatchObject({ examined: 0, alertsPublished: 0 });

      // web-2a deregistered while alerting: resolved. [] later: web-1a (in maintenance) goes quietly.
      await it_.ingest(env([inst('web-1', 'web-1a', 'critical', 70, [serviceMaintenance('web-1', 'web-1a', 'web', 'deploy', 70)])], 80));
      const gone = await it_.alerts();
      expect(gone.map((a) => `${a.state} ${a.title}`)).toEqual(['resolved RESOLVED: service web instance web-2a on web-2 is no longer listed (deregistered, or filtered out by the watch)']);
      await it_.ingest(env([], 90));
      expect(await it_.alerts(800)).toEqual([]);
    }, 120000);
  });

  describe('agent_service', () => {
    it('baseline, then one alert per change; a late (spooled) older delivery is stale', async () => {
      const cluster = newCluster();
      const t0 = Date.now() - 60_000;
      const env = (over: Parameters<typeof agentService>[1], at: number) =>
        consulEnvelope('agent_service', agentService('web-1a', over), { cluster, node: 'web-1', index: '0', sentAt: new Date(at).toISOString() });
      await it_.ingest(env({}, t0));
      expect(await it_.alerts(800)).toEqual([]);
      const changed = env({ Port: 9090, Tags: ['v2'] }, t0 + 10_000);
      const twice = await Promise.all([it_.ingest(changed), it_.ingest(changed)]);
      expect(twice.reduce((n, r) => n + r.alertsPublished, 0)).toBe(1);
      const [alert, ...more] = await it_.alerts();
      expect(more).toEqual([]);
      expect(alert).toMatchObject({ title: 'INFO: service web-1a on web-1 changed (Tags, Port)', node: 'web-1', kind: 'agent-service' });
      // Spooled by the shim at t0+5s, delivered now: older than what is stored.
      expect(await it_.ingest(env({ Port: 1 }, t0 + 5_000))).toMatchObject({ transitions: 0, alertsPublished: 0 });
      expect(await it_.alerts(800)).toEqual([]);
    });
  });
});
