/** Consul `agent_service` watch: the local agent's registration of one service. */
import { agentServiceSubject, decideAgentService, normalizeAgentService, type AgentServiceState } from '../../domain/consul/agent-service';
import { InputError } from '../../domain/input-errors';
import { TransitionEngine } from '../transition-engine';
import { parseBodyJson } from './body';
import { routeDecision } from './routing';
import type { SourceHandler } from './types';

export const consulAgentService: SourceHandler = async (envelope, ctx) => {
  const observation = normalizeAgentService(parseBodyJson(envelope, 'the agent_service watch body'));
  const sentAtMs = Date.parse(envelope.sentAt);
  if (Number.isNaN(sentAtMs)) throw new InputError('envelope.sentAt is not a time');
  // A node clock ahead of ours must not make its later observations look stale.
  const observedAtMs = Math.min(sentAtMs, ctx.clock.nowMs());
  const engine = new TransitionEngine(ctx);
  const at = new Date(ctx.clock.nowMs()).toISOString();
  const subject = agentServiceSubject(envelope.node, observation.id);
  const facts = { tags: observation.tags, serviceMeta: observation.meta };
  const outcome = await engine.apply<AgentServiceState>(envelope.cluster, subject, (prev) =>
    routeDecision(ctx, subject, prev?.state, decideAgentService(prev?.state, observation, { cluster: envelope.cluster, at, node: envelope.node, observedAtMs }).decision, () => ({
      role: 'notice',
      facts,
    })),
  );
  return {
    accepted: 1,
    rejected: [],
    examined: 1,
    ...engine.tally([outcome]),
  };
};
