/**
 * The ingest function's view of the real AWS wire: HTTP API (payload format 2.0) events as
 * API Gateway builds them (test/support/api-gateway.ts), carrying the exact bytes the shim
 * signs (agent-shim prepare()), through the API Gateway adapter into the real ingest handler.
 */
import { gzipSync } from 'node:zlib';
import { toApiGatewayResult, toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { StaticConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { tokenDigest } from '../../lambdas/domain/consul/tokens';
import { BODY_ALTERED, BODY_TYPES, CONSUL_HTTP, ROUTES } from '../../lambdas/domain/protocol';
import { prepare, GZIP_THRESHOLD_BYTES } from '../../agent-shim/src/transport';
import { apiGatewayEvent } from '../support/api-gateway';
import { ingestHarness } from '../support/ingest-harness';
import { checksEnvelope } from '../support/signed-requests';
import { CLUSTER, KEY, checksSnapshot } from '../shim/helpers';

function harness() {
  return ingestHarness({ keys: { [CLUSTER]: KEY } });
}

/** What the shim puts on the wire for `checks` JSON. */
function shimRequest(checks: string) {
  return prepare(checksEnvelope(CLUSTER, checks), KEY, ROUTES.ingest.path, Date.now(), 'tocsin-shim/test');
}

async function deliver(h: ReturnType<typeof harness>, event: ReturnType<typeof apiGatewayEvent>) {
  const result = toApiGatewayResult(await h.handle(toHttpRequest(event)), Date.now());
  return { status: result.statusCode, body: JSON.parse(result.body as string) as Record<string, unknown> };
}

describe('ingest behind an HTTP API (payload format 2.0)', () => {
  it('a compressed snapshot goes as application/octet-stream, arrives base64 and is accepted byte for byte', async () => {
    const sent = shimRequest(checksSnapshot(500));
    expect(sent.body.length).toBeLessThan(sent.plainBytes);
    expect(sent.headers['content-type']).toBe(BODY_TYPES.compressed);
    expect(sent.headers['content-encoding']).toBe('gzip');
    const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest?src=shim', headers: sent.headers, body: sent.body });
    expect(event.isBase64Encoded).toBe(true);
    expect(event.rawPath).toBe('/v1/ingest');
    expect(event.rawQueryString).toBe('src=shim');
    expect(Object.keys(event.headers).every((k) => k === k.toLowerCase())).toBe(true);
    const h = harness();
    const res = await deliver(h, event);
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
    expect(res.body).toMatchObject({ accepted: 500, rejected: [] });
  });

  it('a small snapshot goes as application/json and arrives as text', async () => {
    const sent = shimRequest(checksSnapshot(3));
    expect(sent.body.length).toBeLessThanOrEqual(GZIP_THRESHOLD_BYTES);
    expect(sent.headers['content-type']).toBe(BODY_TYPES.json);
    const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: sent.headers, body: sent.body });
    expect(event.isBase64Encoded).toBe(false);
    expect(event.body).toBe(sent.body.toString('utf8'));
    expect(event.queryStringParameters).toBeUndefined();
    expect(await deliver(harness(), event)).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('a JSON body delivered as base64 is accepted too (either delivery works for either type)', async () => {
    const sent = shimRequest(checksSnapshot(3));
    const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: sent.headers, body: sent.body, deliverAs: 'base64' });
    expect(event.isBase64Encoded).toBe(true);
    expect(await deliver(harness(), event)).toMatchObject({ status: 200, body: { ok: true } });
  });

  describe('older shims: gzip labelled application/json', () => {
    function oldShimRequest() {
      const sent = shimRequest(checksSnapshot(500));
      return { ...sent, headers: { ...sent.headers, 'content-type': 'application/json' } };
    }

    it('accepted when the body arrives intact (base64)', async () => {
      const sent = oldShimRequest();
      const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: sent.headers, body: sent.body, deliverAs: 'base64' });
      expect(await deliver(harness(), event)).toMatchObject({ status: 200, body: { ok: true } });
    });

    it('delivered as text, refused with a 400 that names the cause and the cure, not a bare 401', async () => {
      const sent = oldShimRequest();
      const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: sent.headers, body: sent.body });
      expect(event.isBase64Encoded).toBe(false);
      expect(event.body).toContain('\uFFFD');
      const h = harness();
      const res = await deliver(h, event);
      expect(res).toEqual({ status: BODY_ALTERED.status, body: { error: BODY_ALTERED.error, message: BODY_ALTERED.message } });
      expect(res.body.message).toMatch(/upgrade tocsin-shim/);
      // Counted and logged like every refusal.
      expect(h.logs.some((l) => l.includes(BODY_ALTERED.error))).toBe(true);
    });
  });

  it('a text body that happens to contain U+FFFD is not taken for an altered gzip body', async () => {
    const checks = checksSnapshot(1).replace('200 OK', 'bad byte \uFFFD');
    const sent = shimRequest(checks);
    const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: sent.headers, body: sent.body });
    expect(event.body).toContain('\uFFFD');
    expect(await deliver(harness(), event)).toMatchObject({ status: 200, body: { ok: true, accepted: 1 } });
  });

  it('a gzip body that is valid UTF-8 by chance is never flagged when it came base64', () => {
    const body = gzipSync(Buffer.from('{}'));
    const req = toHttpRequest(apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body, deliverAs: 'base64' }));
    expect(req.bodyAltered).toBeUndefined();
    expect(req.body.equals(body)).toBe(true);
  });
});

describe("Consul's own http handler behind the HTTP API", () => {
  const TOKEN = 'c0nsul-watch-token_7Qm2';
  function consulHarness() {
    return ingestHarness({ keys: { [CLUSTER]: 'unused-hmac-key' }, consulTokens: new StaticConsulTokens({ [CLUSTER]: tokenDigest(TOKEN) }) });
  }
  /** What Consul's http handler sends (handler-inputs.md): the watch body, Content-Type, X-Consul-Index, configured headers. */
  function consulEvent(body: string) {
    return apiGatewayEvent({
      method: 'POST',
      url: `/v1/consul/checks?cluster=${CLUSTER}`,
      headers: { 'Content-Type': 'application/json', 'X-Consul-Index': '4242', Authorization: `Bearer ${TOKEN}`, 'User-Agent': 'Go-http-client/1.1', 'Accept-Encoding': 'gzip' },
      body: Buffer.from(body, 'utf8'),
    });
  }
  /** A `checks` result of about `bytes`, built like Consul's (Go JSON line). */
  function checksOfSize(bytes: number): string {
    const perCheck = checksSnapshot(100).length / 100;
    return checksSnapshot(Math.floor(bytes / perCheck));
  }

  it('a body over CONSUL_HTTP.maxBodyBytes gets a 413 that names the limit and the shim', async () => {
    const body = checksOfSize(CONSUL_HTTP.maxBodyBytes + 64 * 1024);
    const event = consulEvent(body);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.rawPath).toBe('/v1/consul/checks');
    expect(event.headers['x-consul-index']).toBe('4242');
    // It still reached the function: the Lambda event stays under 6 MB.
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(6 * 1024 * 1024);
    const res = await deliver(consulHarness(), event);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
    expect(res.body.message).toContain(`${CONSUL_HTTP.maxBodyBytes} bytes`);
    expect(res.body.message).toMatch(/tocsin-shim/);
  });

  it('a body at the limit is processed', async () => {
    const body = checksOfSize(CONSUL_HTTP.maxBodyBytes - 128 * 1024);
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(CONSUL_HTTP.maxBodyBytes);
    const res = await deliver(consulHarness(), consulEvent(body));
    expect(res).toMatchObject({ status: 200, body: { ok: true } });
  }, 60_000);

  it('the limit fits a Lambda event whatever the escaping (a body of quotes doubles)', () => {
    const event = consulEvent('"'.repeat(CONSUL_HTTP.maxBodyBytes));
    expect(Buffer.byteLength(JSON.stringify(event))).toBeLessThan(6 * 1024 * 1024);
  });
});
