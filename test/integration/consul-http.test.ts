/**
 * Consul's own HTTP watch handler (`handler_type: "http"`) posting raw watch bodies to
 * POST /v1/consul/{watchType}, through createIngestHandler, DynamoDB (Local or
 * dynalite) and SNS/SQS (fauxqs).
 */
import { gzipSync } from 'node:zlib';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { StaticConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { DynamoReplayGuard } from '../../lambdas/adapters/dynamo-replay-guard';
import { createIngestHandler } from '../../lambdas/app/ingest-http';
import type { HttpRequest } from '../../lambdas/app/http';
import { jsonLogger } from '../../lambdas/commons/logger';
import { tokenDigest } from '../../lambdas/domain/consul/tokens';
import { goJsonLine, healthCheck, kvPair, userEvent } from '../support/consul-fixtures';
import { newCluster, startConsulIt, type ConsulIt } from '../support/consul-it';

let it_: ConsulIt;

beforeAll(async () => {
  it_ = await startConsulIt('tocsin-it-consul-http');
}, 120000);

afterAll(async () => {
  await it_?.stop();
});

const TOKEN = 'c0nsul-watch-token_7Qm2';
const OTHER_TOKEN = 'another-clusters-token';

function api(opts: { withTokens?: boolean } = {}) {
  const cluster = newCluster();
  const other = newCluster();
  const logs: string[] = [];
  const handle = createIngestHandler({
    keys: new StaticClusterKeys({ [cluster]: 'hmac-key-not-used-here' }),
    replay: new DynamoReplayGuard(it_.doc, it_.table),
    sources: it_.ctx,
    logger: jsonLogger((line) => logs.push(line)),
    ...(opts.withTokens === false ? {} : { consulTokens: new StaticConsulTokens({ [cluster]: tokenDigest(TOKEN), [other]: tokenDigest(OTHER_TOKEN) }) }),
  });
  return { cluster, other, logs, handle };
}

/** What Consul sends: the watch body line, Content-Type, X-Consul-Index, plus configured headers. */
function consulPost(type: string, body: unknown, opts: { cluster?: string; token?: string | null; index?: string; headers?: Record<string, string>; scope?: string; method?: string; raw?: Buffer } = {}): HttpRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-consul-index': opts.index ?? '42', ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  const query: Record<string, string> = {};
  if (opts.cluster) query.cluster = opts.cluster;
  if (opts.scope) query.scope = opts.scope;
  return { method: opts.method ?? 'POST', path: `/v1/consul/${type}`, headers, query, body: opts.raw ?? Buffer.from(goJsonLine(body), 'utf8') };
}

describe(`Consul http handler route (DynamoDB ${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'})`, () => {
  it('accepts the raw checks body with the cluster token and processes it like the shim path', async () => {
    const { cluster, handle, logs } = api();
    const body = [healthCheck({ CheckID: 'a', ModifyIndex: 10 }), healthCheck({ CheckID: 'b', Status: 'critical', Output: '<html>503 & down</html>', ModifyIndex: 11 })];
    const res = await handle(consulPost('checks', body, { cluster }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, accepted: 2, alertsPublished: 1 });
    const [alert, ...rest] = await it_.alerts();
    expect(rest).toEqual([]);
    expect(alert).toMatchObject({ cluster, check: 'b', severity: 'critical' });
    expect(Object.fromEntries(alert!.details).Output).toBe('<html>503 & down</html>');

    // Another agent's handler posts the same body: nothing new.
    const again = await handle(consulPost('checks', body, { cluster, headers: { 'x-tocsin-node': 'agent-2' } }));
    expect(again).toMatchObject({ status: 200, body: { alertsPublished: 0 } });
    expect(await it_.alerts(800)).toEqual([]);
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('takes the cluster from X-Tocsin-Cluster, the node from X-Tocsin-Node, the index verbatim (event hash > 2^53), gzip bodies', async () => {
    const { cluster, handle } = api();
    const index = '18446744073709551557';
    const raw = gzipSync(Buffer.from(goJsonLine([userEvent(3, { Name: 'deploy', payload: 'v2' })])));
    const res = await handle(consulPost('event', null, { index, raw, headers: { 'x-tocsin-cluster': cluster, 'x-tocsin-node': 'consul-server-2', 'content-encoding': 'gzip' } }));
    expect(res).toMatchObject({ status: 200, body: { alertsPublished: 1 } });
    const [alert] = await it_.alerts();
    expect(Object.fromEntries(alert!.details)).toMatchObject({ 'Reported by': 'consul-server-2', 'Watch index': index, Payload: 'v2' });
  });

  it('without a node header the envelope node is "consul-http"', async () => {
    const { cluster, handle } = api();
    await handle(consulPost('event', [userEvent(4)], { cluster }));
    const [alert] = await it_.alerts();
    expect(Object.fromEntries(alert!.details)['Reported by']).toBe('consul-http');
  });

  it('?scope= keeps two watches of one type apart', async () => {
    const { cluster, handle } = api();
    expect((await handle(consulPost('keyprefix', [kvPair('x/a', '1', { ModifyIndex: 10 })], { cluster, scope: 'xs', index: '10' }))).status).toBe(200);
    // In one shared scope this would read as "x/a deleted, y/b created".
    expect((await handle(consulPost('keyprefix', [kvPair('y/b', '2', { ModifyIndex: 11 })], { cluster, scope: 'ys', index: '11' }))).status).toBe(200);
    expect(await it_.alerts(800)).toEqual([]);
    await handle(consulPost('keyprefix', null, { cluster, scope: 'xs', index: '20' }));
    expect((await it_.alerts()).map((a) => a.title)).toEqual(['INFO: key x/a deleted']);
  });

  it.each<[string, Partial<Parameters<typeof consulPost>[2]> & { clusterOf?: 'mine' | 'other' | 'unknown' | 'none' }, string]>([
    ['a wrong token', { token: 'c0nsul-watch-token_7Qm3' }, 'unknown cluster or wrong token'],
    ['no Authorization header', { token: null }, 'missing bearer token'],
    ['another cluster\'s token', { token: OTHER_TOKEN }, 'unknown cluster or wrong token'],
    ['an unknown cluster (with a valid token of another)', { clusterOf: 'unknown' }, 'unknown cluster or wrong token'],
    ['no cluster at all', { clusterOf: 'none' }, 'missing cluster'],
    ['Basic instead of Bearer', { token: null, headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } }, 'missing bearer token'],
  ])('401 for %s, and nothing is processed', async (_name, opts, message) => {
    const { cluster, handle, logs } = api();
    const target = opts.clusterOf === 'unknown' ? 'nope-cluster' : opts.clusterOf === 'none' ? undefined : cluster;
    const res = await handle(consulPost('checks', [healthCheck({ Status: 'critical', ModifyIndex: 5 })], { ...opts, ...(target ? { cluster: target } : {}) }));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'unauthenticated' });
    expect(String(res.body.message)).toContain(message);
    expect(await it_.alerts(800)).toEqual([]);
    expect(await it_.ctx.scopes.getScope(cluster, 'consul-checks/checks')).toEqual({ watermark: 0, active: new Set() });
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it.each<[string, Partial<HttpRequest>, number, string]>([
    ['GET -> 405', { method: 'GET' }, 405, 'method_not_allowed'],
    ['a type Consul agents cannot watch -> 422', { path: '/v1/consul/connect_roots' }, 422, 'unsupported_type'],
    ['an upper-case type -> 404', { path: '/v1/consul/Checks' }, 404, 'not_found'],
    ['a non-numeric X-Consul-Index -> 400', { headers: { 'x-consul-index': 'abc', authorization: `Bearer ${TOKEN}` } }, 400, 'invalid_input'],
    ['a body that is not the watch type\'s JSON -> 400', { body: Buffer.from('{"not":"a list"}\n') }, 400, 'invalid_input'],
  ])('%s', async (_name, override, status, error) => {
    const { cluster, handle } = api();
    const res = await handle({ ...consulPost('checks', [healthCheck()], { cluster }), ...override });
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
  });

  it('is off (404) when no token store is configured', async () => {
    const { cluster, handle } = api({ withTokens: false });
    const res = await handle(consulPost('checks', [healthCheck()], { cluster }));
    expect(res).toMatchObject({ status: 404, body: { error: 'not_found' } });
  });
});
