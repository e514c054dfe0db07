/**
 * The API's size limits (protocol.ts LIMITS.maxWireBytes, maxInflatedBytes) on the exact
 * shape AWS delivers: an HTTP API (payload format 2.0) Lambda event, whose JSON must stay
 * within Lambda's 6 MB synchronous invocation payload, with the shim's gzip body in it as
 * base64. The shim refuses what the API would, before uploading it.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { toApiGatewayResult, toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { LIMITS, ROUTES } from '../../lambdas/domain/protocol';
import { overLimit, prepare } from '../../agent-shim/src/transport';
import { apiGatewayEvent } from '../support/api-gateway';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { ingestHarness } from '../support/ingest-harness';
import { checksEnvelope, signedRaw } from '../support/signed-requests';
import { CLUSTER, KEY } from '../shim/helpers';

/** Lambda's synchronous invocation payload limit: 6 MB (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). */
const LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** An HTTP API's limit for the request line plus header values (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html). */
const HTTP_API_HEADER_BYTES = 10_240;

const eventBytes = (event: unknown): number => Buffer.byteLength(JSON.stringify(event), 'utf8');

async function deliver(event: ReturnType<typeof apiGatewayEvent>) {
  const h = ingestHarness({ keys: { [CLUSTER]: KEY } });
  const result = toApiGatewayResult(await h.handle(toHttpRequest(event)), Date.now());
  return { status: result.statusCode, body: JSON.parse(result.body as string) as Record<string, unknown> };
}

/**
 * A real checks envelope the shim would send, gzipped to between `min` and LIMITS.maxWireBytes
 * bytes: outputs of random base64 text (gzip keeps ~76 % of it), up to Consul's 4 KB each.
 */
function nearLimitRequest(min: number) {
  const outputs = randomBytes(4_300_000).toString('base64'); // ~5.7 M characters
  const build = (count: number) =>
    prepare(
      checksEnvelope(CLUSTER, goJsonLine(Array.from({ length: count }, (_, i) => healthCheck({ Node: `n-${i}`, CheckID: 'c', Output: outputs.slice(i * 4000, (i + 1) * 4000) })))),
      KEY,
      ROUTES.ingest.path,
      Date.now(),
      'tocsin-shim/test',
    );
  // Bisect the number of checks: the largest whose gzip fits.
  let lo = 1;
  let hi = Math.floor(outputs.length / 4000);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (build(mid).body.length <= LIMITS.maxWireBytes) lo = mid;
    else hi = mid - 1;
  }
  const sent = build(lo);
  expect(sent.body.length).toBeGreaterThan(min);
  expect(sent.body.length).toBeLessThanOrEqual(LIMITS.maxWireBytes);
  return sent;
}

describe('size limits on the wire (LIMITS.maxWireBytes, maxInflatedBytes)', () => {
  it('the largest body allowed, base64 in an HTTP API event with maximal headers, stays under 6 MB of event JSON', () => {
    const body = randomBytes(LIMITS.maxWireBytes);
    // Headers as large as an HTTP API lets them be, of characters JSON escapes (each becomes two).
    const filler = '"'.repeat(HTTP_API_HEADER_BYTES - 600);
    const headers = { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'x-tocsin-signature': 'a'.repeat(64), 'x-filler': filler };
    const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers, body });
    expect(event.isBase64Encoded).toBe(true);
    expect(eventBytes(event)).toBeLessThanOrEqual(LAMBDA_PAYLOAD_BYTES);
    // The margin the limit keeps for what is not the body.
    expect(LAMBDA_PAYLOAD_BYTES - eventBytes(event)).toBeGreaterThan(600_000);
  });

  it('a real envelope gzipped just under the limit is accepted through the API Gateway event', async () => {
    const sent = nearLimitRequest(LIMITS.maxWireBytes - 64 * 1024);
    expect(overLimit(sent.plainBytes, sent.body.length)).toBeUndefined();
    const event = apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: sent.headers, body: sent.body });
    expect(eventBytes(event)).toBeLessThanOrEqual(LAMBDA_PAYLOAD_BYTES);
    const res = await deliver(event);
    expect(res).toMatchObject({ status: 200, body: { ok: true, rejected: [] } });
  }, 30_000);

  it('one byte past the wire limit: the shim refuses it before upload, the ingest handler answers 413 naming the limit', async () => {
    expect(overLimit(LIMITS.maxWireBytes, LIMITS.maxWireBytes)).toBeUndefined();
    expect(overLimit(LIMITS.maxWireBytes + 100, LIMITS.maxWireBytes + 1)).toContain(`over the API limit of ${LIMITS.maxWireBytes} bytes on the wire`);
    const body = randomBytes(LIMITS.maxWireBytes + 1);
    const req = signedRaw(body, { key: KEY, cluster: CLUSTER, gzip: true, headers: { 'content-type': 'application/octet-stream' } });
    const res = await deliver(apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: req.headers as Record<string, string>, body }));
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
    expect(res.body.message).toContain(`limit of ${LIMITS.maxWireBytes} bytes on the wire`);
  });

  it('a gzip bomb (small on the wire, past maxInflatedBytes inflated) gets 413 naming the inflated limit', async () => {
    const bomb = gzipSync(Buffer.alloc(LIMITS.maxInflatedBytes + 1, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    expect(overLimit(LIMITS.maxInflatedBytes + 1, bomb.length)).toContain(`over the API limit of ${LIMITS.maxInflatedBytes} bytes of JSON`);
    const req = signedRaw(bomb, { key: KEY, cluster: CLUSTER, gzip: true, headers: { 'content-type': 'application/octet-stream' } });
    const res = await deliver(apiGatewayEvent({ method: 'POST', url: '/v1/ingest', headers: req.headers as Record<string, string>, body: bomb }));
    expect(res.status).toBe(413);
    expect(res.body.message).toContain(`more than ${LIMITS.maxInflatedBytes} bytes`);
  });
});
