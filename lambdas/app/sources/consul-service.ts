/**
 * Consul `service` watch (/v1/health/service/<name>): instances registered,
 * deregistered, changed, and their aggregated health, maintenance aside.
 * Every instance is compared on every new snapshot: an instance's own indexes can
 * go down (a check deregistered), so only the watch index orders snapshots.
 *
 * The snapshot lists every instance of the service, so it also says how many are healthy
 * (service impact, consul/service-impact.ts): each alert carries the count, and the count is
 * kept per service (NodeCatalog) for the checks' alerts and the node incidents.
 */
import { raftIndex } from '../../domain/consul/fields';
import type { Verdict } from '../../domain/consul/decision';
import {
  decideInstance,
  decideInstanceGone,
  instanceSubject,
  normalizeServiceEntries,
  type InstanceObservation,
  type InstanceState,
} from '../../domain/consul/health-service';
import { impactFacts, impactLine, serviceHealthOf, type ServiceHealth } from '../../domain/consul/service-impact';
import { nodeSubject, SERF_HEALTH_CHECK } from '../../domain/nodes/node-incident';
import { parseBodyJson } from './body';
import { deliveryOf, processKeyedSnapshot } from './consul-snapshot';
import { nodeIncidentFacts, recordSaysDown } from './node-incidents';
import type { SourceHandler } from './types';

/** The verdict's alert with the service's health in its details. */
function withImpact(verdict: Verdict<InstanceState>, health: ServiceHealth): Verdict<InstanceState> {
  const d = verdict.decision;
  if (d.kind !== 'write' || !d.alert) return verdict;
  return { ...verdict, decision: { ...d, alert: { ...d.alert, details: [...d.alert.details, ['Service health', impactLine(health)]] } } };
}

export const consulService: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeServiceEntries(parseBodyJson(envelope, 'the service watch body'));
  const snapshotIndex = raftIndex(envelope.index);
  const health = serviceHealthOf(observations);
  const healthOf = (service: string): ServiceHealth => health.get(service) ?? { service, healthy: 0, total: 0 };
  const counted = new Set<string>(health.keys());
  // Unhealthy instances may be on a node that is down as one incident: their alerts fold into it.
  const unhealthyNodes = [...new Set(observations.filter((o) => o.health !== 'passing').map((o) => o.node))];
  const nodeRecords = unhealthyNodes.length > 0 ? await ctx.subjects.getMany(envelope.cluster, unhealthyNodes.map(nodeSubject)) : new Map();
  const nodeDown = (o: InstanceObservation): boolean =>
    recordSaysDown(nodeRecords.get(nodeSubject(o.node))) || o.failing.some((c) => c.checkId === SERF_HEALTH_CHECK && c.status === 'critical');
  const { stale, baseline: _b, ambiguous: _a, ...result } = await processKeyedSnapshot<InstanceObservation, InstanceState>(ctx, {
    cluster: envelope.cluster,
    scope: `consul-service/${envelope.scope ?? envelope.type}`,
    items: observations,
    subjectOf: instanceSubject,
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
    delivery: deliveryOf(envelope, ctx.clock.nowMs()),
    vanish: 'missing',
    recordBaseline: true,
    unordered: (state) => ({ ...state, index: 0 }),
    present: (prev, item, c) => withImpact(decideInstance(prev, item, c), healthOf(item.serviceName)),
    gone: (prev, subject, c) => {
      if (prev) counted.add(prev.serviceName);
      return prev ? withImpact(decideInstanceGone(prev, subject, c), healthOf(prev.serviceName)) : decideInstanceGone(prev, subject, c);
    },
    // Health is the episode (critical/warning firing, resolved); registrations, changes and maintenance are notices.
    routing: (alert, prev, item) => {
      const service = item?.serviceName ?? prev?.serviceName ?? alert.service;
      return {
      role: alert.state === 'resolved' || alert.severity !== 'info' ? 'episode' : 'notice',
      facts: {
        ...(item ? { tags: item.tags, serviceMeta: item.meta, nodeMeta: item.nodeMeta } : { tags: prev?.tags ?? [] }),
        ...(service ? impactFacts(healthOf(service)) : {}),
        ...(item && alert.state === 'firing' ? nodeIncidentFacts(item.node, nodeDown(item)) : {}),
      },
      };
    },
  });
  // What the checks' alerts and the node incidents read of this service: a newer snapshot's count wins.
  if (!stale && ctx.nodes && result.unsettled === 0 && result.deferred === undefined) {
    await Promise.all([...counted].map((service) => ctx.nodes!.putServiceHealth(envelope.cluster, healthOf(service), snapshotIndex)));
  }
  return { accepted: observations.length, rejected, ...result };
};
