/**
 * Consul `agent_service` watch (/v1/agent/service/<id>): one AgentService of the
 * local agent. Blocking is hash-based, so CONSUL_INDEX carries no order (it is 0):
 * the handler runs on one node, one invocation at a time, and that node's
 * `sentAt` orders its observations. Not invoked on 404, so deregistration is
 * never seen here. The first observation is the baseline.
 */
import { createHash } from 'node:crypto';
import { asObject, formatMap, optNumber, optString, reqString, sameJson, stableJson, stringArray, stringMap, tagSet } from './fields';
import { buildAlert, ignore, tagDiff, type Verdict } from './decision';
import { alertVocabulary } from '../alert-vocabulary';

/** What `agent_service` alerts say (rules/vocabulary.ts): a registration changed. */
export const AGENT_SERVICE_ALERTS = alertVocabulary({
  source: 'consul',
  kind: 'agent-service',
  severity: ['info'],
  to: ['changed'],
  from: ['registered'],
  fromMayBeAbsent: false,
});

export interface AgentServiceObservation {
  id: string;
  service: string;
  kind: string;
  tags: string[];
  port: number;
  address: string;
  meta: Record<string, string>;
  /** name -> host:port (IPv6 hosts bracketed). */
  taggedAddresses: Record<string, string>;
  weights: string;
  enableTagOverride: boolean;
}

export interface AgentServiceState {
  facts: AgentServiceObservation;
  fingerprint: string;
  /** sentAt of the newest observation processed (epoch ms). */
  observedAtMs: number;
  since: string;
}

function hostPort(entry: unknown): string {
  if (typeof entry === 'string') return entry;
  const o = asObject(entry, 'a TaggedAddresses entry');
  const addr = optString(o, 'Address');
  const port = optNumber(o, 'Port');
  return `${addr.includes(':') ? `[${addr}]` : addr}${port ? `:${port}` : ''}`;
}

export function normalizeAgentService(parsed: unknown): AgentServiceObservation {
  const o = asObject(parsed, 'an agent_service watch body (AgentService)');
  const tagged = o.TaggedAddresses === null || o.TaggedAddresses === undefined ? {} : asObject(o.TaggedAddresses, 'TaggedAddresses');
  const weights = o.Weights === null || o.Weights === undefined ? {} : asObject(o.Weights, 'Weights');
  return {
    id: reqString(o, 'ID'),
    service: optString(o, 'Service'),
    kind: optString(o, 'Kind'),
    tags: tagSet(stringArray(o, 'Tags')),
    port: optNumber(o, 'Port'),
    address: optString(o, 'Address'),
    meta: stringMap(o, 'Meta'),
    taggedAddresses: Object.fromEntries(Object.keys(tagged).sort().map((k) => [k, hostPort(tagged[k])])),
    weights: Object.keys(weights).length ? `passing=${String(weights.Passing ?? '')} warning=${String(weights.Warning ?? '')}` : '',
    enableTagOverride: o.EnableTagOverride === true,
  };
}

export const agentServiceSubject = (node: string, id: string): string => `agent-service/${node}/${id}`;

export function agentServiceFingerprint(o: AgentServiceObservation): string {
  return createHash('sha256').update(stableJson(o)).digest('hex').slice(0, 32);
}

const FIELDS: Array<[keyof AgentServiceObservation, string]> = [
  ['service', 'Service name'],
  ['kind', 'Kind'],
  ['tags', 'Tags'],
  ['address', 'Address'],
  ['port', 'Port'],
  ['taggedAddresses', 'TaggedAddresses'],
  ['meta', 'Meta'],
  ['weights', 'Weights'],
  ['enableTagOverride', 'EnableTagOverride'],
];

function show(v: unknown): string {
  if (Array.isArray(v)) return v.join(', ') || '(none)';
  if (typeof v === 'object' && v !== null) return formatMap(v as Record<string, string>) || '(none)';
  return v === '' ? '(none)' : String(v);
}

export interface AgentServiceContext {
  cluster: string;
  at: string;
  /** The agent the service is registered with (the watch runs there). */
  node: string;
  /** The observation's time on that node (envelope sentAt), epoch ms. */
  observedAtMs: number;
}

export function decideAgentService(previous: AgentServiceState | undefined, o: AgentServiceObservation, ctx: AgentServiceContext): Verdict<AgentServiceState> {
  const fingerprint = agentServiceFingerprint(o);
  const state: AgentServiceState = { facts: o, fingerprint, observedAtMs: ctx.observedAtMs, since: ctx.at };
  if (!previous) return { decision: { kind: 'write', state } }; // baseline
  if (ctx.observedAtMs < previous.observedAtMs) return ignore('stale');
  if (previous.fingerprint === fingerprint) {
    if (ctx.observedAtMs === previous.observedAtMs) return ignore('unchanged');
    // Record the newer observation time so an older, delayed delivery stays stale.
    return { decision: { kind: 'write', state: { ...previous, observedAtMs: ctx.observedAtMs } } };
  }
  const changes: Array<[string, string]> = FIELDS.filter(([k]) => !sameJson(previous.facts[k], o[k])).map(([k, name]) =>
    k === 'tags' ? [`${name} changed`, `${tagDiff(previous.facts.tags, o.tags)} (now: ${show(o.tags)})`] : [`${name} changed`, `${show(previous.facts[k])} -> ${show(o[k])}`],
  );
  const subject = agentServiceSubject(ctx.node, o.id);
  return {
    decision: {
      kind: 'write',
      state,
      alert: buildAlert(AGENT_SERVICE_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: ctx.node,
        service: o.service || o.id,
        what: `service ${o.id} on ${ctx.node} changed (${changes.map(([k]) => k.replace(' changed', '')).join(', ') || 'registration'})`,
        from: 'registered',
        to: 'changed',
        at: ctx.at,
        since: previous.since,
        details: [
          ...changes,
          ['Service', o.service],
          ['ID', o.id],
          ['Node', ctx.node],
          ['Endpoint', `${o.address.includes(':') ? `[${o.address}]` : o.address || '(agent address)'}${o.port ? `:${o.port}` : ''}`],
          ['Tags', show(o.tags)],
        ],
        idParts: [subject, previous.fingerprint, fingerprint, ctx.observedAtMs],
      }),
    },
  };
}
