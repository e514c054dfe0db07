/**
 * The Serf handlers through a real DynamoDB-compatible server (DynamoDB Local when
 * Java is present, else dynalite) and SNS/SQS (fauxqs): many agents report one change,
 * one alert comes out.
 */
import { randomUUID } from 'node:crypto';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import type { SourceContext } from '../../lambdas/app/sources';
import { handlerFor } from '../../lambdas/app/sources';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert, Envelope } from '../../lambdas/domain/types';
import { drainQueue, type TestSnsSqs } from '../support/fauxqs';
import { startAlertsStandIns, type AlertsStandIns } from '../support/alerts-stand-ins';
import { memberLine, queryEnvelope, serfEnvelope, userEventEnvelope } from '../support/serf-fixtures';
import { publishUnrouted } from '../support/unrouted-publisher';

let standIns: AlertsStandIns;
let snsSqs: TestSnsSqs;
let ctx: SourceContext;
let queueUrl: string;
const TABLE = 'tocsin-it-serf';

beforeAll(async () => {
  standIns = await startAlertsStandIns(TABLE, 'it-serf');
  ({ snsSqs, queueUrl } = standIns);
  const { doc, topicArn } = standIns;
  ctx = {
    subjects: new DynamoSubjectStore(doc, TABLE),
    scopes: new DynamoScopeStore(doc, TABLE),
    publisher: publishUnrouted(new SnsAlertPublisher(snsSqs.sns, topicArn)),
    checkPolicy: defaultCheckPolicy,
    clock: { nowMs: () => Date.now() },
  };
}, 120000);

afterAll(async () => {
  await standIns?.stop();
});

const newCluster = () => `s-${randomUUID().slice(0, 8)}`;

async function ingest(envelope: Envelope) {
  const handler = handlerFor('serf', envelope.type);
  if (!handler) throw new Error(`no handler for serf/${envelope.type}`);
  return handler(envelope, ctx);
}

async function alerts(waitMs = 1500): Promise<Alert[]> {
  return (await drainQueue(snsSqs.sqs, queueUrl, waitMs)).map((n) => alertFromNotification(n.message));
}

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const SURVIVORS = ['serf-a', 'serf-b', 'serf-c', 'serf-d', 'serf-e'];

describe(`Serf events (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('member-failed reported by every survivor at once yields one critical alert', async () => {
    const cluster = newCluster();
    const victim = memberLine('serf-x', '127.0.0.20', { role: 'db', dc: 'eu' });
    await ingest(serfEnvelope({ cluster, type: 'member-join', reporter: 'serf-x', body: victim, sentAt: ago(60_000) }));
    expect((await alerts()).map((a) => a.title)).toEqual(['INFO: member serf-x joined (127.0.0.20)']);

    const results = await Promise.all(
      SURVIVORS.map((reporter, i) => ingest(serfEnvelope({ cluster, type: 'member-failed', reporter, body: victim, sentAt: ago(5000 - i * 100) }))),
    );
    expect(results.reduce((n, r) => n + r.transitions, 0)).toBe(1);
    expect(results.every((r) => r.unsettled === 0 && r.rejected.length === 0)).toBe(true);
    const fired = await alerts();
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ cluster, kind: 'member', node: 'serf-x', severity: 'critical', state: 'firing', from: 'alive', to: 'failed' });

    // A redelivery, and a slow agent's late member-join from before the failure: nothing.
    await ingest(serfEnvelope({ cluster, type: 'member-failed', reporter: 'serf-a', body: victim }));
    await ingest(serfEnvelope({ cluster, type: 'member-join', reporter: 'serf-slow', body: victim }));
    expect(await alerts()).toEqual([]);

    // The member's agent restarts and reports itself: resolved, once, however many report it.
    await Promise.all(['serf-x', 'serf-a', 'serf-b'].map((reporter) => ingest(serfEnvelope({ cluster, type: 'member-join', reporter, body: victim }))));
    const back = await alerts();
    expect(back.map((a) => [a.severity, a.state, a.from, a.to])).toEqual([['info', 'resolved', 'failed', 'alive']]);
  });

  it('member-update repeats (and tag order changes) yield one update alert', async () => {
    const cluster = newCluster();
    await ingest(serfEnvelope({ cluster, type: 'member-join', reporter: 'serf-y', body: memberLine('serf-y', '::1', { role: 'web', v: '1' }) }));
    await alerts();
    const orders = [
      { role: 'web', v: '2', zone: 'a,b' },
      { zone: 'a,b', role: 'web', v: '2' },
      { v: '2', zone: 'a,b', role: 'web' },
    ];
    const results = [];
    for (let round = 0; round < 2; round++) {
      results.push(
        ...(await Promise.all(
          SURVIVORS.slice(0, 3).map((reporter, i) => ingest(serfEnvelope({ cluster, type: 'member-update', reporter, body: memberLine('serf-y', '::1', orders[i]!) }))),
        )),
      );
    }
    expect(results.reduce((n, r) => n + r.transitions, 0)).toBe(1);
    const got = await alerts();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ node: 'serf-y', severity: 'info', title: 'INFO: member serf-y was updated (::1)' });
    expect(Object.fromEntries(got[0]!.details).Changes).toBe('~ v: 1 -> 2\n+ zone=a,b');
  });

  it('several members in one invocation, joined by every agent: one alert per member', async () => {
    const cluster = newCluster();
    const names = ['m1', 'm2', 'm3'];
    const body = names.map((n, i) => memberLine(n, `127.0.0.${31 + i}`, i === 2 ? {} : { role: 'app' })).join('');
    await Promise.all(names.map((reporter) => ingest(serfEnvelope({ cluster, type: 'member-join', reporter, body }))));
    const got = await alerts();
    expect(got.map((a) => a.node).sort()).toEqual(names);
    expect(got.every((a) => a.severity === 'info' && a.state === 'firing')).toBe(true);
  });

  it('a user event reported by 3 members yields one alert', async () => {
    const cluster = newCluster();
    const results = await Promise.all(['a', 'b', 'c'].map((r) => ingest(userEventEnvelope(cluster, r, 'deploy', 41, 'v1.2.3\n'))));
    expect(results.reduce((n, r) => n + r.alertsPublished, 0)).toBe(1);
    const got = await alerts();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'user-event', severity: 'info', title: 'INFO: Serf user event "deploy" (LTime 41)' });
    expect(Object.fromEntries(got[0]!.details).Payload).toBe('v1.2.3');
    // Redelivered later (e.g. from a spool): still nothing new.
    await ingest(userEventEnvelope(cluster, 'd', 'deploy', 41, 'v1.2.3\n'));
    expect(await alerts(1000)).toEqual([]);
  });

  it('binary and empty payloads', async () => {
    const cluster = newCluster();
    const binary = Buffer.from([0xde, 0xad, 0x00, 0xbe, 0xef, 0x0a]);
    await Promise.all(['a', 'b'].map((r) => ingest(userEventEnvelope(cluster, r, 'blob', 5, binary))));
    await Promise.all(['a', 'b'].map((r) => ingest(userEventEnvelope(cluster, r, 'ping', 6, ''))));
    const got = await alerts();
    const payloads = Object.fromEntries(got.map((a) => [Object.fromEntries(a.details).Event, Object.fromEntries(a.details).Payload]));
    expect(payloads).toEqual({ blob: `(binary, 6 bytes) base64:${binary.toString('base64')}`, ping: '(empty)' });
  });

  it('an older LTime inside Serf\'s window is an event of its own; names share the clock', async () => {
    const cluster = newCluster();
    await ingest(userEventEnvelope(cluster, 'a', 'rollout', 2000));
    await ingest(userEventEnvelope(cluster, 'a', 'rollout', 1999)); // coalesced away on other agents: still an event
    await ingest(userEventEnvelope(cluster, 'b', 'other', 1600)); // another name, behind by less than 512
    expect((await alerts()).map((a) => Object.fromEntries(a.details).LTime).sort()).toEqual(['1600', '1999', '2000']);
    await ingest(userEventEnvelope(cluster, 'c', 'rollout', 1999));
    expect(await alerts(800)).toEqual([]);
  });

  it('the clock restarts (every agent restarted without a snapshot): LTimes 2 and 3 after 10,000 alert once each; replays stay no-ops', async () => {
    const cluster = newCluster();
    const agents = ['serf-a', 'serf-b', 'serf-c'];
    // Before the restart: LTime 10,000, handled by every agent a minute ago.
    await Promise.all(agents.map((r) => ingest(userEventEnvelope(cluster, r, 'deploy', 10000, 'web v41\n', ago(60_000)))));
    expect((await alerts()).map((a) => a.title)).toEqual(['INFO: Serf user event "deploy" (LTime 10000)']);

    // After it: two events, each reported by every agent at once (one of them twice, a shim retry).
    const after = await Promise.all([
      ...agents.map((r) => ingest(userEventEnvelope(cluster, r, 'deploy', 2, 'web v42\n', ago(2000)))),
      ...agents.map((r) => ingest(userEventEnvelope(cluster, r, 'deploy', 3, 'web v43\n', ago(1000)))),
      ingest(userEventEnvelope(cluster, 'serf-b', 'deploy', 3, 'web v43\n', ago(1000))),
    ]);
    expect(after.every((r) => r.unsettled === 0)).toBe(true);
    expect(after.reduce((n, r) => n + r.transitions, 0)).toBe(2);
    // The restart is said once, loudly (the API logs SourceResult.warnings).
    expect(after.flatMap((r) => r.warnings ?? []).filter((w) => w.includes('clock restarted'))).toHaveLength(1);
    const got = await alerts();
    expect(got.map((a) => a.title).sort()).toEqual(['INFO: Serf user event "deploy" (LTime 2)', 'INFO: Serf user event "deploy" (LTime 3)']);
    // The reports race: whichever of LTime 2 and 3 is handled first reveals the restart, and
    // only that one says so.
    const clocks = got.map((a) => Object.fromEntries(a.details).Clock).filter((c) => c !== undefined);
    expect(clocks).toHaveLength(1);
    expect(clocks[0]).toMatch(/^Serf's user event clock restarted: LTime [23] came after 10000 \(every agent restarted without a snapshot\)$/);

    // Replays stay no-ops: a node joining with -replay (LTimes 2 and 3 again), a spooled
    // envelope from before the restart (LTime 10,000, its old sentAt), the old event with
    // its old payload never shows up again from an agent of the new clock.
    await ingest(userEventEnvelope(cluster, 'serf-d', 'deploy', 2, 'web v42\n'));
    await ingest(userEventEnvelope(cluster, 'serf-d', 'deploy', 3, 'web v43\n'));
    await ingest(userEventEnvelope(cluster, 'serf-c', 'deploy', 10000, 'web v41\n', ago(59_000)));
    expect(await alerts(1000)).toEqual([]);

    // The new clock goes on; an event equal in name, LTime and payload to one of the old clock is new.
    await ingest(userEventEnvelope(cluster, 'serf-a', 'deploy', 4, 'web v44\n'));
    expect((await alerts()).map((a) => Object.fromEntries(a.details).LTime)).toEqual(['4']);
  });

  it('queries have their own clock, and it restarts too', async () => {
    const cluster = newCluster();
    await ingest({ ...queryEnvelope(cluster, 'a', 'uptime', 700), sentAt: ago(60_000) });
    // The event clock is another clock: LTime 5 there restarts nothing.
    expect((await ingest(userEventEnvelope(cluster, 'a', 'deploy', 5))).warnings).toBeUndefined();
    expect(await alerts()).toHaveLength(2);
    const restarted = await ingest(queryEnvelope(cluster, 'b', 'uptime', 1));
    expect(restarted).toMatchObject({ transitions: 1, warnings: [expect.stringContaining('Serf query clock restarted')] });
    expect((await alerts()).map((a) => [a.kind, Object.fromEntries(a.details).LTime])).toEqual([['query', '1']]);
  });

  it('a query is recorded once per (name, LTime)', async () => {
    const cluster = newCluster();
    await Promise.all(['a', 'b', 'c'].map((r) => ingest(queryEnvelope(cluster, r, 'uptime', 8, 'now?'))));
    const got = await alerts();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ kind: 'query', severity: 'info', title: 'INFO: Serf query "uptime" (LTime 8)' });
  });

  it('a user event without its name is refused as bad input', async () => {
    const envelope = userEventEnvelope(newCluster(), 'a', 'x', 1);
    delete envelope.env!.SERF_USER_EVENT;
    await expect(ingest(envelope)).rejects.toThrow(/SERF_USER_EVENT/);
  });
});
