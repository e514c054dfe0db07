/**
 * Node down as one incident and service impact (issue 15), through the composition root on
 * the DynamoDB adapters against a DynamoDB-compatible server: Consul `service` and `checks`
 * watch bodies and Serf member events as the shim delivers them (several agents, repeats),
 * the registered source handlers, rules, the built-in inhibition, alerts to a channel
 * publisher that records what it is handed. The clock is ours.
 */
import { randomUUID } from 'node:crypto';
import { createApplication } from '../../lambdas/app/application';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { handlerFor } from '../../lambdas/app/sources';
import { normalizeConfig } from '../../lambdas/domain/rules/config';
import type { Alert, Envelope } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { consulEnvelope, healthCheck, serfHealth, serviceEntry, type HealthCheckFixture } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { memberLine, serfEnvelope } from '../support/serf-fixtures';

const TABLE = 'tocsin-it-node-incidents';
let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const { client } = dynamoClients(dynamo.endpoint);
  await ensureStateTable(client, TABLE);
  client.destroy();
}, 120000);

afterAll(async () => {
  await dynamo?.stop();
});

/** Where each service runs: n1 carries web, db and cache. */
const PLACEMENT: Record<string, string[]> = { web: ['n1', 'n2', 'n3'], db: ['n1', 'n2'], cache: ['n1'] };
const instanceId = (service: string, node: string) => `${service}-${node}`;

function cluster(opts: { flapping?: { changes: number; windowSeconds: number; stableSeconds: number } } = {}) {
  const name = `ni-${randomUUID().slice(0, 8)}`;
  let now = Date.now();
  const clock = { nowMs: () => now };
  const { config, issues } = normalizeConfig({
    clusters: [name],
    channels: { pager: { type: 'email' }, chat: { type: 'email' } },
    defaults: { channels: ['chat'] },
    rules: [{ name: 'last-instance', match: { kind: 'service', healthyInstances: { lte: 0 } }, channels: ['pager'] }],
    ...(opts.flapping ? { flapping: opts.flapping } : {}),
  });
  expect(issues).toEqual([]);
  const published: Alert[] = [];
  const { doc } = dynamoClients(dynamo.endpoint);
  const app = createApplication(
    { config },
    awsPorts({
      clients: () => ({ doc }),
      tableName: TABLE,
      alertsTopicArn: 'unused',
      timersQueueUrl: 'unused',
      config,
      clock,
      logger: { info: () => undefined, error: () => undefined },
      silenceCacheMs: 0,
      overrides: { channels: { publish: async (a) => void published.push(a) }, timers: { schedule: async () => undefined }, alertsProbe: { reachable: async () => undefined } },
    }),
  );
  const ingest = async (e: Envelope) => {
    const result = await handlerFor(e.source, e.type)!(e, app.sources);
    expect(result).toMatchObject({ unsettled: 0, rejected: [], errors: [] });
  };
  const iso = () => new Date(now).toISOString();
  /** Node `node`'s serfHealth and the checks of its instances. */
  const checksOf = (node: string, serf: { status: string; index: number }, service: { status?: string; index?: number } = {}): HealthCheckFixture[] => [
    serfHealth(node, { Status: serf.status, Output: serf.status === 'critical' ? 'Agent not live or unreachable' : 'Agent alive and reachable', CreateIndex: 5, ModifyIndex: serf.index }),
    ...Object.entries(PLACEMENT)
      .filter(([, nodes]) => nodes.includes(node))
      .map(([svc]) =>
        healthCheck({ Node: node, CheckID: `service:${instanceId(svc, node)}`, ServiceID: instanceId(svc, node), ServiceName: svc, Status: service.status ?? 'passing', CreateIndex: 6, ModifyIndex: service.index ?? 6 }),
      ),
  ];
  return {
    name,
    app,
    advance: (seconds: number) => void (now += seconds * 1000),
    take: () => published.splice(0),
    /** A `service` watch of `svc`: every instance, its checks (serfHealth included, as Consul lists them). */
    async service(svc: string, index: number, down: readonly string[] = [], nodes = PLACEMENT[svc]!) {
      const entries = nodes.map((node) =>
        serviceEntry(node, instanceId(svc, node), {
          service: { Service: svc },
          checks: [
            serfHealth(node, { Status: down.includes(node) ? 'critical' : 'passing', ModifyIndex: down.includes(node) ? index : 5 }),
            healthCheck({ Node: node, CheckID: `service:${instanceId(svc, node)}`, ServiceID: instanceId(svc, node), ServiceName: svc, ModifyIndex: 6 }),
          ],
        }),
      );
      await ingest(consulEnvelope('service', entries, { cluster: name, scope: svc, index: String(index), sentAt: iso() }));
    },
    /** A whole `checks` list as `agent`'s shim sends it. */
    async checks(index: number, checks: HealthCheckFixture[], agent = 'agent-1') {
      await ingest(consulEnvelope('checks', checks, { cluster: name, scope: 'all', index: String(index), node: agent, sentAt: iso() }));
    },
    /** A `checks` delta (the shim's between whole lists): `changed` since `base`. */
    async delta(index: number, base: number, changed: HealthCheckFixture[], agent = 'agent-1') {
      const e = consulEnvelope('checks', null, { cluster: name, scope: 'all', index: String(index), node: agent, sentAt: iso() });
      await ingest({ ...e, body: JSON.stringify({ changed, removed: [] }), delta: true, base: String(base) });
    },
    async serf(type: string, reporter: string, member: string) {
      await ingest(serfEnvelope({ cluster: name, type, reporter, body: memberLine(member, '10.0.0.1', { role: 'app' }), sentAt: iso() }));
    },
    checksOf,
  };
}

const line = (a: Alert) => `${a.state} ${a.title}`;
const detail = (a: Alert, key: string) => Object.fromEntries(a.details)[key];

describe(`node down as one incident (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('serfHealth critical: one alert listing the 3 services left; its own checks and instances folded (still in the read model); one resolved notice', async () => {
    const c = cluster();
    for (const svc of Object.keys(PLACEMENT)) await c.service(svc, 20);
    const healthy = (index: number) => ['n1', 'n2', 'n3'].flatMap((n) => c.checksOf(n, { status: 'passing', index: 5 })).map((x) => ({ ...x, ModifyIndex: Math.min(x.ModifyIndex, index) }));
    await c.checks(30, healthy(30));
    expect(c.take()).toEqual([]);

    // n1 dies: Consul marks its serfHealth critical; its service checks stay passing. Two agents deliver it, one twice.
    const dead = [...c.checksOf('n1', { status: 'critical', index: 40 }), ...c.checksOf('n2', { status: 'passing', index: 5 }), ...c.checksOf('n3', { status: 'passing', index: 5 })];
    await Promise.all([c.checks(40, dead, 'agent-2'), c.checks(40, dead, 'agent-3')]);
    await c.checks(40, dead, 'agent-2');
    const down = c.take();
    expect(down.map(line)).toEqual(['firing NODE DOWN: n1 (3 service instances)']);
    expect(down[0]).toMatchObject({ kind: 'node', source: 'tocsin', node: 'n1', severity: 'critical', channels: ['chat'] });
    expect(detail(down[0]!, 'Reported by')).toBe('Consul (serfHealth): Agent not live or unreachable');
    expect(detail(down[0]!, 'Services on the node')).toBe(['cache [cache-n1]: 0 of 1 instances left', 'db [db-n1]: 1 of 2 instances left', 'web [web-n1]: 2 of 3 instances left'].join('\n'));

    // Consul's service watches then list n1's instances critical (serfHealth is among their checks),
    // and a check of the node's own fails: all folded, cache's "last instance" page included.
    for (const svc of Object.keys(PLACEMENT)) await c.service(svc, 50, ['n1']);
    await c.checks(55, [...c.checksOf('n1', { status: 'critical', index: 40 }, { status: 'critical', index: 55 }), ...c.checksOf('n2', { status: 'passing', index: 5 }), ...c.checksOf('n3', { status: 'passing', index: 5 })]);
    expect(c.take()).toEqual([]);
    const firing = await c.app.ports.alerts!.listFiring(c.name, 100);
    expect(firing.map((f) => f.subject).sort()).toEqual(
      ['check/n1/serfHealth', 'check/n1/service:cache-n1', 'check/n1/service:db-n1', 'check/n1/service:web-n1', 'instance/n1/cache-n1', 'instance/n1/db-n1', 'instance/n1/web-n1', 'node/n1'].sort(),
    );
    expect(firing.filter((f) => f.subject !== 'node/n1').map((f) => f.silencedBy)).toEqual(Array(7).fill('inhibit~node%2Fn1'));

    // Back: one resolved notice; the folded alerts resolve unheard.
    c.advance(120);
    await c.checks(60, ['n1', 'n2', 'n3'].flatMap((n) => c.checksOf(n, { status: 'passing', index: n === 'n1' ? 60 : 5 }, { index: n === 'n1' ? 60 : 6 })));
    for (const svc of Object.keys(PLACEMENT)) await c.service(svc, 70);
    const back = c.take();
    expect(back.map(line)).toEqual(['resolved RESOLVED: node n1 is back']);
    expect(back[0]).toMatchObject({ kind: 'node', state: 'resolved', to: 'up', from: 'down' });
    expect(await c.app.ports.alerts!.listFiring(c.name, 100)).toEqual([]);
  }, 90000);

  it('Serf member-failed reported by every surviving agent: one incident, the member alert folded; the rejoin: one resolved notice', async () => {
    const c = cluster();
    await c.service('web', 20, [], ['n7', 'n8']);
    await c.serf('member-join', 'n7', 'n7');
    c.take();
    c.advance(10);
    await Promise.all(['n8', 'n9', 'n10'].map((agent) => c.serf('member-failed', agent, 'n7')));
    const down = c.take();
    expect(down.map(line)).toEqual(['firing NODE DOWN: n7 (1 service instance)']);
    expect(detail(down[0]!, 'Reported by')).toMatch(/^Serf: member-failed reported by n(8|9|10)$/);
    expect(detail(down[0]!, 'Services on the node')).toBe('web [web-n7]: 1 of 2 instances left');
    c.advance(60);
    await c.serf('member-join', 'n7', 'n7');
    await c.serf('member-join', 'n8', 'n7');
    expect(c.take().map(line)).toEqual(['resolved RESOLVED: node n7 is back']);
  }, 60000);

  it('both sources report one node: one incident, closed once neither says down; a reap while down closes it', async () => {
    const c = cluster();
    await c.checks(30, c.checksOf('n4', { status: 'passing', index: 5 }));
    await c.serf('member-join', 'n4', 'n4');
    c.take();
    c.advance(5);
    await c.serf('member-failed', 'n5', 'n4');
    await c.checks(40, c.checksOf('n4', { status: 'critical', index: 40 }));
    expect(c.take().map(line)).toEqual(['firing NODE DOWN: n4']);
    c.advance(30);
    await c.checks(50, c.checksOf('n4', { status: 'passing', index: 50 }));
    expect(c.take()).toEqual([]); // Serf still says failed
    await c.serf('member-join', 'n4', 'n4');
    expect(c.take().map(line)).toEqual(['resolved RESOLVED: node n4 is back']);

    c.advance(90); // past Serf's echo guard: a new failure, not a late copy of the old one
    await c.serf('member-failed', 'n5', 'n4');
    expect(c.take().map(line)).toEqual(['firing NODE DOWN: n4']);
    c.advance(30);
    await c.serf('member-reap', 'n5', 'n4');
    expect(c.take().map(line)).toEqual(['resolved RESOLVED: node n4 left the cluster (member-reap reported by n5)']);
  }, 60000);

  it('checks deltas: a check of a node that is down is held by its incident, also when it starts flapping on a recovery; a recovery reads no node record up front', async () => {
    const c = cluster({ flapping: { changes: 4, windowSeconds: 600, stableSeconds: 600 } });
    await c.checks(30, [...c.checksOf('n1', { status: 'passing', index: 5 }), ...c.checksOf('n2', { status: 'passing', index: 5 })]);
    await c.checks(40, [...c.checksOf('n1', { status: 'critical', index: 40 }), ...c.checksOf('n2', { status: 'passing', index: 5 })]);
    expect(c.take().map(line)).toEqual(['firing NODE DOWN: n1']); // no service watch: what it carried is not known
    // The node records each batched read asks for: a delta's (its scope with its checks) and any later one.
    const asked: string[][] = [];
    const subjects = c.app.sources.subjects;
    const scopes = c.app.sources.scopes;
    const getMany = subjects.getMany.bind(subjects);
    const getScopeWith = scopes.getScopeWith!.bind(scopes);
    jest.spyOn(subjects, 'getMany').mockImplementation((cl, keys) => (asked.push(keys), getMany(cl, keys)));
    jest.spyOn(scopes, 'getScopeWith').mockImplementation((cl, scope, keys) => (asked.push([...keys]), getScopeWith(cl, scope, keys)));
    const nodeReads = () => asked.splice(0).map((keys) => keys.filter((k) => k.startsWith('node/')));
    const web = (node: string, Status: string, index: number) =>
      healthCheck({ Node: node, CheckID: `service:${instanceId('web', node)}`, ServiceID: instanceId('web', node), ServiceName: 'web', Status, Output: `${Status} at ${index}`, CreateIndex: 6, ModifyIndex: index });

    // Each node's web check: critical, passing, critical, passing; the fourth change starts flapping (a firing FLAPPING notice).
    let index = 40;
    const round = async (node: string, to: string) => {
      index++;
      await c.delta(index, index - 1, [web(node, to, index)]);
      return c.take().map(line);
    };
    expect(await round('n2', 'critical')).toEqual(["firing CRITICAL: Service 'web' check (service web) on n2"]);
    expect(nodeReads()).toEqual([['node/n2']]);
    expect(await round('n2', 'passing')).toEqual([expect.stringMatching(/^resolved RESOLVED: .* on n2$/)]);
    expect(nodeReads()).toEqual([[]]);
    await round('n2', 'critical');
    // The node up: the FLAPPING notice goes out; the decision that fired read the node record first.
    expect(await round('n2', 'passing')).toEqual([expect.stringMatching(/^firing FLAPPING: /)]);
    expect(nodeReads()).toEqual([['node/n2'], [], ['node/n2']]);

    // n1 is down: every change of its check is held by the incident, the FLAPPING notice on a recovery too.
    expect(await round('n1', 'critical')).toEqual([]);
    expect(nodeReads()).toEqual([['node/n1']]);
    expect(await round('n1', 'passing')).toEqual([]);
    expect(nodeReads()).toEqual([[]]);
    expect(await round('n1', 'critical')).toEqual([]);
    expect(await round('n1', 'passing')).toEqual([]);
    expect(nodeReads()).toEqual([['node/n1'], [], ['node/n1']]);
    const firing = await c.app.ports.alerts!.listFiring(c.name, 100);
    expect(firing.find((f) => f.subject === 'check/n1/service:web-n1')).toMatchObject({ silencedBy: 'inhibit~node%2Fn1' });
  }, 90000);

  it('service impact: "the last instance down" pages, "1 of 10" goes to chat; the alert says how many are healthy', async () => {
    const c = cluster();
    const ten = Array.from({ length: 10 }, (_, i) => `h${i}`);
    await c.service('api', 20, [], ['a1']);
    await c.service('big', 20, [], ten);
    const critical = (svc: string, nodes: string[], failing: string, index: number) =>
      consulEnvelope(
        'service',
        nodes.map((node) =>
          serviceEntry(node, instanceId(svc, node), {
            service: { Service: svc },
            checks: [healthCheck({ Node: node, CheckID: `service:${instanceId(svc, node)}`, ServiceID: instanceId(svc, node), ServiceName: svc, Status: node === failing ? 'critical' : 'passing', ModifyIndex: index })],
          }),
        ),
        { cluster: c.name, scope: svc, index: String(index) },
      );
    await handlerFor('consul', 'service')!(critical('api', ['a1'], 'a1', 30), c.app.sources);
    await handlerFor('consul', 'service')!(critical('big', ten, 'h3', 30), c.app.sources);
    const got = c.take().sort((a, b) => a.title.localeCompare(b.title));
    expect(got.map((a) => [a.title, a.channels])).toEqual([
      ['CRITICAL: service api instance api-a1 on a1 is critical', ['pager']],
      ['CRITICAL: service big instance big-h3 on h3 is critical', ['chat']],
    ]);
    expect(got.map((a) => detail(a, 'Service health'))).toEqual(['api: 0 of 1 healthy', 'big: 9 of 10 healthy']);
  }, 60000);
});
