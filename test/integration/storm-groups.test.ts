/**
 * The storm counter's shared updates (issue 12), through a DynamoDB-compatible server
 * (DynamoDB Local when Java is present, else dynalite): admits of one channel and window
 * in flight together share one conditional UpdateItem; when the budget ends inside the
 * group, exactly as many go out as admitting them one by one, most severe first, lets
 * out (domain stormVerdict / chargeSent), also with two processes at once; a failed
 * update fails its whole group and charges nothing, so the retries go out.
 */
import { randomUUID } from 'node:crypto';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStormGate } from '../../lambdas/adapters/dynamo-storm-store';
import { chargeSent, mostSevereFirst, stormVerdict, type StormSent } from '../../lambdas/domain/rules/storm';
import type { Alert, Severity } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';

const TABLE = 'tocsin-it-storm-groups';
let dynamo: TestDynamo;
let doc: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  const c = dynamoClients(dynamo.endpoint);
  doc = c.doc;
  await ensureStateTable(c.client, TABLE);
}, 120000);
afterAll(async () => dynamo?.stop());

// Window-aligned and recent: the counter's TTL (a day after NOW) lies ahead.
const NOW = Math.floor(Date.now() / 3_600_000) * 3_600_000;
const WINDOW = 60;
const cluster = () => `g-${randomUUID().slice(0, 8)}`;
const alert = (c: string, id: string, severity: Severity, state: Alert['state'] = 'firing'): Alert => ({
  id,
  cluster: c,
  source: 'consul',
  kind: 'check',
  severity,
  state,
  node: 'n',
  title: `${severity}: ${id}`,
  to: severity,
  at: new Date(NOW).toISOString(),
  details: [],
});

/** The document client, counting the storm counter's updates, and failing the next `failNext` of them before they reach the server. */
function countingDoc(real: DynamoDBDocumentClient) {
  const seen = { counterUpdates: 0, failNext: 0 };
  const client = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return async (cmd: { constructor: { name: string }; input: { Key?: { sk?: unknown } } }) => {
        if (cmd.constructor.name === 'UpdateCommand' && String(cmd.input.Key?.sk).startsWith('storm#')) {
          seen.counterUpdates++;
          if (seen.failNext > 0) {
            seen.failNext--;
            throw new ProvisionedThroughputExceededException({ message: 'injected throttle on the storm counter', $metadata: { httpStatusCode: 400 } });
          }
        }
        return target.send(cmd as never);
      };
    },
  }) as DynamoDBDocumentClient;
  return { client, seen };
}

async function counters(c: string, channel: string): Promise<StormSent> {
  const out = await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: `cluster#${c}`, sk: `storm#${channel}#${NOW}` }, ConsistentRead: true }));
  const item = out.Item ?? {};
  const sent: StormSent = {};
  for (const l of ['info', 'warning', 'critical'] as const) if (item[`sent_${l}`] !== undefined) sent[l] = Number(item[`sent_${l}`]);
  return sent;
}

/** What admitting `alerts` one by one, most severe first, on top of `sent` gives: the ids delivered, and the counters after. */
function oneByOne(alerts: Alert[], sent: StormSent, threshold: number): { delivered: string[]; sent: StormSent } {
  const delivered: string[] = [];
  for (const a of [...alerts].sort(mostSevereFirst)) {
    if (stormVerdict(sent, a, { windowSeconds: WINDOW, threshold }) === 'deliver') {
      delivered.push(a.id);
      sent = chargeSent(sent, a);
    }
  }
  return { delivered: delivered.sort(), sent };
}

async function admitAll(gate: DynamoStormGate, c: string, alerts: Alert[]): Promise<string[]> {
  const verdicts = await Promise.all(alerts.map((a) => gate.admit(c, 'slack', a, NOW + 1000)));
  return alerts.filter((_, i) => verdicts[i]!.verdict === 'deliver').map((a) => a.id).sort();
}

describe(`storm counter groups (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('n admits of one window in flight together share one counter update; another channel has its own', async () => {
    const c = cluster();
    const { client, seen } = countingDoc(doc);
    const gate = new DynamoStormGate(client, TABLE, { windowSeconds: WINDOW, threshold: 20 });
    const group = [...Array.from({ length: 8 }, (_, i) => alert(c, `c${i}`, 'critical')), ...Array.from({ length: 4 }, (_, i) => alert(c, `w${i}`, 'warning')), alert(c, 'r0', 'critical', 'resolved')];
    const [delivered, email] = await Promise.all([admitAll(gate, c, group), gate.admit(c, 'email', alert(c, 'e0', 'info'), NOW + 1000)]);
    expect(delivered).toEqual(group.map((a) => a.id).sort());
    expect(email.verdict).toBe('deliver');
    expect(seen.counterUpdates).toBe(2); // slack's 13 admits in one, email's in another
    expect(await counters(c, 'slack')).toEqual({ critical: 8, warning: 12, info: 13 });
    expect(await counters(c, 'email')).toEqual({ info: 1 });
  }, 60000);

  it('the budget ends inside a group: exactly as many go out as one by one, most severe first; the rest fold', async () => {
    const threshold = 3;
    // (a) A group that cannot all go out even in an empty window: no group update, then one by one.
    const c = cluster();
    const { client, seen } = countingDoc(doc);
    const gate = new DynamoStormGate(client, TABLE, { windowSeconds: WINDOW, threshold });
    const mixed = [...Array.from({ length: 4 }, (_, i) => alert(c, `i${i}`, 'info')), alert(c, 'c0', 'critical'), alert(c, 'c1', 'critical')];
    const want = oneByOne(mixed, {}, threshold);
    expect(want.delivered).toEqual(['c0', 'c1', 'i0']); // the criticals never fold behind the infos of their group
    expect(await admitAll(gate, c, mixed)).toEqual(want.delivered);
    expect(await counters(c, 'slack')).toEqual(want.sent);
    expect(seen.counterUpdates).toBe(4); // c0, c1, i0 admitted, i1 refused; i2 and i3 fold without a call
    // The window's infos are spent for this process: later ones fold without a call; a critical still goes out.
    expect((await gate.admit(c, 'slack', alert(c, 'i9', 'info'), NOW + 2000)).verdict).toBe('fold');
    expect((await gate.admit(c, 'slack', alert(c, 'c2', 'critical'), NOW + 2000)).verdict).toBe('deliver');
    expect(seen.counterUpdates).toBe(5);

    // (b) A group whose update fails its condition (two criticals went out before it): one gets the last slot.
    const d = cluster();
    const second = countingDoc(doc);
    const gate2 = new DynamoStormGate(second.client, TABLE, { windowSeconds: WINDOW, threshold });
    for (const id of ['p0', 'p1']) expect((await gate2.admit(d, 'slack', alert(d, id, 'critical'), NOW)).verdict).toBe('deliver');
    const criticals = Array.from({ length: 3 }, (_, i) => alert(d, `k${i}`, 'critical'));
    second.seen.counterUpdates = 0;
    const delivered = await admitAll(gate2, d, criticals);
    expect(delivered).toHaveLength(1);
    expect(await counters(d, 'slack')).toEqual({ critical: 3, warning: 3, info: 3 });
    expect(second.seen.counterUpdates).toBe(3); // the group's (refused), the one admitted, the next refused
  }, 60000);

  it('two processes admitting groups into one window at once: the budget holds exactly', async () => {
    const c = cluster();
    const threshold = 7;
    const gates = [new DynamoStormGate(doc, TABLE, { windowSeconds: WINDOW, threshold }), new DynamoStormGate(doc, TABLE, { windowSeconds: WINDOW, threshold })];
    const batches = gates.map((_, g) => Array.from({ length: 6 }, (__, i) => alert(c, `g${g}-${i}`, 'critical')));
    const delivered = (await Promise.all(gates.map((gate, g) => admitAll(gate, c, batches[g]!)))).flat();
    expect(delivered).toHaveLength(threshold);
    expect(await counters(c, 'slack')).toEqual({ critical: threshold, warning: threshold, info: threshold });
  }, 60000);

  it('a failed counter update fails its whole group and charges nothing; the retries go out in one update', async () => {
    const c = cluster();
    const { client, seen } = countingDoc(doc);
    const gate = new DynamoStormGate(client, TABLE, { windowSeconds: WINDOW, threshold: 5 });
    const group = Array.from({ length: 4 }, (_, i) => alert(c, `f${i}`, 'warning'));
    seen.failNext = 1;
    const failed = await Promise.allSettled(group.map((a) => gate.admit(c, 'slack', a, NOW + 1000)));
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'rejected']);
    expect(String((failed[0] as PromiseRejectedResult).reason)).toMatch(/injected throttle/);
    expect(await counters(c, 'slack')).toEqual({});
    seen.counterUpdates = 0;
    expect(await admitAll(gate, c, group)).toEqual(group.map((a) => a.id).sort());
    expect(seen.counterUpdates).toBe(1);
    expect(await counters(c, 'slack')).toEqual({ warning: 4, info: 4 });
  }, 60000);
});
