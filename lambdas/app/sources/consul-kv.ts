/** Consul `key` and `keyprefix` watches: keys created, changed, deleted. */
import { raftIndex } from '../../domain/consul/fields';
import { decideKvGone, decideKvPresent, kvSubject, normalizeKey, normalizeKeyprefix, type KvObservation, type KvRecordState } from '../../domain/consul/kv';
import type { Envelope } from '../../domain/types';
import { PROJECTED_FORM } from '../../domain/consul/wire-form';
import { parseBodyJson } from './body';
import { deliveryOf, processKeyedSnapshot } from './consul-snapshot';
import type { SourceContext, SourceHandler, SourceResult } from './types';

async function processKv(envelope: Envelope, ctx: SourceContext, single: boolean): Promise<SourceResult> {
  const body = parseBodyJson(envelope, `the ${envelope.type} watch body`);
  const projected = envelope.form === PROJECTED_FORM;
  const { observations, rejected } = single ? normalizeKey(body, projected) : normalizeKeyprefix(body, projected);
  const snapshotIndex = raftIndex(envelope.index);
  const { stale: _stale, baseline: _baseline, ambiguous, ...result } = await processKeyedSnapshot<KvObservation, KvRecordState>(ctx, {
    cluster: envelope.cluster,
    scope: `consul-${envelope.type}/${envelope.scope ?? envelope.type}`,
    items: observations,
    subjectOf: (o) => kvSubject(o.key),
    indexOf: (o) => o.modifyIndex,
    ...(snapshotIndex !== undefined ? { snapshotIndex } : {}),
    delivery: deliveryOf(envelope, ctx.clock.nowMs()),
    // keyprefix: a key missing from the list is deleted (null = all of them).
    // key: the body names no key when it is null; the scope's one known key is meant.
    vanish: !single ? 'missing' : body === null ? 'single' : 'none',
    recordBaseline: false,
    unordered: (state) => ({ ...state, modifyIndex: 0 }),
    present: decideKvPresent,
    gone: (prev, subject, c) => decideKvGone(prev, subject.slice('kv/'.length), c),
    // A deleted key is the episode; created again, it is over.
    routing: (alert) => ({ role: alert.to === 'deleted' ? 'episode' : alert.from === 'deleted' ? 'resolves' : 'notice' }),
  });
  if (ambiguous) {
    rejected.push({ index: 0, reason: `a key watch reported null, but scope "${envelope.scope ?? envelope.type}" tracks several keys: give each key watch its own scope` });
  }
  return { accepted: observations.length, rejected, ...result };
}

export const consulKey: SourceHandler = (envelope, ctx) => processKv(envelope, ctx, true);
export const consulKeyprefix: SourceHandler = (envelope, ctx) => processKv(envelope, ctx, false);
