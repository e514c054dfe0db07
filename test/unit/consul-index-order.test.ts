/** The verdict on a snapshot whose watch index is below its scope's watermark (docs/consul.md, "Indexes that go backwards"). */
import { deliveryFacts, judgeDelivery, nextEpoch, RESET_GAP_MS, type DeliveryFacts, type ScopeOrder } from '../../lambdas/domain/consul/index-order';

const T = Date.parse('2026-03-01T12:00:00Z');
const from = (node: string, sentAt: number, receivedAt = sentAt): DeliveryFacts => ({ node, sentAt, at: Math.min(sentAt, receivedAt) });
/** Agent a1 moved the watermark to 5,000,000 at T. */
const scope: ScopeOrder = { watermark: 5_000_000, last: from('a1', T) };

describe('judgeDelivery', () => {
  it.each<[string, ScopeOrder, number | undefined, DeliveryFacts | undefined, boolean, string]>([
    ['a higher index', scope, 5_000_001, from('a2', T + 1), false, 'forward'],
    ['the same index (a repeat, another agent, an agent restart)', scope, 5_000_000, from('a9', T + 3_600_000), false, 'forward'],
    ['no index (a hash-indexed or index-less delivery)', scope, undefined, from('a1', T + 1), false, 'forward'],
    ['no snapshot yet', { watermark: 0 }, 3, from('a1', T), false, 'forward'],
    ['no delivery facts (a caller that cannot say who sent it)', scope, 12, undefined, false, 'forward'],
    ['another agent a few indexes behind, a moment later', scope, 4_999_990, from('a2', T + 800), false, 'late'],
    ['another agent far behind, a moment later (a lagging agent)', scope, 12, from('a2', T + 5_000), false, 'late'],
    ['another agent, later by just under the gap', scope, 12, from('a2', T + RESET_GAP_MS), false, 'late'],
    ['another agent, later by more than the gap', scope, 12, from('a2', T + RESET_GAP_MS + 1), false, 'reset'],
    ['another agent whose clock runs 20 min ahead, delivering live', scope, 12, from('a2', T + 1_200_000, T + 2_000), false, 'late'],
    ['the same agent, from a later handler run', scope, 12, from('a1', T + 1_000), false, 'reset'],
    ['the same agent, a spooled envelope from before (resent by a concurrent flush)', scope, 4_999_000, from('a1', T - 1_000, T + 60_000), false, 'late'],
    ['the same agent, the very same delivery replayed', scope, 4_999_000, from('a1', T), false, 'late'],
    ['the shared "consul-http" node name is not one agent', { ...scope, last: from('consul-http', T) }, 12, from('consul-http', T + 1_000), true, 'late'],
    ['the shared node name, more than the gap later', { ...scope, last: from('consul-http', T) }, 12, from('consul-http', T + RESET_GAP_MS + 1), true, 'reset'],
    ['a scope from before `last` (no evidence at all)', { watermark: 5_000_000 }, 12, from('a1', T + RESET_GAP_MS * 10), false, 'late'],
    ['a scope from before `last` (its updatedAt, no node)', { watermark: 5_000_000, last: { node: '', sentAt: T, at: T } }, 12, from('', T + 1), false, 'late'],
    ['handler ran before the reset that started the epoch', { watermark: 40, epoch: T, last: from('a1', T) }, 6_000_000, from('a2', T - 1), false, 'before-reset'],
    ['handler ran after the reset', { watermark: 40, epoch: T, last: from('a1', T) }, 41, from('a2', T + 1), false, 'forward'],
  ])('%s', (_name, s, index, delivery, shared, expected) => {
    expect(judgeDelivery(s, index, delivery, shared).kind).toBe(expected);
  });

  it('names its evidence', () => {
    expect(judgeDelivery(scope, 12, from('a1', T + 1), false)).toEqual({ kind: 'reset', evidence: 'same-agent' });
    expect(judgeDelivery(scope, 12, from('a2', T + RESET_GAP_MS + 1), false)).toEqual({ kind: 'reset', evidence: 'later-run' });
  });

  it('tolerates the clock skew signed requests may have', () => {
    expect(RESET_GAP_MS).toBe(300_000);
  });
});

describe('nextEpoch and deliveryFacts', () => {
  it('an epoch is the reset delivery\'s time, and always after the previous one', () => {
    expect(nextEpoch({ watermark: 9 }, from('a1', T))).toBe(T);
    expect(nextEpoch({ watermark: 9, epoch: T + 5 }, from('a1', T))).toBe(T + 6);
  });

  it('a delivery is as late as the earlier of its sentAt and its receipt', () => {
    expect(deliveryFacts('a1', new Date(T).toISOString(), T + 9_000)).toEqual({ node: 'a1', sentAt: T, at: T });
    expect(deliveryFacts('a1', new Date(T + 60_000).toISOString(), T)).toEqual({ node: 'a1', sentAt: T + 60_000, at: T });
  });
});
