/**
 * Consul `service` watch (/v1/health/service/<name>): instances registered,
 * deregistered, changed, and their aggregated health, maintenance aside.
 * Every instance is compared on every new snapshot: an instance's own indexes can
 * go down (a check deregistered), so only the watch index orders snapshots.
 */
import { raftIndex } from '../../domain/consul/fields';
import {
  decideInstance,
  decideInstanceGone,
  instanceSubject,
  normalizeServiceEntries,
  type InstanceObservation,
  type InstanceState,
} from '../../domain/consul/health-service';
import { parseBodyJson } from './body';
import { deliveryOf, processKeyedSnapshot } from './consul-snapshot';
import type { SourceHandler } from './types';

export const consulService: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeServiceEntries(parseBodyJson(envelope, 'the service watch body'));
  const snapshotIndex = raftIndex(envelope.index);
  const { stale: _s, baseline: _b, ambiguous: _a, ...result } = await processKeyedSnapshot<InstanceObservation, InstanceState>(ctx, {
    cluster: envelope.cluster,
    scope: `consul-service/${envelope.scope ?? envelope.type}`,
    items: observations,
    subjectOf: instanceSubject,
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
    delivery: deliveryOf(envelope, ctx.clock.nowMs()),
    vanish: 'missing',
    recordBaseline: true,
    unordered: (state) => ({ ...state, index: 0 }),
    present: decideInstance,
    gone: decideInstanceGone,
    // Health is the episode (critical/warning firing, resolved); registrations, changes and maintenance are notices.
    routing: (alert, prev, item) => ({
      role: alert.state === 'resolved' || alert.severity !== 'info' ? 'episode' : 'notice',
      facts: item ? { tags: item.tags, serviceMeta: item.meta, nodeMeta: item.nodeMeta } : { tags: prev?.tags ?? [] },
    }),
  });
  return { accepted: observations.length, rejected, ...result };
};
