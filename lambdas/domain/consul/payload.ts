/**
 * Consul `[]byte` fields (KV Value, event Payload) arrive base64-encoded or null.
 * Decoded bytes are shown as text when they are UTF-8 without control characters,
 * otherwise flagged binary and shown as a hex/base64 excerpt: never raw.
 */
import { InputError } from '../input-errors';
import { safeText } from '../input-limits';

export type DecodedBytes =
  | { kind: 'none' }
  | { kind: 'text'; size: number; text: string }
  | { kind: 'binary'; size: number; base64: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// C0 controls other than TAB, LF, CR, plus DEL: not something to put in an email.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodeBytes(bytes: Uint8Array): DecodedBytes {
  if (bytes.length === 0) return { kind: 'text', size: 0, text: '' };
  try {
    const text = utf8.decode(bytes);
    if (!CONTROL.test(text)) return { kind: 'text', size: bytes.length, text };
  } catch {
    // not UTF-8: binary
  }
  return { kind: 'binary', size: bytes.length, base64: Buffer.from(bytes).toString('base64') };
}

/** A base64 `[]byte` field of a Consul object: null/missing is "none". */
export function decodeBase64Field(value: unknown, field: string): DecodedBytes {
  if (value === null || value === undefined) return { kind: 'none' };
  if (typeof value !== 'string' || !BASE64.test(value)) throw new InputError(`${field} must be base64 or null`);
  return decodeBytes(Buffer.from(value, 'base64'));
}

/** Stable digest of the decoded bytes, to tell "value changed" from "only metadata changed". */
export function bytesDigest(d: DecodedBytes): string {
  if (d.kind === 'none') return 'none';
  const raw = d.kind === 'text' ? Buffer.from(d.text, 'utf8') : Buffer.from(d.base64, 'base64');
  // Loaded on first use: the shim bundles this module (wire-form.ts), and its runs that
  // digest no value (every watch type but key and keyprefix) must not pay for loading
  // node:crypto, the largest cost of its start after Node's own (agent-shim/src/sha256.ts).
  const { createHash } = require('node:crypto') as typeof import('node:crypto');
  return createHash('sha256').update(raw).digest('hex').slice(0, 32);
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One human line (or block, for multi-line text) describing the bytes, at most ~`max` characters. */
export function describeBytes(d: DecodedBytes, max = 500): string {
  if (d.kind === 'none') return '(none)';
  if (d.kind === 'text') return d.size === 0 ? '(empty)' : safeText(cut(d.text, max));
  const raw = Buffer.from(d.base64, 'base64');
  const hexBytes = Math.min(raw.length, Math.max(8, Math.floor(max / 6)));
  const hex = raw.subarray(0, hexBytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return `(binary, ${d.size} bytes) hex: ${hex}${raw.length > hexBytes ? ' …' : ''}; base64: ${cut(d.base64, Math.max(16, max - hex.length))}`;
}
