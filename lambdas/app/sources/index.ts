/** Registry: `${source}/${type}` -> the handler for it. One line per supported input. */
import type { Envelope } from '../../domain/types';
import type { SourceHandler } from './types';
import { consulChecks } from './consul-checks';
import { consulKey, consulKeyprefix } from './consul-kv';
import { consulNodes, consulServices } from './consul-catalog';
import { consulService } from './consul-service';
import { consulEvent } from './consul-event';
import { consulAgentService } from './consul-agent-service';
import { serfMemberFailed, serfMemberJoin, serfMemberLeave, serfMemberReap, serfMemberUpdate } from './serf-members';
import { serfQuery, serfUser } from './serf-events';
import { tocsinHeartbeat } from './tocsin-heartbeat';

export const SOURCE_HANDLERS: Readonly<Record<string, SourceHandler>> = {
  'consul/checks': consulChecks,
  'consul/key': consulKey,
  'consul/keyprefix': consulKeyprefix,
  'consul/services': consulServices,
  'consul/nodes': consulNodes,
  'consul/service': consulService,
  'consul/event': consulEvent,
  'consul/agent_service': consulAgentService,
  'serf/member-join': serfMemberJoin,
  'serf/member-leave': serfMemberLeave,
  'serf/member-failed': serfMemberFailed,
  'serf/member-update': serfMemberUpdate,
  'serf/member-reap': serfMemberReap,
  'serf/user': serfUser,
  'serf/query': serfQuery,
  'tocsin/heartbeat': tocsinHeartbeat,
};

export function handlerFor(source: string, type: string): SourceHandler | undefined {
  return Object.prototype.hasOwnProperty.call(SOURCE_HANDLERS, `${source}/${type}`) ? SOURCE_HANDLERS[`${source}/${type}`] : undefined;
}

/**
 * Whether processing this envelope twice is the same as processing it once, whatever
 * happened in between, so that a replayed copy needs no refusing (and the request no
 * replay record, one DynamoDB write per request). True for `checks` snapshots and deltas
 * that carry Consul's index: checks at or below the scope's watermark are not examined
 * again, a removal older than the stored check is stale (check-snapshots.ts), and a copy
 * carries its original node and sentAt, so it can never pass for a reset of the index
 * (domain/consul/index-order.ts: not later than the delivery that moved the watermark
 * since, or from before the reset it caused). Everything
 * else (Serf members above all, which have no index) keeps the replay guard.
 */
export function repeatIsNoOp(envelope: Envelope): boolean {
  return envelope.source === 'consul' && envelope.type === 'checks' && envelope.index !== null && /^[0-9]{1,15}$/.test(envelope.index);
}

export type { SourceContext, SourceHandler, SourceResult } from './types';
