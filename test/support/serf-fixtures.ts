/**
 * Serf handler inputs built to ../shared/docs/handler-inputs.md and Serf's invoke.go:
 * member lines `NAME\tADDR\tROLE\tk=v,...\n` with TAB/LF escaped as `\t`/`\n`, and
 * shim envelopes as the shim would build them for a Serf agent.
 */
import type { Envelope } from '../../lambdas/domain/types';

const clean = (v: string) => v.replace(/\t/g, '\\t').replace(/\n/g, '\\n');

/** One member line; tag order as given (Serf's varies), role column from the `role` tag. */
export function memberLine(name: string, addr: string, tags: Record<string, string>): string {
  const pairs = Object.entries(tags).map(([k, v]) => `${k}=${v}`);
  return `${clean(name)}\t${addr}\t${clean(tags.role ?? '')}\t${clean(pairs.join(','))}\n`;
}

export interface SerfEnvelopeInput {
  cluster: string;
  type: string;
  /** SERF_SELF_NAME of the reporting agent. */
  reporter: string;
  body?: string | Buffer;
  /** ISO time the handler ran; default now. */
  sentAt?: string;
  index?: string | null;
  env?: Record<string, string>;
}

export function serfEnvelope(input: SerfEnvelopeInput): Envelope {
  const body = input.body ?? '';
  let encoded: Pick<Envelope, 'body' | 'bodyEncoding'>;
  if (typeof body === 'string') encoded = { body, bodyEncoding: 'utf8' };
  else {
    try {
      encoded = { body: new TextDecoder('utf-8', { fatal: true }).decode(body), bodyEncoding: 'utf8' };
    } catch {
      encoded = { body: body.toString('base64'), bodyEncoding: 'base64' };
    }
  }
  return {
    v: 1,
    cluster: input.cluster,
    source: 'serf',
    type: input.type,
    scope: input.type,
    node: input.reporter,
    index: input.index ?? null,
    sentAt: input.sentAt ?? new Date().toISOString(),
    ...encoded,
    env: { SERF_EVENT: input.type, SERF_SELF_NAME: input.reporter, SERF_SELF_ROLE: '', ...input.env },
  };
}

export function userEventEnvelope(cluster: string, reporter: string, name: string, ltime: number | string, payload: string | Buffer = '', sentAt?: string): Envelope {
  return serfEnvelope({
    cluster,
    type: 'user',
    reporter,
    body: payload,
    index: String(ltime),
    env: { SERF_USER_EVENT: name, SERF_USER_LTIME: String(ltime) },
    ...(sentAt ? { sentAt } : {}),
  });
}

export function queryEnvelope(cluster: string, reporter: string, name: string, ltime: number | string, payload: string | Buffer = ''): Envelope {
  return serfEnvelope({
    cluster,
    type: 'query',
    reporter,
    body: payload,
    index: String(ltime),
    env: { SERF_QUERY_NAME: name, SERF_QUERY_LTIME: String(ltime) },
  });
}
