import { normalizeChecks } from '../../domain/consul-checks';
import { processCheckSnapshot } from '../check-snapshots';
import { parseBodyJson } from './body';
import type { SourceHandler } from './types';

export const consulChecks: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeChecks(parseBodyJson(envelope, 'the checks watch body'));
  const index = envelope.index !== null ? Number(envelope.index) : undefined;
  const result = await processCheckSnapshot(
    {
      subjects: ctx.subjects,
      scopes: ctx.scopes,
      publisher: ctx.publisher,
      policy: ctx.checkPolicy,
      clock: ctx.clock,
      ...(ctx.leaseMs !== undefined ? { leaseMs: ctx.leaseMs } : {}),
    },
    {
      cluster: envelope.cluster,
      scope: envelope.scope ?? envelope.type,
      observations,
      ...(index !== undefined && Number.isSafeInteger(index) ? { snapshotIndex: index } : {}),
    },
  );
  return { accepted: observations.length, rejected, ...result };
};
