/** Consul catalog watches: `services` (names and tags) and `nodes`. */
import {
  catalogNodeSubject,
  catalogServiceSubject,
  decideCatalogNode,
  decideCatalogNodeGone,
  decideCatalogService,
  decideCatalogServiceGone,
  normalizeCatalogNodes,
  normalizeCatalogServices,
  type CatalogNodeObservation,
  type CatalogNodeState,
  type CatalogServiceObservation,
  type CatalogServiceState,
} from '../../domain/consul/catalog';
import { raftIndex } from '../../domain/consul/fields';
import { parseBodyJson } from './body';
import { deliveryOf, processKeyedSnapshot } from './consul-snapshot';
import type { SourceHandler } from './types';

/** `services` carries no per-service index: the watch index orders whole snapshots. */
export const consulServices: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeCatalogServices(parseBodyJson(envelope, 'the services watch body'));
  const snapshotIndex = raftIndex(envelope.index);
  const { stale: _s, baseline: _b, ambiguous: _a, ...result } = await processKeyedSnapshot<CatalogServiceObservation, CatalogServiceState>(ctx, {
    cluster: envelope.cluster,
    scope: `consul-services/${envelope.scope ?? envelope.type}`,
    items: observations,
    subjectOf: (o) => catalogServiceSubject(o.name),
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
    delivery: deliveryOf(envelope, ctx.clock.nowMs()),
    vanish: 'missing',
    recordBaseline: true,
    unordered: (state) => ({ ...state, index: 0 }),
    present: decideCatalogService,
    gone: decideCatalogServiceGone,
    // A deregistered service is the episode; registered again, it is over.
    routing: (alert, prev, item) => ({
      role: alert.to === 'deregistered' ? 'episode' : alert.from === 'deregistered' ? 'resolves' : 'notice',
      facts: { tags: item?.tags ?? prev?.tags ?? [] },
    }),
  });
  return { accepted: observations.length, rejected, ...result };
};

export const consulNodes: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeCatalogNodes(parseBodyJson(envelope, 'the nodes watch body'));
  const snapshotIndex = raftIndex(envelope.index);
  const { stale: _s, baseline: _b, ambiguous: _a, ...result } = await processKeyedSnapshot<CatalogNodeObservation, CatalogNodeState>(ctx, {
    cluster: envelope.cluster,
    scope: `consul-nodes/${envelope.scope ?? envelope.type}`,
    items: observations,
    subjectOf: (o) => catalogNodeSubject(o.node),
    indexOf: (o) => o.modifyIndex,
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
    delivery: deliveryOf(envelope, ctx.clock.nowMs()),
    vanish: 'missing',
    recordBaseline: true,
    unordered: (state) => ({ ...state, modifyIndex: 0 }),
    present: decideCatalogNode,
    gone: decideCatalogNodeGone,
    // A node gone from the catalog is the episode; back, it is over.
    routing: (alert, prev, item) => ({
      role: alert.to === 'removed' ? 'episode' : alert.from === 'removed' ? 'resolves' : 'notice',
      facts: { nodeMeta: item?.meta ?? prev?.meta ?? {} },
    }),
  });
  return { accepted: observations.length, rejected, ...result };
};
