/** Validate the shim's envelope: types and lengths per field, with a reason a human can act on. */
import type { Envelope, Source } from './types';
import { InputError } from './input-errors';
import { wellFormed } from './input-limits';
import { CLUSTER_NAME_PATTERN, LIMITS, SERF_NAME_VARIABLES } from './protocol';
import { hasProjection, PROJECTED_FORM } from './consul/wire-form';

const TYPE = /^[a-z][a-z_-]{0,31}$/;
const MAX_NODE_CHARS = 256;
const MAX_ENV_VARS = LIMITS.maxEnvVars;

/** Longest value of an env variable: a Serf event or query name may be as long as Serf lets it be. */
export function maxEnvValueChars(name: string): number {
  return (SERF_NAME_VARIABLES as readonly string[]).includes(name) ? LIMITS.maxSerfEventNameBytes : LIMITS.maxEnvValueChars;
}
/** Variable names: 1-128 characters, no control characters or "=" (SERF_TAG_* may carry "-" or "."). */
// eslint-disable-next-line no-control-regex
const ENV_NAME = /^[^\u0000-\u001f\u007f=\ud800-\udfff]{1,128}$/;

function field(obj: Record<string, unknown>, name: string, kind: 'string' | 'number'): unknown {
  const value = obj[name];
  if (typeof value !== kind) throw new InputError(`envelope.${name} must be a ${kind}`);
  return value;
}

export function parseEnvelope(value: unknown): Envelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InputError('envelope must be a JSON object');
  const o = value as Record<string, unknown>;
  if (o.v !== 1) throw new InputError('envelope.v must be 1');
  const cluster = field(o, 'cluster', 'string') as string;
  if (!CLUSTER_NAME_PATTERN.test(cluster)) throw new InputError('envelope.cluster must be 1-63 letters, digits, ".", "_" or "-"');
  const source = field(o, 'source', 'string') as string;
  if (source !== 'consul' && source !== 'serf' && source !== 'tocsin') throw new InputError('envelope.source must be "consul", "serf" or "tocsin"');
  const type = field(o, 'type', 'string') as string;
  if (!TYPE.test(type)) throw new InputError('envelope.type is not a watch or event type');
  let scope: string | undefined;
  if (o.scope !== undefined && o.scope !== null) {
    scope = field(o, 'scope', 'string') as string;
    if (!CLUSTER_NAME_PATTERN.test(scope)) throw new InputError('envelope.scope must be 1-63 letters, digits, ".", "_" or "-"');
  }
  const node = field(o, 'node', 'string') as string;
  if (node.length === 0 || node.length > MAX_NODE_CHARS) throw new InputError(`envelope.node must be 1-${MAX_NODE_CHARS} characters`);
  let index: string | null = null;
  if (o.index !== null && o.index !== undefined) {
    index = field(o, 'index', 'string') as string;
    if (!/^\d{1,40}$/.test(index)) throw new InputError('envelope.index must be a string of digits');
  }
  const sentAt = field(o, 'sentAt', 'string') as string;
  if (sentAt.length > 64 || Number.isNaN(Date.parse(sentAt))) throw new InputError('envelope.sentAt must be an ISO-8601 time');
  const body = field(o, 'body', 'string') as string;
  const bodyEncoding = o.bodyEncoding ?? 'utf8';
  if (bodyEncoding !== 'utf8' && bodyEncoding !== 'base64') throw new InputError('envelope.bodyEncoding must be "utf8" or "base64"');
  // Lone surrogates (only a hostile sender makes them) are replaced here, once for every source.
  const envelope: Envelope = { v: 1, cluster, source: source as Source, type, node: wellFormed(node), index, sentAt, body: wellFormed(body), bodyEncoding };
  if (scope) envelope.scope = scope;
  if (o.env !== undefined && o.env !== null) {
    if (typeof o.env !== 'object' || Array.isArray(o.env)) throw new InputError('envelope.env must be an object of strings');
    const entries = Object.entries(o.env as Record<string, unknown>);
    if (entries.length > MAX_ENV_VARS) throw new InputError(`envelope.env has more than ${MAX_ENV_VARS} variables`);
    for (const [k, v] of entries) {
      if (!ENV_NAME.test(k) || k === '__proto__') throw new InputError('envelope.env has a variable name that is empty, longer than 128 characters, or has control characters or "="');
      if (typeof v !== 'string' || v.length > maxEnvValueChars(k)) throw new InputError(`envelope.env.${k.slice(0, 64)} must be a string of at most ${maxEnvValueChars(k)} characters`);
    }
    envelope.env = Object.fromEntries(entries.map(([k, v]) => [k, wellFormed(v as string)]));
  }
  if (o.delta !== undefined && o.delta !== null && o.delta !== false) {
    if (o.delta !== true) throw new InputError('envelope.delta must be true when present');
    if (source !== 'consul' || type !== 'checks') throw new InputError('envelope.delta is only defined for consul checks watches');
    const base = field(o, 'base', 'string') as string;
    if (!/^\d{1,40}$/.test(base)) throw new InputError('envelope.base must be a string of digits');
    envelope.delta = true;
    envelope.base = base;
  }
  if (o.form !== undefined && o.form !== null) {
    if (o.form !== PROJECTED_FORM) throw new InputError(`envelope.form must be "${PROJECTED_FORM}" when present`);
    if (source !== 'consul' || !hasProjection(type)) throw new InputError('envelope.form "projected" is only defined for consul checks, key, keyprefix, service and nodes watches');
    envelope.form = PROJECTED_FORM;
  }
  return envelope;
}

/** The handler's stdin as text (UTF-8) or bytes. */
export function envelopeBodyText(envelope: Envelope): string {
  return envelope.bodyEncoding === 'base64' ? Buffer.from(envelope.body, 'base64').toString('utf8') : envelope.body;
}
