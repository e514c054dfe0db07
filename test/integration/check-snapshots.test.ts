/**
 * The snapshot processor through a real DynamoDB-compatible server (DynamoDB Local
 * when Java is present, else dynalite) and SNS/SQS (fauxqs).
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { processCheckSnapshot, type SnapshotDeps } from '../../lambdas/app/sources/check-snapshots';
import type { OutboxPublisher } from '../../lambdas/app/ports';
import { normalizeChecks } from '../../lambdas/domain/consul/checks';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { AWAITED_PUBLISH_WAIT_MS, drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';
import { healthCheck, largeSnapshot, type HealthCheckFixture } from '../support/consul-fixtures';
import { publishUnrouted } from '../support/unrouted-publisher';

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let deps: SnapshotDeps;
let queueUrl: string;
const TABLE = 'tocsin-it-checks';

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'it');
  ({ snsSqs, queueUrl } = standIns);
  const { doc, topicArn } = standIns;
  const publisher = publishUnrouted(new SnsAlertPublisher(snsSqs.sns, topicArn));
  deps = { subjects: new DynamoSubjectStore(doc, TABLE), scopes: new DynamoScopeStore(doc, TABLE), publisher, policy: defaultCheckPolicy, clock: { nowMs: () => Date.now() } };
}, 120000);

afterAll(async () => {
  await standIns?.stop();
});

/** Each test gets its own cluster so state does not leak between them. */
const newCluster = () => `c-${randomUUID().slice(0, 8)}`;
const run = (cluster: string, checks: HealthCheckFixture[], extra: Partial<SnapshotDeps> = {}, snapshotIndex?: number) =>
  processCheckSnapshot({ ...deps, ...extra }, {
    cluster,
    scope: 'checks',
    observations: normalizeChecks(checks).observations,
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
  });

async function alerts(sqs: SQSClient, waitMs = AWAITED_PUBLISH_WAIT_MS): Promise<Array<{ alert: Alert; attributes: Record<string, string> }>> {
  const got = await drainQueue(sqs, queueUrl, waitMs);
  return got.map((n) => ({
    alert: alertFromNotification(n.message),
    attributes: Object.fromEntries(Object.entries(n.attributes).map(([k, v]) => [k, v.Value])),
  }));
}

describe(`check snapshots (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('alerts once per change, across repeats and concurrent agents, then resolves', async () => {
    const cluster = newCluster();
    const passing = [healthCheck({ CheckID: 'a', ModifyIndex: 10 }), healthCheck({ CheckID: 'b', ModifyIndex: 11 })];
    expect((await run(cluster, passing)).alertsPublished).toBe(0);

    const critical = [healthCheck({ CheckID: 'a', Status: 'critical', Output: 'down', ModifyIndex: 20 }), passing[1]!];
    const first = await run(cluster, critical);
    expect(first).toMatchObject({ transitions: 1, alertsPublished: 1, unsettled: 0 });
    const [fired, ...more] = await alerts(snsSqs.sqs);
    expect(more).toEqual([]);
    expect(fired?.alert).toMatchObject({ cluster, severity: 'critical', state: 'firing', node: 'web-1', check: 'a', from: 'passing', to: 'critical' });
    expect(fired?.attributes).toEqual({ severity: 'critical', cluster, node: 'web-1', service: 'web', check: 'a', kind: 'check' });

    // The same snapshot again, and from five agents at once: nothing new.
    await run(cluster, critical);
    const again = await Promise.all(Array.from({ length: 5 }, () => run(cluster, critical)));
    expect(again.every((r) => r.unsettled === 0)).toBe(true);
    expect(await alerts(snsSqs.sqs)).toEqual([]);

    const recovered = [healthCheck({ CheckID: 'a', ModifyIndex: 30 }), passing[1]!];
    await run(cluster, recovered);
    const resolved = await alerts(snsSqs.sqs);
    expect(resolved.map((r) => `${r.alert.state}/${r.alert.from}->${r.alert.to}`)).toEqual(['resolved/critical->passing']);
  });

  it('five agents reporting a new change at the same moment yield one alert', async () => {
    const cluster = newCluster();
    await run(cluster, [healthCheck({ CheckID: 'x', ModifyIndex: 5 })]);
    const snapshot = [healthCheck({ CheckID: 'x', Status: 'warning', ModifyIndex: 9 })];
    const results = await Promise.all(Array.from({ length: 5 }, () => run(cluster, snapshot)));
    expect(results.reduce((n, r) => n + r.transitions, 0)).toBe(1);
    expect(results.every((r) => r.unsettled === 0)).toBe(true);
    expect((await alerts(snsSqs.sqs)).map((a) => a.alert.severity)).toEqual(['warning']);
  });

  it('ignores a stale snapshot that arrives after a newer one', async () => {
    const cluster = newCluster();
    await run(cluster, [healthCheck({ CheckID: 's', Status: 'critical', ModifyIndex: 50 })]);
    await run(cluster, [healthCheck({ CheckID: 's', Status: 'passing', ModifyIndex: 60 })]);
    expect(await alerts(snsSqs.sqs)).toHaveLength(2);
    // A lagging agent delivers the old critical view.
    const stale = await run(cluster, [healthCheck({ CheckID: 's', Status: 'critical', ModifyIndex: 50 })]);
    expect(stale.transitions).toBe(0);
    expect(await alerts(snsSqs.sqs)).toEqual([]);
  });

  it('keeps an alert whose publish failed, and the retry publishes it exactly once', async () => {
    const cluster = newCluster();
    const failing: OutboxPublisher = { dispatch: async () => Promise.reject(new Error('SNS unavailable')) };
    const snapshot = [healthCheck({ CheckID: 'f', Status: 'critical', ModifyIndex: 7 })];
    const failed = await run(cluster, snapshot, { publisher: failing, leaseMs: 0 });
    expect(failed).toMatchObject({ transitions: 1, alertsPublished: 0, unsettled: 1 });
    expect(failed.errors.join()).toContain('SNS unavailable');
    expect(await alerts(snsSqs.sqs, 1000)).toEqual([]);

    // The retry (any agent's next delivery of the scope) finishes the job once.
    const retried = await Promise.all([run(cluster, snapshot), run(cluster, snapshot), run(cluster, snapshot)]);
    expect(retried.reduce((n, r) => n + r.alertsPublished, 0)).toBe(1);
    expect(retried.every((r) => r.unsettled === 0)).toBe(true);
    const delivered = await alerts(snsSqs.sqs);
    expect(delivered.map((d) => d.alert.to)).toEqual(['critical']);
    expect((await run(cluster, snapshot)).alertsPublished).toBe(0);
    expect(await alerts(snsSqs.sqs, 1000)).toEqual([]);
  });

  it('resolves a non-passing check that disappears from the watch', async () => {
    const cluster = newCluster();
    const keep = healthCheck({ CheckID: 'keep', ModifyIndex: 3 });
    await run(cluster, [keep, healthCheck({ CheckID: 'gone', Status: 'critical', ModifyIndex: 4 })], {}, 4);
    expect(await alerts(snsSqs.sqs)).toHaveLength(1);
    const result = await run(cluster, [keep], {}, 8);
    expect(result.transitions).toBe(1);
    const [resolved] = await alerts(snsSqs.sqs);
    expect(resolved?.alert).toMatchObject({ state: 'resolved', check: 'gone', to: 'removed' });
  });

  it('examines only what changed in a steady 2,000-check snapshot', async () => {
    const cluster = newCluster();
    const snapshot = largeSnapshot(2000);
    const first = await run(cluster, snapshot);
    expect(first.examined).toBe(2000);
    expect(first.alertsPublished).toBe(0);
    const changed = snapshot.map((c, i) => (i === 1234 ? { ...c, Status: 'critical', ModifyIndex: 500 } : c));
    const second = await run(cluster, changed);
    expect(second).toMatchObject({ examined: 1, transitions: 1, alertsPublished: 1 });
    const [only, ...rest] = await alerts(snsSqs.sqs);
    expect(rest).toEqual([]);
    expect(only?.alert).toMatchObject({ node: 'node-123', check: 'service:svc-4', severity: 'critical' });
  }, 120000);
});
