/** Turn one handler invocation (stdin + environment) into an Envelope, verbatim. */
import { isAscii } from 'node:buffer';
import type * as os from 'node:os';
import { CONSUL_WATCH_TYPES, type Envelope } from '../../lambdas/domain/types';
import { LIMITS, SERF_NAME_VARIABLES } from '../../lambdas/domain/protocol';
import { UsageError } from './args';

export type Invocation =
  | { source: 'consul'; type: string; query: false }
  | { source: 'serf'; type: string; query: boolean };

/**
 * An explicit --watch means Consul even if SERF_EVENT leaked into the environment
 * (e.g. a Consul agent started from a Serf handler); otherwise SERF_EVENT means Serf.
 */
export function detectInvocation(watch: string | undefined, env: NodeJS.ProcessEnv): Invocation {
  if (watch !== undefined) {
    if (!(CONSUL_WATCH_TYPES as readonly string[]).includes(watch)) {
      throw new UsageError(`unknown Consul watch type "${watch}" for --watch (one of: ${CONSUL_WATCH_TYPES.join(', ')})`);
    }
    return { source: 'consul', type: watch, query: false };
  }
  const serfEvent = env.SERF_EVENT;
  if (serfEvent) {
    // The API accepts lower-case names only; anything else is not a Serf event.
    if (!/^[a-z][a-z_-]{0,31}$/.test(serfEvent)) throw new UsageError(`unexpected SERF_EVENT value "${serfEvent.slice(0, 64)}"`);
    return { source: 'serf', type: serfEvent, query: serfEvent === 'query' };
  }
  throw new UsageError(
    'not a Serf event (SERF_EVENT is unset) and no --watch given: a Consul watch handler must pass --watch <type> ' +
      `(one of: ${CONSUL_WATCH_TYPES.join(', ')})`,
  );
}

/** Made on first use: ASCII input (the usual case) never needs it. */
let decoder: InstanceType<typeof TextDecoder> | undefined;

/** UTF-8 text when the bytes are valid UTF-8 (Consul JSON, Serf member lines), else base64 (binary Serf payloads). */
export function encodeBody(bytes: Uint8Array): Pick<Envelope, 'body' | 'bodyEncoding'> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // ASCII (what Consul's JSON encoder writes unless a name or output has non-ASCII text):
  // valid UTF-8, so no fatal decoder. UTF-8, not latin1: Node makes a latin1 string
  // over ~1 MB an external one (a malloc'd copy outside V8's heap), which counts as external
  // memory and brings on a full mark-compact GC while the big input is parsed; the UTF-8
  // decode of ASCII is as fast and lands in V8's heap.
  if (isAscii(buf)) return { body: buf.toString('utf8'), bodyEncoding: 'utf8' };
  try {
    decoder ??= new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    return { body: decoder.decode(bytes), bodyEncoding: 'utf8' };
  } catch {
    return { body: buf.toString('base64'), bodyEncoding: 'base64' };
  }
}

// Limits the ingest API enforces on env (lambdas/domain/envelope.ts).
const MAX_ENV_VARS = LIMITS.maxEnvVars;
const MAX_ENV_VALUE_CHARS = LIMITS.maxEnvValueChars;
/**
 * The event or query name is what the envelope is about: always forwarded, whatever its
 * length (up to LIMITS.maxSerfEventNameBytes, all Serf can send; beyond, the API says why).
 */
const NAME_VARIABLES: ReadonlySet<string> = new Set(SERF_NAME_VARIABLES);
/**
 * Handlers inherit the agent's whole environment (CONSUL_HTTP_TOKEN, SERF_RPC_AUTH...).
 * Never forward anything that looks like a credential. Serf tags are gossiped in clear,
 * so SERF_TAG_* is exempt (a tag may legitimately be called "key").
 */
const SECRET_RE = /TOKEN|AUTH|SECRET|PASS|ENCRYPT|KEY|CERT|CRED/;
const SERF_FIRST = ['SERF_EVENT', 'SERF_SELF_NAME', 'SERF_SELF_ROLE', 'SERF_USER_EVENT', 'SERF_USER_LTIME', 'SERF_QUERY_NAME', 'SERF_QUERY_LTIME'];

export function pickEnv(env: NodeJS.ProcessEnv, prefix: 'SERF_' | 'CONSUL_'): Record<string, string> | undefined {
  const names = Object.keys(env)
    .filter((k) => k.startsWith(prefix) && (k.startsWith('SERF_TAG_') || !SECRET_RE.test(k.slice(prefix.length))))
    .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const out: Record<string, string> = {};
  let n = 0;
  for (const k of names) {
    const v = env[k];
    if (v === undefined || (v.length > MAX_ENV_VALUE_CHARS && !NAME_VARIABLES.has(k))) continue;
    if (n++ >= MAX_ENV_VARS) break;
    out[k] = v;
  }
  return n > 0 ? out : undefined;
}

function rank(name: string): number {
  const i = SERF_FIRST.indexOf(name);
  if (i !== -1 || name === 'CONSUL_INDEX') return i === -1 ? 0 : i;
  return name.startsWith('SERF_TAG_') ? 100 : 200;
}

/** Indexes are forwarded as strings (CONSUL_INDEX can exceed 2^53); non-numeric values are dropped. */
function digits(v: string | undefined): string | null {
  return v !== undefined && /^\d{1,40}$/.test(v) ? v : null;
}

export interface BuildInput {
  invocation: Invocation;
  cluster: string;
  node?: string;
  scope?: string;
  stdin: Uint8Array;
  env: NodeJS.ProcessEnv;
  now: Date;
}

export function buildEnvelope(input: BuildInput): Envelope {
  const { invocation: inv, env } = input;
  const serf = inv.source === 'serf';
  // node:os is required only when no node name is configured.
  const node = input.node || (serf && env.SERF_SELF_NAME ? env.SERF_SELF_NAME : (require('node:os') as typeof os).hostname());
  const index = serf ? digits(env.SERF_USER_LTIME) ?? digits(env.SERF_QUERY_LTIME) : digits(env.CONSUL_INDEX);
  const envelope: Envelope = {
    v: 1,
    cluster: input.cluster,
    source: inv.source,
    type: inv.type,
    scope: input.scope ?? inv.type,
    node: node.slice(0, 256),
    index,
    sentAt: input.now.toISOString(),
    ...encodeBody(input.stdin),
  };
  const picked = pickEnv(env, serf ? 'SERF_' : 'CONSUL_');
  if (picked) envelope.env = picked;
  return envelope;
}

/** Loose shape check for envelopes read back from the spool. */
export function isEnvelope(v: unknown): v is Envelope {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o.v === 1 && typeof o.cluster === 'string' && typeof o.source === 'string' && typeof o.type === 'string' && typeof o.body === 'string';
}
