/**
 * Authentication of the ingest API: expired, replayed and forged signatures and unknown
 * clusters are refused with 401 and a reason; no key ever shows in a response or a log.
 * The replay guard is tested twice: in memory (fast, many cases) and through the real
 * DynamoDB adapter (DynamoDB Local in CI, dynalite with TOCSIN_TEST_DYNAMODB=dynalite).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoReplayGuard } from '../../lambdas/adapters/dynamo-replay-guard';
import { keys as itemKeys } from '../../lambdas/adapters/dynamo-state-store';
import type { HttpRequest } from '../../lambdas/app/http';
import { CLOCK_SKEW, HEADERS, LIMITS, ROUTES, UNKNOWN_KEY } from '../../lambdas/domain/protocol';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { keyId, sign } from '../../lambdas/domain/signing';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { ingestHarness } from '../support/ingest-harness';
import { checksEnvelope, signedEnvelope, signedRaw } from '../support/signed-requests';

const KEY = 'k3y-Th1s-Must-N3ver-Leak-0123456789abcdefXYZ';
const OTHER_KEY = 'another-cluster-key-also-secret-9876543210';
const keys = { prod: KEY, staging: OTHER_KEY };
const NOW = 1_800_000_000; // fixed clock, epoch seconds
const clock = { nowMs: () => NOW * 1000 };
const WINDOW = LIMITS.signatureWindowSeconds;

let modifyIndex = 10;
/** A snapshot of one critical check; each call a later ModifyIndex, so each is a change. */
const critical = (id: string) => [healthCheck({ CheckID: id, Status: 'critical', ModifyIndex: ++modifyIndex })];
/** A byte-for-byte copy of a request (structuredClone would turn the Buffer into a Uint8Array). */
const copy = (r: HttpRequest): HttpRequest => ({ ...r, headers: { ...r.headers }, body: Buffer.from(r.body) });
const request = (id = 'a', opts: Partial<Parameters<typeof signedEnvelope>[1]> = {}) =>
  signedEnvelope(checksEnvelope('prod', critical(id)), { key: KEY, cluster: 'prod', timestamp: NOW, ...opts });

describe('signature time window', () => {
  it.each([
    ['exactly at the window edge (past)', NOW - WINDOW, 200],
    ['exactly at the window edge (future)', NOW + WINDOW, 200],
    ['one second too old', NOW - WINDOW - 1, 401],
    ['an hour old', NOW - 3600, 401],
    ['one second too far in the future', NOW + WINDOW + 1, 401],
    ['epoch zero', 0, 401],
  ])('%s -> %i', async (_name, timestamp, status) => {
    const h = ingestHarness({ keys, clock });
    const res = await h.handle(request(`t${timestamp}`, { timestamp }));
    expect(res.status).toBe(status);
    // Its own code (not `unauthenticated`): the shim corrects its clock and keeps the envelope.
    if (status === 401) expect(res.body).toEqual({ error: CLOCK_SKEW.error, message: CLOCK_SKEW.message });
  });
});

describe('key ids and key rotation', () => {
  const NEW_KEY = 'n3w-k3y-Must-N3ver-Leak-Either-0123456789abcdef';
  const withId = (key: string, id = keyId(key), opts: Partial<Parameters<typeof signedEnvelope>[1]> = {}) =>
    request(`k${++modifyIndex}`, { key, headers: { [HEADERS.keyId]: id }, ...opts });

  it('a key id is a fingerprint: 16 hex digits, stable, different per key, never the key', () => {
    expect(keyId(KEY)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(KEY)).toBe(keyId(KEY));
    expect(keyId(NEW_KEY)).not.toBe(keyId(KEY));
    expect(keyId(KEY)).not.toContain(Buffer.from(KEY).toString('hex').slice(0, 8));
  });

  it('a request naming a key the cluster does not hold is 401 unknown_key, which is not a bad signature', async () => {
    const h = ingestHarness({ keys, clock });
    const res = await h.handle(withId(NEW_KEY));
    expect(res).toEqual({ status: 401, body: { error: UNKNOWN_KEY.error, message: UNKNOWN_KEY.message } });
    expect(h.store.subjects.size).toBe(0);
    expect(h.store.signatures.size).toBe(0);
    expect(JSON.stringify(res)).not.toContain(keyId(NEW_KEY)); // header values are never echoed
  });

  it('a known key id with a wrong signature stays a bad signature: unauthenticated, signature mismatch', async () => {
    const h = ingestHarness({ keys, clock });
    const forged = withId(KEY);
    const res = await h.handle({ ...forged, body: Buffer.concat([forged.body, Buffer.from(' ')]) });
    expect(res).toEqual({ status: 401, body: { error: 'unauthenticated', message: 'signature mismatch' } });
    // Naming another key's id does not turn a forgery into a "rotation".
    expect((await h.handle(withId('not-the-key', keyId(KEY)))).body).toEqual({ error: 'unauthenticated', message: 'signature mismatch' });
  });

  it('without a key id (older senders, the CLI) a wrong key is a bad signature, as before', async () => {
    const h = ingestHarness({ keys, clock });
    expect((await h.handle(request('nk', { key: NEW_KEY }))).body).toEqual({ error: 'unauthenticated', message: 'signature mismatch' });
  });

  it('a malformed key id counts as none', async () => {
    const h = ingestHarness({ keys, clock });
    expect((await h.handle(withId(KEY, 'not-hex!')).then((r) => r.status))).toBe(200);
    expect((await h.handle(withId(NEW_KEY, 'NOT-HEX')).then((r) => r.body))).toEqual({ error: 'unauthenticated', message: 'signature mismatch' });
  });

  it('the clock is checked before the key: a skewed node with an unknown key hears clock_skew first', async () => {
    const h = ingestHarness({ keys, clock });
    expect((await h.handle(withId(NEW_KEY, keyId(NEW_KEY), { timestamp: NOW - WINDOW - 1 }))).body.error).toBe(CLOCK_SKEW.error);
  });

  it('during a rotation the secret holds both keys (newest first): either signs, with or without a key id', async () => {
    const rotating = { prod: `${NEW_KEY}\n${KEY}` };
    const h = ingestHarness({ keys: rotating, clock });
    for (const req of [withId(NEW_KEY), withId(KEY), request('r1', { key: NEW_KEY }), request('r2', { key: KEY })]) {
      expect((await h.handle(req)).status).toBe(200);
    }
    expect((await h.handle(withId('a-third-key'))).body.error).toBe(UNKNOWN_KEY.error);
    // Once the old key is dropped, a node still on it is held back, not refused for good.
    rotating.prod = NEW_KEY;
    expect((await h.handle(withId(KEY))).body.error).toBe(UNKNOWN_KEY.error);
    expect((await h.handle(withId(NEW_KEY))).status).toBe(200);
  });
});

describe('forged signatures', () => {
  const valid = () => request('f');
  const cases: Array<[string, () => HttpRequest, string]> = [
    ['signed with another key', () => request('f', { key: 'not-the-key' }), 'signature mismatch'],
    ['signed with another cluster\'s key', () => request('f', { key: OTHER_KEY }), 'signature mismatch'],
    ['body changed after signing', () => ({ ...valid(), body: Buffer.concat([valid().body, Buffer.from(' ')]) }), 'signature mismatch'],
    ['signed for another path', () => ({ ...request('f', { path: '/v1/other' }), path: ROUTES.ingest.path }), 'signature mismatch'],
    ['signed for another method', () => ({ ...request('f', { method: 'PUT' }), method: 'POST' }), 'signature mismatch'],
    ['timestamp changed after signing', () => {
      const r = valid();
      return { ...r, headers: { ...r.headers, [HEADERS.timestamp]: String(NOW - 1) } };
    }, 'signature mismatch'],
    ['one hex digit flipped', () => {
      const r = valid();
      const sig = r.headers[HEADERS.signature]!;
      const flipped = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
      return { ...r, headers: { ...r.headers, [HEADERS.signature]: flipped } };
    }, 'signature mismatch'],
    ['upper-case hex', () => {
      const r = valid();
      return { ...r, headers: { ...r.headers, [HEADERS.signature]: r.headers[HEADERS.signature]!.replace(/^v1=/, 'v1=').toUpperCase() } };
    }, 'malformed signature'],
    ['unknown version', () => {
      const r = valid();
      return { ...r, headers: { ...r.headers, [HEADERS.signature]: r.headers[HEADERS.signature]!.replace(/^v1=/, 'v2=') } };
    }, 'malformed signature'],
    ['truncated', () => {
      const r = valid();
      return { ...r, headers: { ...r.headers, [HEADERS.signature]: r.headers[HEADERS.signature]!.slice(0, 40) } };
    }, 'malformed signature'],
    ['no signature header', () => {
      const r = valid();
      const { [HEADERS.signature]: _gone, ...headers } = r.headers;
      return { ...r, headers };
    }, 'missing signature'],
    ['no timestamp header', () => {
      const r = valid();
      const { [HEADERS.timestamp]: _gone, ...headers } = r.headers;
      return { ...r, headers };
    }, 'missing signature'],
    ['timestamp not digits', () => {
      const r = valid();
      return { ...r, headers: { ...r.headers, [HEADERS.timestamp]: '1.8e9' } };
    }, 'malformed timestamp'],
  ];

  it.each(cases.map(([name, build, reason]) => [name, reason, build] as const))('%s -> 401 %s', async (_name, reason, build) => {
    const h = ingestHarness({ keys, clock });
    const res = await h.handle(build());
    expect(res).toEqual({ status: 401, body: { error: 'unauthenticated', message: reason } });
    expect(h.store.subjects.size).toBe(0);
    expect(h.store.signatures.size).toBe(0); // nothing recorded for an unauthenticated caller
  });
});

describe('clusters', () => {
  it.each([
    ['unknown cluster', 'dev'],
    ['prototype key as cluster', '__proto__'],
    ['constructor as cluster', 'constructor'],
    ['empty cluster', ''],
  ])('%s -> 401 naming no secret', async (_name, cluster) => {
    const h = ingestHarness({ keys, clock });
    const res = await h.handle(signedEnvelope(checksEnvelope('prod', critical('c')), { key: KEY, cluster, timestamp: NOW }));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('unauthenticated');
    expect(String(res.body.message)).toMatch(/unknown cluster|missing x-tocsin-cluster/);
  });

  it('a valid signature for one cluster cannot post data for another', async () => {
    const h = ingestHarness({ keys, clock });
    const res = await h.handle(signedEnvelope(checksEnvelope('staging', critical('c')), { key: KEY, cluster: 'prod', timestamp: NOW }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('cluster_mismatch');
  });
});

describe('replayed signatures', () => {
  it('the second use of a signature is refused, and changes nothing', async () => {
    const h = ingestHarness({ keys, clock });
    const req = request('r');
    expect((await h.handle(req)).status).toBe(200);
    const state = JSON.stringify([...h.store.subjects]);
    const replay = await h.handle(copy(req));
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ error: 'replayed', message: 'signature already used (replayed request); sign every request afresh' });
    expect(JSON.stringify([...h.store.subjects])).toBe(state);
    expect(h.sns.published).toHaveLength(1);
    expect(h.logs.filter((l) => JSON.parse(l).message === 'ingested')).toHaveLength(1);
  });

  it('the same change signed afresh (the shim re-signs every send) is accepted, and alerts nothing new', async () => {
    const h = ingestHarness({ keys, clock: { nowMs: () => Date.now() } });
    const envelope = checksEnvelope('prod', critical('s'));
    expect((await h.handle(signedEnvelope(envelope, { key: KEY, cluster: 'prod', timestamp: Math.floor(Date.now() / 1000) - 1 }))).status).toBe(200);
    expect((await h.handle(signedEnvelope(envelope, { key: KEY, cluster: 'prod' }))).status).toBe(200);
    expect(h.sns.published).toHaveLength(1);
  });

  it('of 20 identical requests arriving at once exactly one is processed', async () => {
    const h = ingestHarness({ keys, clock });
    const req = request('p');
    const results = await Promise.all(Array.from({ length: 20 }, () => h.handle(copy(req))));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(19);
    expect(h.sns.published).toHaveLength(1);
  });

  it('a request that failed with 5xx may be retried verbatim (its signature is forgotten), then not again', async () => {
    const h = ingestHarness({ keys, clock });
    h.sns.failWhen = (n) => n === 0;
    const req = request('x');
    const failed = await h.handle(req);
    expect(failed.status).toBe(503);
    expect(failed.headers).toEqual({ 'retry-after': '5' });
    expect(h.sns.published).toHaveLength(0);
    const retried = await h.handle(copy(req));
    expect(retried.status).toBe(200);
    expect(h.sns.published).toHaveLength(1);
    expect((await h.handle(copy(req))).status).toBe(401);
  });

  it('a signed request refused for its content is refused alike when repeated, and records nothing', async () => {
    const h = ingestHarness({ keys, clock });
    const req = signedEnvelope('{"v":2}', { key: KEY, cluster: 'prod', timestamp: NOW });
    expect((await h.handle(req)).status).toBe(400);
    expect((await h.handle(copy(req))).status).toBe(400);
    expect(h.store.signatures.size).toBe(0);
  });

  it('a signed request refused in part (422) stays used', async () => {
    const h = ingestHarness({ keys, clock });
    const req = signedEnvelope(checksEnvelope('prod', [...critical('ok'), { Node: 'n' } as never]), { key: KEY, cluster: 'prod', timestamp: NOW });
    expect((await h.handle(req)).status).toBe(422);
    expect((await h.handle(copy(req))).status).toBe(401);
  });
});

describe('replays of checks requests carrying Consul\'s index', () => {
  /** A whole `checks` watch result as Consul hands it to the shim: CONSUL_INDEX set. */
  const snapshot = (checks: ReturnType<typeof healthCheck>[], index: number) =>
    signedEnvelope(checksEnvelope('prod', checks, { index: String(index) }), { key: KEY, cluster: 'prod', timestamp: NOW });
  const check = (status: string, index: number) => healthCheck({ CheckID: 'db', Status: status, ModifyIndex: index, CreateIndex: 5 });

  it('need no replay record: a repeat is accepted, publishes nothing and changes no state', async () => {
    const h = ingestHarness({ keys, clock });
    const first = snapshot([check('critical', 100)], 100);
    expect((await h.handle(first)).status).toBe(200);
    expect(h.sns.published).toHaveLength(1);
    expect(h.store.signatures.size).toBe(0);
    const state = JSON.stringify([...h.store.subjects, ...h.store.scopes]);
    const again = await h.handle(copy(first));
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ examined: 0, transitions: 0 });
    expect(h.sns.published).toHaveLength(1);
    expect(JSON.stringify([...h.store.subjects, ...h.store.scopes])).toBe(state);
    // After the check recovered, replaying the critical snapshot does not bring it back.
    expect((await h.handle(snapshot([check('passing', 101)], 101))).status).toBe(200);
    expect(h.sns.published).toHaveLength(2);
    expect((await h.handle(copy(first))).status).toBe(200);
    expect(h.sns.published).toHaveLength(2);
    expect(h.store.subjects.get('cluster#prod|s#check/web-1/db')?.state).toMatchObject({ status: 'passing' });
  });

  it('a replayed removal does not remove a check that came back, nor hide its next removal', async () => {
    const h = ingestHarness({ keys, clock });
    expect((await h.handle(snapshot([check('critical', 100)], 100))).status).toBe(200);
    const removal = snapshot([], 102);
    expect((await h.handle(removal)).status).toBe(200);
    expect((await h.handle(snapshot([check('critical', 104)], 104))).status).toBe(200);
    expect(h.sns.published.map((a) => a.to)).toEqual(['critical', 'removed', 'critical']);
    expect((await h.handle(copy(removal))).status).toBe(200);
    expect(h.sns.published).toHaveLength(3);
    expect(h.store.subjects.get('cluster#prod|s#check/web-1/db')?.state).toMatchObject({ status: 'critical', modifyIndex: 104 });
    // The check is still known to the scope: its real removal later is noticed.
    expect((await h.handle(snapshot([], 106))).status).toBe(200);
    expect(h.sns.published).toHaveLength(4);
    expect(h.sns.published[3]).toMatchObject({ state: 'resolved', to: 'removed' });
  });
});

describe('replay guard on DynamoDB', () => {
  let dynamo: TestDynamo;
  const TABLE = 'tocsin-security-replay';
  let guard: DynamoReplayGuard;
  let doc: ReturnType<typeof dynamoClients>['doc'];

  beforeAll(async () => {
    dynamo = await startTestDynamo();
    const clients = dynamoClients(dynamo.endpoint);
    doc = clients.doc;
    await ensureStateTable(clients.client, TABLE);
    guard = new DynamoReplayGuard(doc, TABLE);
  }, 120000);
  afterAll(async () => {
    await dynamo?.stop();
  });

  it(`records a signature once, in its own item with a TTL just beyond the window (${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, async () => {
    const sig = sign(KEY, 'POST', ROUTES.ingest.path, String(NOW), '{}');
    const results = await Promise.all(Array.from({ length: 20 }, () => guard.firstUse('prod', sig, NOW + WINDOW + 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const { Item } = await doc.send(
      new GetCommand({ TableName: TABLE, Key: { [STATE_TABLE.partitionKey]: itemKeys.replay('prod'), [STATE_TABLE.sortKey]: itemKeys.signature(sig) } }),
    );
    expect(Item).toEqual({ pk: `replay#prod`, sk: `sig#${sig}`, [STATE_TABLE.ttlAttribute]: NOW + WINDOW + 60 });
    // Per cluster: the same bytes under another cluster are a different record.
    expect(await guard.firstUse('staging', sig, NOW + WINDOW + 60)).toBe(true);
    await guard.forget('prod', sig);
    expect(await guard.firstUse('prod', sig, NOW + WINDOW + 60)).toBe(true);
    expect(await guard.firstUse('prod', sig, NOW + WINDOW + 60)).toBe(false);
  });

  it('rejects a replay end to end through the handler', async () => {
    const h = ingestHarness({ keys, clock, replay: guard });
    const req = request('dyn');
    expect((await h.handle(req)).status).toBe(200);
    const again = await h.handle(copy(req));
    expect(again.status).toBe(401);
    expect(again.body.message).toMatch(/replayed/);
  });
});

describe('no secret in responses or logs', () => {
  it('keys, signatures and header values never appear in a response body or a log line', async () => {
    const h = ingestHarness({ keys, clock });
    const canary = 'CANARY-header-value-7f3e';
    const responses: unknown[] = [];
    const send = async (req: HttpRequest) => responses.push(await h.handle(req));
    const good = request('leak');
    const withCanary = (r: HttpRequest, extra: Record<string, string>) => ({ ...r, headers: { ...r.headers, ...extra } });

    await send(good);
    await send(copy(good)); // replay
    await send(request('leak2', { key: 'wrong' }));
    await send(withCanary(request('leak3'), { 'content-encoding': canary }));
    await send(withCanary(request('leak4'), { [HEADERS.signature]: `v1=${canary}` }));
    await send(withCanary(request('leak5'), { [HEADERS.signature]: KEY, [HEADERS.timestamp]: KEY }));
    await send(withCanary(request('leak6'), { [HEADERS.cluster]: canary }));
    await send(withCanary(request('leak7'), { [HEADERS.cluster]: KEY }));
    await send(withCanary(request('leak8'), { authorization: `Bearer ${KEY}`, cookie: canary }));
    await send(signedRaw(Buffer.from('not json'), { key: KEY, cluster: 'prod', timestamp: NOW }));
    await send(signedRaw(Buffer.from('garbage'), { key: KEY, cluster: 'prod', timestamp: NOW, gzip: true }));
    // An internal failure: its message is logged, never the request's secrets.
    h.sns.failWhen = () => true;
    await send(request('leak9'));
    h.store.getScope = async () => {
      throw new Error('store exploded');
    };
    await send(request('leak10'));

    const everything = JSON.stringify(responses) + '\n' + h.logs.join('\n');
    expect(responses.map((r) => (r as { status: number }).status)).toEqual([200, 401, 401, 415, 401, 401, 401, 401, 200, 400, 400, 503, 500]);
    for (const secret of [KEY, OTHER_KEY, canary, good.headers[HEADERS.signature]!.slice(3)]) {
      expect(everything).not.toContain(secret);
    }
    expect(h.logs.some((l) => l.includes('store exploded'))).toBe(true); // the run did log
  });
});
