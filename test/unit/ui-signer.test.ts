/**
 * The web page's WebCrypto signer (ui/signer.ts) against the API's verifier: Node's
 * globalThis.crypto is the browser's WebCrypto API, so a signature made here is one a
 * browser makes (test/e2e/web-page.test.ts signs in real chromium). One canonical string
 * (domain/signing-canonical.ts) for both.
 */
import { verifySignedRequest } from '../../lambdas/app/signed-request';
import { HEADERS, ROUTES } from '../../lambdas/domain/protocol';
import { bodyDigest, sign } from '../../lambdas/domain/signing';
import { sha256Hex, signedHeaders, signRequest } from '../../ui/signer';

const KEY = 'viewer-key-0123456789abcdefghijklmnopqrstuvwxyz';
const NOW_MS = 1_764_684_000_000;

describe('the web page signer', () => {
  it.each([
    ['GET', ROUTES.alertList.path, ''],
    ['POST', '/v1/alerts/AbCdEf012345/ack', JSON.stringify({ by: 'zoë', comment: 'on it — ☕', untilSeconds: 3600 })],
    ['POST', ROUTES.silenceCreate.path, JSON.stringify({ matchers: { node: 'web-1' }, duration: '1h', author: 'a', comment: 'b' })],
  ])('%s %s: the signature the CLI computes (domain/signing.ts sign)', async (method, path, body) => {
    expect(await sha256Hex(body)).toBe(bodyDigest(body));
    expect(await signRequest(KEY, method, path, '1764684000', body)).toBe(sign(KEY, method, path, '1764684000', body));
  });

  it("is accepted by the API's verifier, and refused under another key, path or body", async () => {
    const body = JSON.stringify({ comment: 'looking' });
    const headers = await signedHeaders('default', KEY, 'POST', '/v1/alerts/AbCdEf012345/ack', body, NOW_MS);
    expect(headers[HEADERS.timestamp]).toBe(String(NOW_MS / 1000));
    expect(headers[HEADERS.cluster]).toBe('default');
    const request = (over: { path?: string; body?: string } = {}) => ({ method: 'POST', path: over.path ?? '/v1/alerts/AbCdEf012345/ack', headers, body: Buffer.from(over.body ?? body) });
    expect(verifySignedRequest(request(), KEY, NOW_MS)).toEqual({ ok: true });
    // During a key rotation the secret holds several keys; the page's key is one of them.
    expect(verifySignedRequest(request(), `new-key-9876543210 ${KEY}`, NOW_MS)).toEqual({ ok: true });
    expect(verifySignedRequest(request(), 'another-key-0123456789', NOW_MS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySignedRequest(request({ path: '/v1/alerts/AbCdEf012345/unack' }), KEY, NOW_MS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySignedRequest(request({ body: '{"comment":"lookinG"}' }), KEY, NOW_MS)).toEqual({ ok: false, reason: 'signature mismatch' });
    expect(verifySignedRequest(request(), KEY, NOW_MS + 301_000)).toEqual({ ok: false, reason: 'timestamp outside window' });
  });
});
