/**
 * The one statement of what a tocsin request signature covers, imported by the Node signer
 * and verifier (signing.ts: the shim, the CLI, the API) and by the web page's WebCrypto signer
 * (ui/signer.ts). Constants and string building only, importing nothing: each side brings
 * its own SHA-256 and HMAC.
 */

export const SIGNATURE_VERSION = 'v1';

/** What the HMAC-SHA256 is computed over: version, method, path, timestamp and the hex SHA-256 of the body bytes as sent. */
export function canonicalString(method: string, path: string, timestamp: string, bodySha256Hex: string): string {
  return [SIGNATURE_VERSION, method.toUpperCase(), path, timestamp, bodySha256Hex].join('\n');
}

/** The signature header's value (HEADERS.signature) for a hex HMAC: `v1=<hex>`. */
export function signatureValue(macHex: string): string {
  return `${SIGNATURE_VERSION}=${macHex}`;
}

/** The message a key's public fingerprint (HEADERS.keyId) is the HMAC of. */
export const KEY_ID_MESSAGE = 'tocsin key id';
/** Hex digits of that HMAC a key id keeps. */
export const KEY_ID_HEX_DIGITS = 16;
