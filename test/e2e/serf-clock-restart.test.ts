/**
 * End to end with REAL Serf agents: a cluster whose every agent restarts without a
 * snapshot, so that its Lamport clocks start again at 1 (docs/serf.md "Lamport clocks").
 * Three `serf agent` processes on 127.0.0.21-23, the bundled shim as their event handler,
 * against `npm start`'s pipeline; alerts read from a queue subscribed to the alerts topic.
 *
 * First life: the agents run with a snapshot seeded with `event-clock: 9999` and
 * `query-clock: 9999` (Serf restores its clocks from it), so the first user event and the
 * first query carry LTime 10,000, as in a cluster that has been up for a while. serf-c
 * then dies (one critical), and serf-a and serf-b are killed with it gone: the whole
 * cluster is down. Second life: all three start again WITHOUT a snapshot and rejoin; the
 * next events carry LTimes 1 and 2 and the next query LTime 1. Each must alert exactly
 * once (before issue 11 they were dropped as stale: `transitions: 0`). A fourth agent
 * then joins with `-replay` and Serf replays the new events to its handler: no alert.
 * The member events of the restart: serf-c's rejoin resolves its failure, once.
 *
 * Needs the `serf` binary (Debian: apt-get install serf; CI installs it). Without it the
 * suite is skipped, loudly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert } from '../../lambdas/domain/types';
import { ensureBuilt, queued } from '../shim/helpers';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { NotificationLog } from '../support/notifications';
import { startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { SERF, SERF_MISSING, SERF_VERSION, aliveMembers, handled, serfCli, startSerfAgent, stopChild, type SerfAgent } from '../support/serf-agents';

if (SERF_MISSING) {
  console.warn(`SKIPPING test/e2e/serf-clock-restart.test.ts: the "${SERF}" binary was not found (apt-get install -y serf, or set TOCSIN_SERF_BIN)`);
}
const describeSerf = SERF_MISSING ? describe.skip : describe;

let dynamo: TestDynamo | undefined;
let pipeline: LocalPipeline | undefined;
let notifications: NotificationLog;
let workDir: string;
/** Agents of the current life, by name. */
const agents = new Map<string, SerfAgent>();
const everyAgent: SerfAgent[] = [];
const alerts: Alert[] = [];
const IPS: Record<string, string> = { 'serf-a': '127.0.0.21', 'serf-b': '127.0.0.22', 'serf-c': '127.0.0.23', 'serf-d': '127.0.0.24' };

async function pump(ms: number): Promise<void> {
  for (const n of await notifications.drain(ms)) alerts.push(alertFromNotification(n.message));
}

async function until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${what}\nalerts so far: ${JSON.stringify(alerts.map((a) => a.title))}\n` +
          [...agents.values()].map((a) => `--- ${a.name} log (tail) ---\n${a.log().slice(-3000)}`).join('\n') +
          `\n--- pipeline log (tail) ---\n${pipeline?.logs().slice(-3000)}`,
      );
    }
    await pump(1000);
  }
}

async function start(name: string, args: string[] = []): Promise<SerfAgent> {
  const agent = await startSerfAgent({ name, ip: IPS[name]!, pipeline: pipeline!, workDir, args });
  agents.set(name, agent);
  everyAgent.push(agent);
  return agent;
}

function joinAll(names: string[], replay = false): void {
  const seed = agents.get(names[0]!)!;
  for (const name of names.slice(1)) {
    expect(serfCli(['join', ...(replay ? ['-replay'] : []), `-rpc-addr=${agents.get(name)!.rpc}`, seed.bind])).toMatchObject({ ok: true });
  }
}

const a = () => agents.get('serf-a')!;
const userEvents = () => alerts.filter((x) => x.kind === 'user-event');
const queries = () => alerts.filter((x) => x.kind === 'query');
const ltimes = (list: Alert[]) => list.map((x) => Object.fromEntries(x.details).LTime);
const members = () => alerts.filter((x) => x.kind === 'member');
/** A failed member is its node down, one incident (README "Node down as one incident"): its member-failed and rejoin fold into it. */
const nodes = () => alerts.filter((x) => x.kind === 'node');
/** Handler runs for `event` across the agents of the current life. */
const handledBy = (event: string, names: string[]) => names.every((n) => handled(agents.get(n)!, event) >= 1);

/** `serf event` without coalescing, so that every agent's handler sees every event. */
function fire(name: string, payload: string): void {
  expect(serfCli(['event', `-rpc-addr=${a().rpc}`, '-coalesce=false', name, payload])).toMatchObject({ ok: true });
}

function query(name: string): void {
  expect(serfCli(['query', `-rpc-addr=${a().rpc}`, '-timeout=5s', name, 'now?'])).toMatchObject({ ok: true });
}

describeSerf(`real Serf agents (${SERF_VERSION}): every agent restarts without a snapshot`, () => {
  beforeAll(async () => {
    ensureBuilt();
    workDir = mkdtempSync(join(tmpdir(), 'tocsin-e2e-serf-clock-'));
    dynamo = await startTestDynamo();
    pipeline = await startLocalPipeline({ args: ['--dynamodb-endpoint', dynamo.endpoint], dataDir: join(workDir, 'data') });
    notifications = NotificationLog.of(pipeline.dataDir);
  }, 120000);

  afterAll(async () => {
    await Promise.all(everyAgent.map((x) => stopChild(x.child)));
    const code = await pipeline?.stop();
    await dynamo?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
    expect(code).toBe(0);
  }, 60000);

  it('first life: clocks restored from a snapshot at 10,000; one event and one query at LTime 10,000; serf-c dies', async () => {
    const names = ['serf-a', 'serf-b', 'serf-c'];
    for (const name of names) {
      const snapshot = join(workDir, `${name}.snapshot`);
      writeFileSync(snapshot, 'event-clock: 9999\nquery-clock: 9999\n');
      await start(name, [`-snapshot=${snapshot}`]);
    }
    joinAll(names);
    await until('3 members alive on every agent', () => names.every((n) => aliveMembers(agents.get(n)!) === 3), 30000);
    await until('one join alert per member', () => members().length >= 3, 60000);

    fire('deploy', 'web v41');
    await until('every agent to run its user-event handler', () => handledBy('user', names), 30000);
    query('uptime');
    await until('every agent to run its query handler', () => handledBy('query', names), 30000);
    await until('the event and query alerts', () => userEvents().length >= 1 && queries().length >= 1, 20000);
    expect(ltimes(userEvents())).toEqual(['10000']);
    expect(ltimes(queries())).toEqual(['10000']);

    await stopChild(agents.get('serf-c')!.child, 'SIGKILL');
    await until('the NODE DOWN alert for serf-c', () => nodes().some((x) => x.node === 'serf-c' && x.to === 'down'), 90000);
  }, 240000);

  it('the whole cluster goes down and comes back without snapshots: LTimes 1 and 2 alert once each, the query at LTime 1 too', async () => {
    // serf-a and serf-b go down together (a power cut): neither lives to report the other.
    await Promise.all(['serf-a', 'serf-b'].map((n) => stopChild(agents.get(n)!.child, 'SIGKILL')));
    agents.clear();
    const names = ['serf-a', 'serf-b', 'serf-c'];
    for (const name of names) await start(name);
    joinAll(names);
    await until('3 members alive on every agent', () => names.every((n) => aliveMembers(agents.get(n)!) === 3), 30000);
    await until("serf-c's rejoin (its node back)", () => nodes().some((x) => x.node === 'serf-c' && x.state === 'resolved'), 60000);

    fire('deploy', 'web v42');
    await until('every agent to run the first new event', () => handledBy('user', names), 30000);
    fire('deploy', 'web v43');
    await until('every agent to run the second', () => names.every((n) => handled(agents.get(n)!, 'user') >= 2), 30000);
    query('uptime');
    await until('every agent to run its query handler', () => handledBy('query', names), 30000);
    await until('the new alerts', () => userEvents().length >= 3 && queries().length >= 2, 30000);
    await pump(3000); // room for a wrong duplicate to show up
    expect(ltimes(userEvents())).toEqual(['10000', '1', '2']);
    expect(ltimes(queries())).toEqual(['10000', '1']);
    expect(userEvents().map((x) => Object.fromEntries(x.details).Payload)).toEqual(['web v41', 'web v42', 'web v43']);
    expect(Object.fromEntries(userEvents()[1]!.details).Clock).toBe(
      "Serf's user event clock restarted: LTime 1 came after 10000 (every agent restarted without a snapshot)",
    );
    // Said once per clock in the API's log, loudly.
    const restarts = pipeline!.logs().split('\n').filter((l) => l.includes('"input warning"') && l.includes('clock restarted'));
    expect(restarts).toHaveLength(2);
  }, 240000);

  it('a fourth agent joins with -replay: Serf replays the new events to its handler, nothing alerts', async () => {
    const d = await start('serf-d');
    joinAll(['serf-a', 'serf-d'], true);
    // Serf hands d the events still in its peers' buffers (LTimes 1 and 2).
    await until('serf-d to run its handler for the replayed events', () => handled(d, 'user') >= 2, 30000);
    await until("serf-d's join alert", () => members().some((x) => x.node === 'serf-d'), 30000);
    await pump(4000);

    expect(alerts.map((x) => `${x.kind}:${x.node}:${x.state}:${x.to}:${Object.fromEntries(x.details).LTime ?? ''}`).sort()).toEqual([
      'member:serf-a:firing:alive:',
      'member:serf-b:firing:alive:',
      'member:serf-c:firing:alive:',
      'member:serf-d:firing:alive:',
      'node:serf-c:firing:down:',
      'node:serf-c:resolved:up:',
      'query:-:firing:received:1',
      'query:-:firing:received:10000',
      'user-event:-:firing:received:1',
      'user-event:-:firing:received:10000',
      'user-event:-:firing:received:2',
    ]);
    for (const x of agents.values()) {
      expect(queued(x.spool)).toEqual([]);
      expect(queued(join(x.spool, 'rejected'))).toEqual([]);
      expect(x.log()).not.toContain('Error invoking script');
    }
  }, 120000);
});

if (SERF_MISSING) {
  it.skip(`real Serf agents: SKIPPED, "${SERF}" binary not found`, () => undefined);
}
