/**
 * End to end with REAL Serf agents: three `serf agent` processes on 127.0.0.11-13, each
 * with the bundled shim as its event handler, against `npm start`'s pipeline. Alerts
 * are read from an SQS queue subscribed to the alerts topic.
 *
 * Expected: one join alert per member (although every agent reports every join, and
 * each node reports its own), one alert for a user event (every agent runs its handler),
 * and one alert when an agent is SIGKILLed (every survivor reports it): its node's incident,
 * NODE DOWN, into which the member-failed alert folds (README "Node down as one incident").
 *
 * Needs the `serf` binary (Debian: apt-get install serf; CI installs it). Without it the
 * suite is skipped, loudly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { ensureBuilt, queued } from '../shim/helpers';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { NotificationLog } from '../support/notifications';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { handled, SERF, SERF_MISSING, SERF_VERSION, serfCli, startSerfAgent, stopChild, type SerfAgent } from '../support/serf-agents';

if (SERF_MISSING) {
  // Visible in the jest output; the tests below show as skipped, not passed.
  console.warn(`SKIPPING test/e2e/serf.test.ts: the "${SERF}" binary was not found (apt-get install -y serf, or set TOCSIN_SERF_BIN)`);
}
const describeSerf = SERF_MISSING ? describe.skip : describe;

let dynamo: TestDynamo | undefined;
let pipeline: LocalPipeline | undefined;
let notifications: NotificationLog;
let workDir: string;
const agents: SerfAgent[] = [];
/** Every alert received so far, in arrival order. */
const alerts: Alert[] = [];


async function pump(ms: number): Promise<void> {
  for (const n of await notifications.drain(ms)) alerts.push(alertFromNotification(n.message));
}

/** Pumps the queue (collecting alerts) until `done` holds; throws with the agents' logs on timeout. */
async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}\nalerts so far: ${JSON.stringify(alerts.map((a) => a.title))}\n` +
          agents.map((a) => `--- ${a.name} log (tail) ---\n${a.log().slice(-3000)}`).join('\n'),
      );
    }
    await pump(1000);
  }
}

async function startAgent(name: string, ip: string): Promise<SerfAgent> {
  const agent = await startSerfAgent({ name, ip, pipeline: pipeline as LocalPipeline, workDir });
  agents.push(agent);
  return agent;
}

const joins = () => alerts.filter((a) => a.kind === 'member' && a.to === 'alive');
const failures = () => alerts.filter((a) => (a.kind === 'member' && a.to === 'failed') || (a.kind === 'node' && a.to === 'down'));
const userEvents = () => alerts.filter((a) => a.kind === 'user-event');

describeSerf(`real Serf agents (${SERF_VERSION}) -> shim -> local pipeline -> SNS`, () => {
  beforeAll(async () => {
    ensureBuilt();
    workDir = mkdtempSync(join(tmpdir(), 'tocsin-e2e-serf-'));
    dynamo = await startTestDynamo();
    pipeline = await startLocalPipeline({ args: ['--dynamodb-endpoint', dynamo.endpoint], dataDir: join(workDir, 'data') });
    notifications = NotificationLog.of(pipeline.dataDir);
  }, 120000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => stopChild(a.child)));
    const code = await pipeline?.stop();
    await dynamo?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 60000);

  it('three agents join: exactly one join alert per member', async () => {
    const [a, b, c] = [await startAgent('serf-a', '127.0.0.11'), await startAgent('serf-b', '127.0.0.12'), await startAgent('serf-c', '127.0.0.13')];
    expect(serfCli(['join', `-rpc-addr=${b!.rpc}`, a!.bind])).toMatchObject({ ok: true });
    expect(serfCli(['join', `-rpc-addr=${c!.rpc}`, a!.bind])).toMatchObject({ ok: true });
    await until('3 members alive on every agent', () => agents.every((x) => (serfCli(['members', `-rpc-addr=${x.rpc}`, '-status=alive']).out.match(/\balive\b/g) ?? []).length === 3), 30000);
    // Every agent reports itself and the two others: 9 reports (some coalesced), 3 alerts.
    await until('one join alert per member', () => joins().length >= 3, 60000);
    await until('every agent to have handled joins for all members', () => agents.every((x) => handled(x, 'member-join') >= 1) && joins().length >= 3, 30000);
    await pump(3000); // room for a wrong duplicate to show up
    expect(joins().map((j) => j.node).sort()).toEqual(['serf-a', 'serf-b', 'serf-c']);
    expect(joins().every((j) => j.severity === 'info' && j.state === 'firing' && j.source === 'serf')).toBe(true);
    expect(joins().find((j) => j.node === 'serf-b')?.title).toBe('INFO: member serf-b joined (127.0.0.12)');
  }, 150000);

  it('a user event, handled by all three agents: one alert', async () => {
    const fire = serfCli(['event', `-rpc-addr=${agents[0]!.rpc}`, 'deploy', 'web v42']);
    expect(fire).toMatchObject({ ok: true });
    await until('every agent to run its user-event handler', () => agents.every((x) => handled(x, 'user') >= 1), 30000);
    await until('the user-event alert', () => userEvents().length >= 1, 20000);
    await pump(3000);
    expect(userEvents()).toHaveLength(1);
    expect(userEvents()[0]).toMatchObject({ kind: 'user-event', severity: 'info', title: expect.stringMatching(/^INFO: Serf user event "deploy" \(LTime \d+\)$/) });
    expect(Object.fromEntries(userEvents()[0]!.details).Payload).toBe('web v42');
  }, 90000);

  it('SIGKILL one agent: every survivor reports member-failed, one critical alert (its node down)', async () => {
    const victim = agents[2]!;
    const survivors = agents.slice(0, 2);
    await stopChild(victim.child, 'SIGKILL');
    // Serf's failure detection (probe, suspicion, gossip) plus the 3 s coalescing window.
    await until('member-failed handled by both survivors', () => survivors.every((s) => handled(s, 'member-failed') >= 1), 90000);
    await until('the failure alert', () => failures().length >= 1, 20000);
    await pump(5000);
    expect(failures()).toHaveLength(1);
    expect(failures()[0]).toMatchObject({ node: 'serf-c', kind: 'node', source: 'tocsin', severity: 'critical', state: 'firing', from: 'up', to: 'down', title: 'NODE DOWN: serf-c' });
    expect(Object.fromEntries(failures()[0]!.details)['Reported by']).toMatch(/^Serf: member-failed reported by serf-(a|b)$/);

    // Nothing else happened: 3 joins, 1 user event, 1 failure; and nothing is left in a spool.
    expect(alerts.map((x) => `${x.kind}:${x.node}:${x.to}`).sort()).toEqual(['member:serf-a:alive', 'member:serf-b:alive', 'member:serf-c:alive', 'node:serf-c:down', 'user-event:-:received']);
    for (const s of survivors) {
      expect(queued(s.spool)).toEqual([]);
      expect(queued(join(s.spool, 'rejected'))).toEqual([]);
      expect(s.log()).not.toContain('Error invoking script');
    }
  }, 150000);
});

if (SERF_MISSING) {
  it.skip(`real Serf agents: SKIPPED, "${SERF}" binary not found`, () => undefined);
}
