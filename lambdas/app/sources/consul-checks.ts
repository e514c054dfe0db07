import { InputError } from '../../domain/input-errors';
import { normalizeChecks } from '../../domain/consul/checks';
import { normalizeCheckDelta } from '../../domain/consul/check-deltas';
import { continueCheckSnapshot, processCheckSnapshot, type SnapshotDeps } from './check-snapshots';
import type { ContinuationTimer } from '../../domain/rules/outbox';
import { parseBodyJson } from './body';
import { deliveryOf } from './consul-snapshot';
import type { SourceContext, SourceHandler } from './types';

export const consulChecks: SourceHandler = async (envelope, ctx) => {
  const body = parseBodyJson(envelope, envelope.delta ? 'the checks delta body' : 'the checks watch body');
  const { observations, rejected, removed } = envelope.delta ? normalizeCheckDelta(body) : { ...normalizeChecks(body), removed: undefined };
  let delta: { base: number; removed: string[] } | undefined;
  if (removed) {
    const base = Number(envelope.base);
    if (!Number.isSafeInteger(base)) throw new InputError('envelope.base is out of range');
    delta = { base, removed };
  }
  const index = envelope.index !== null ? Number(envelope.index) : undefined;
  const result = await processCheckSnapshot(
    snapshotDeps(ctx),
    {
      cluster: envelope.cluster,
      scope: envelope.scope ?? envelope.type,
      observations,
      ...(index !== undefined && Number.isSafeInteger(index) ? { snapshotIndex: index } : {}),
      ...(delta ? { delta } : {}),
      delivery: deliveryOf(envelope, ctx.clock.nowMs()),
    },
  );
  return { accepted: observations.length, rejected, ...result };
};

function snapshotDeps(ctx: SourceContext, deadlineMs = ctx.deadlineMs): SnapshotDeps {
  return {
    subjects: ctx.subjects,
    scopes: ctx.scopes,
    publisher: ctx.publisher,
    policy: ctx.checkPolicy,
    ...(ctx.rules ? { rules: ctx.rules } : {}),
    clock: ctx.clock,
    ...(ctx.leaseMs !== undefined ? { leaseMs: ctx.leaseMs } : {}),
    ...(ctx.continuations ? { continuations: ctx.continuations } : {}),
    ...(ctx.nodes ? { nodes: ctx.nodes } : {}),
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
  };
}

/** The timers queue's `continue` step of a checks snapshot, until `deadlineMs`. */
export function continueConsulChecks(ctx: SourceContext, timer: ContinuationTimer, deadlineMs: number): ReturnType<typeof continueCheckSnapshot> {
  return continueCheckSnapshot(snapshotDeps(ctx, deadlineMs), timer);
}
