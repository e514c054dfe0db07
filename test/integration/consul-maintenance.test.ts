/**
 * Maintenance mode on the `checks` path (whole lists and deltas), through the
 * registered handler, DynamoDB (Local or dynalite) and SNS/SQS (fauxqs).
 */
import type { Alert } from '../../lambdas/domain/types';
import { consulEnvelope, expiredTtlCheck, goJsonLine, healthCheck, largeSnapshot, nodeMaintenance, serviceMaintenance, type HealthCheckFixture } from '../support/consul-fixtures';
import { newCluster, startConsulIt, titles, type ConsulIt } from '../support/consul-it';

let it_: ConsulIt;

beforeAll(async () => {
  it_ = await startConsulIt('tocsin-it-consul-maint');
}, 120000);

afterAll(async () => {
  await it_?.stop();
});

const checks = (cluster: string, list: HealthCheckFixture[], node = 'agent-1') => it_.ingest(consulEnvelope('checks', list, { cluster, node }));
const severities = (alerts: Alert[]) => alerts.map((a) => `${a.kind}/${a.severity}/${a.state}`).sort();

/** One check of the large snapshot, changed. */
const set = (list: HealthCheckFixture[], node: string, checkId: string, over: Partial<HealthCheckFixture>): HealthCheckFixture[] =>
  list.map((c) => (c.Node === node && c.CheckID === checkId ? { ...c, ...over } : c));

describe(`maintenance mode on checks (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('node maintenance in a 2,000-check cluster: notice, suppression, then the withheld alert and a notice', async () => {
    const cluster = newCluster();
    let snap = largeSnapshot(2000); // node-0 .. node-199, checks service:svc-0..9, ModifyIndex 100..149
    expect(await checks(cluster, snap)).toMatchObject({ examined: 2000, alertsPublished: 0 });

    // node-5 enters maintenance: an info notice, never a critical alert for the check itself.
    snap = [...snap, nodeMaintenance('node-5', 'replacing a disk', 500)];
    const entered = await Promise.all([checks(cluster, snap), checks(cluster, snap, 'agent-2')]);
    expect(entered.reduce((n, r) => n + r.alertsPublished, 0)).toBe(1);
    const [notice, ...none] = await it_.alerts();
    expect(none).toEqual([]);
    expect(notice).toMatchObject({ kind: 'maintenance', severity: 'info', state: 'firing', node: 'node-5', check: '_node_maintenance', title: 'MAINTENANCE: node node-5 entered maintenance mode' });
    expect(Object.fromEntries(notice!.details).Reason).toBe('replacing a disk');

    // Under maintenance node-5's check fails: withheld. node-6's fails: alerted.
    snap = set(snap, 'node-5', 'service:svc-3', { Status: 'critical', Output: 'connection refused', ModifyIndex: 510 });
    snap = set(snap, 'node-6', 'service:svc-3', { Status: 'critical', Output: 'connection refused', ModifyIndex: 511 });
    expect(await checks(cluster, snap)).toMatchObject({ examined: 2, transitions: 2, alertsPublished: 1 });
    expect(titles(await it_.alerts())).toEqual(["CRITICAL: Service 'svc-3' check (service svc-3) on node-6"]);

    // Maintenance ends (the check is deregistered) while node-5's check is still critical.
    snap = snap.filter((c) => c.CheckID !== '_node_maintenance');
    const ended = await Promise.all([checks(cluster, snap), checks(cluster, snap, 'agent-3')]);
    expect(ended.reduce((n, r) => n + r.alertsPublished, 0)).toBe(2);
    const after = await it_.alerts();
    expect(titles(after)).toEqual([
      "CRITICAL: Service 'svc-3' check (service svc-3) on node-5 (still critical after maintenance)",
      'MAINTENANCE: node node-5 left maintenance mode',
    ]);
    expect(severities(after)).toEqual(['check/critical/firing', 'maintenance/info/resolved']);

    // Nothing left to say on a repeat.
    expect((await checks(cluster, snap)).alertsPublished).toBe(0);
    expect(await it_.alerts(800)).toEqual([]);
  }, 120000);

  it('service maintenance covers that instance only; a recovery during maintenance still resolves', async () => {
    const cluster = newCluster();
    const web = (id: string, status: string, index: number, over: Partial<HealthCheckFixture> = {}) =>
      healthCheck({ Node: 'web-1', CheckID: `service:${id}`, ServiceID: id, ServiceName: 'web', Status: status, ModifyIndex: index, CreateIndex: 10, ...over });
    await checks(cluster, [web('web-1a', 'critical', 10), web('web-1b', 'passing', 11)]);
    expect(titles(await it_.alerts())).toEqual(["CRITICAL: Service 'web' check (service web) on web-1"]);

    // web-1a goes into maintenance (its own check stays critical: no new alert, a notice).
    const maint = serviceMaintenance('web-1', 'web-1a', 'web', 'rolling deploy', 20);
    await checks(cluster, [web('web-1a', 'critical', 10), web('web-1b', 'passing', 11), maint]);
    const [notice] = await it_.alerts();
    expect(notice).toMatchObject({ kind: 'maintenance', severity: 'info', title: 'MAINTENANCE: service web [web-1a] on web-1 entered maintenance mode' });

    // During it: web-1a recovers (its earlier alert resolves); web-1b fails (other instance: alerted).
    await checks(cluster, [web('web-1a', 'passing', 30), web('web-1b', 'critical', 31), maint]);
    expect((await it_.alerts()).map((a) => `${a.state} ${a.check} ${a.from}->${a.to}`).sort()).toEqual(['firing service:web-1b passing->critical', 'resolved service:web-1a critical->passing']);

    // web-1a fails again during maintenance: withheld; maintenance ends with it healthy: only the notice.
    await checks(cluster, [web('web-1a', 'critical', 40), web('web-1b', 'critical', 31), maint]);
    expect(await it_.alerts(800)).toEqual([]);
    await checks(cluster, [web('web-1a', 'passing', 50), web('web-1b', 'critical', 31)]);
    expect(titles(await it_.alerts())).toEqual(['MAINTENANCE: service web [web-1a] on web-1 left maintenance mode']);
  });

  it('deltas: maintenance known from the scope applies to changed checks and ends on removal', async () => {
    const cluster = newCluster();
    const base = [healthCheck({ Node: 'db-1', CheckID: 'pg', ServiceID: 'pg', ServiceName: 'postgres', ModifyIndex: 10 }), nodeMaintenance('db-1', 'upgrade', 11)];
    await checks(cluster, base);
    expect(titles(await it_.alerts())).toEqual(['MAINTENANCE: node db-1 entered maintenance mode']);
    const delta = (index: number, baseIndex: number, changed: HealthCheckFixture[], removed: Array<{ Node: string; CheckID: string }> = []) =>
      it_.ingest({ ...consulEnvelope('checks', null, { cluster, index: String(index) }), body: goJsonLine({ changed, removed }), delta: true, base: String(baseIndex) });

    // The delta carries only pg: maintenance (not in the delta) is known from the scope.
    expect(await delta(20, 11, [healthCheck({ Node: 'db-1', CheckID: 'pg', ServiceID: 'pg', ServiceName: 'postgres', Status: 'critical', ModifyIndex: 20 })])).toMatchObject({ transitions: 1, alertsPublished: 0 });
    expect(await it_.alerts(800)).toEqual([]);
    // The maintenance check is removed: its notice resolves, and pg's withheld alert fires.
    await delta(25, 20, [], [{ Node: 'db-1', CheckID: '_node_maintenance' }]);
    expect(titles(await it_.alerts())).toEqual([
      "CRITICAL: Service 'web' check (service postgres) on db-1 (still critical after maintenance)",
      'MAINTENANCE: node db-1 left maintenance mode',
    ]);
  });

  it('an expired TTL check alerts as critical with "TTL expired", its Notes and Output', async () => {
    const cluster = newCluster();
    await checks(cluster, [expiredTtlCheck({ Status: 'passing', Output: 'heartbeat ok', ModifyIndex: 10 })]);
    await checks(cluster, [expiredTtlCheck({ ModifyIndex: 20 }, 'heartbeat ok')]);
    const [alert, ...rest] = await it_.alerts();
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ severity: 'critical', kind: 'check', title: 'CRITICAL: worker heartbeat (service worker) on web-1: TTL expired, no update from the service' });
    const details = Object.fromEntries(alert!.details);
    expect(details).toMatchObject({ Type: 'ttl', Notes: 'The worker must PUT /v1/agent/check/pass every 30s', Output: 'TTL expired (last output before timeout follows): heartbeat ok' });
  });
});
