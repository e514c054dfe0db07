/**
 * The web page's request signer: the same signature as the CLI's (bin/commands/admin-client.ts,
 * domain/signing.ts sign), computed with WebCrypto, so it runs in the browser (and in Node,
 * whose globalThis.crypto is the same API; test/unit/ui-signer.test.ts verifies its
 * signatures with the API's verifier). The canonical string comes from the one place that
 * states it (domain/signing-canonical.ts).
 */
import { HEADERS } from '../lambdas/domain/protocol';
import { canonicalString, signatureValue } from '../lambdas/domain/signing-canonical';

const encoder = new TextEncoder();

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Hex SHA-256 of the body bytes (UTF-8 of `body`). */
export async function sha256Hex(body: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', encoder.encode(body)));
}

/** `v1=<hex HMAC-SHA256>` of the request under `key`, as domain/signing.ts sign computes it. */
export async function signRequest(key: string, method: string, path: string, timestamp: string, body: string): Promise<string> {
  const hmacKey = await crypto.subtle.importKey('raw', encoder.encode(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const canonical = canonicalString(method, path, timestamp, await sha256Hex(body));
  return signatureValue(hex(await crypto.subtle.sign('HMAC', hmacKey, encoder.encode(canonical))));
}

/** The signing headers of a request, as the CLI sends them (cluster, timestamp, signature; no key id). */
export async function signedHeaders(cluster: string, key: string, method: string, path: string, body: string, nowMs: number): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [HEADERS.cluster]: cluster,
    [HEADERS.timestamp]: timestamp,
    [HEADERS.signature]: await signRequest(key, method, path, timestamp, body),
  };
}
