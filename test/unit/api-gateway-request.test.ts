/**
 * The ingest function's view of the real AWS wire: HTTP API (payload format 2.0) events as
 * API Gateway builds them (test/support/api-gateway.ts), carrying the exact bytes the shim
 * signs (agent-shim prepare()), through the API Gateway adapter into the real ingest handler.
 */
import { gzipSync } from 'node:zlib';
import { toApiGatewayResult, toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { BODY_ALTERED, BODY_TYPES, ROUTES } from '../../lambdas/domain/protocol';
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
