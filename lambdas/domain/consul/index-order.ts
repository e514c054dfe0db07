/**
 * Which snapshot is newer, when Consul's indexes can go backwards (docs/consul.md, "Indexes
 * that go backwards"). Within one index space a higher watch index is a later state. A
 * rebuilt cluster, a Raft snapshot restore, some upgrades and KV lists whose newest key was
 * deleted hand out LOWER indexes for a LATER state; a late or repeated delivery (a spooled
 * envelope, another agent a few indexes behind, an agent restart) hands out a lower index
 * for an EARLIER state. The indexes alone cannot tell the two apart; the order in which the
 * handlers ran can:
 *
 * - one agent's deliveries arrive in the order its handler ran (Consul runs a watch's
 *   handler serially; the shim's spool resends oldest first and queues new envelopes
 *   behind older ones), so an agent that reports a lower index than it reported before,
 *   from a later handler run, saw the index go backwards itself: its watch was reset;
 * - with Consul's default (consistent) reads, a state at a lower index was read before the
 *   higher index was committed, so its handler ran before the handler that reported the
 *   higher index. A lower index whose handler ran clearly later (more than the clock skew
 *   tocsin tolerates) belongs to a new index space.
 *
 * Anything else with a lower index is an older delivery and changes nothing. Pure.
 */
import { LIMITS } from '../protocol';

/** Who delivered a snapshot and when its handler ran. */
export interface DeliveryFacts {
  /** Envelope node: the agent that ran the handler. */
  node: string;
  /** Envelope sentAt (the reporting agent's clock), epoch ms. */
  sentAt: number;
  /** min(sentAt, receipt on our clock), epoch ms: a clock running ahead cannot make a delivery look later. */
  at: number;
}

/** The delivery that last moved a scope's watermark, kept in the scope record. */
export type LastDelivery = DeliveryFacts;

/** What the verdict needs of a scope. */
export interface ScopeOrder {
  /** Highest index processed (0: no snapshot yet). */
  watermark: number;
  /** When the scope's current index space began (epoch ms of the delivery that reset it; 0: never reset). */
  epoch?: number;
  last?: LastDelivery;
}

/**
 * How far apart two handler runs must be (by their clocks) before a lower index from a
 * different agent counts as a later state: the clock skew the API tolerates for signed
 * requests (LIMITS.signatureWindowSeconds), so a clock off by less than that can never
 * turn a late delivery into a reset.
 */
export const RESET_GAP_MS = LIMITS.signatureWindowSeconds * 1000;

export type OrderVerdict =
  /** Not behind the scope (or no index / no snapshot yet): processed as always. */
  | { kind: 'forward' }
  /** Lower index, earlier state: a late or repeated delivery. Nothing changes. */
  | { kind: 'late' }
  /** Its handler ran before the delivery that reset the scope: from the old index space. Nothing changes. */
  | { kind: 'before-reset' }
  /** Lower index, later state: the index space was reset. Re-baseline against stored state. */
  | { kind: 'reset'; evidence: 'same-agent' | 'later-run' };

/**
 * `sharedNode`: the node name is not one agent's (Consul's http handler without an
 * X-Tocsin-Node header reports every agent as `consul-http`): same-agent evidence is void.
 */
export function judgeDelivery(scope: ScopeOrder, index: number | undefined, delivery: DeliveryFacts | undefined, sharedNode: boolean): OrderVerdict {
  if (!delivery) return { kind: 'forward' };
  const epoch = scope.epoch ?? 0;
  if (epoch > 0 && delivery.at < epoch) return { kind: 'before-reset' };
  if (index === undefined || scope.watermark === 0 || index >= scope.watermark) return { kind: 'forward' };
  const last = scope.last;
  if (!last) return { kind: 'late' };
  if (!sharedNode && last.node !== '' && delivery.node === last.node && delivery.sentAt > last.sentAt) return { kind: 'reset', evidence: 'same-agent' };
  if (delivery.at > last.at + RESET_GAP_MS) return { kind: 'reset', evidence: 'later-run' };
  return { kind: 'late' };
}

/** The epoch a reset by `delivery` starts: its time, and always after the scope's current one. */
export function nextEpoch(scope: ScopeOrder, delivery: DeliveryFacts): number {
  return Math.max(delivery.at, (scope.epoch ?? 0) + 1);
}

/** Delivery facts of an envelope received at `nowMs`. */
export function deliveryFacts(node: string, sentAtIso: string, nowMs: number): DeliveryFacts {
  const sentAt = Date.parse(sentAtIso);
  const valid = Number.isFinite(sentAt) ? sentAt : nowMs;
  return { node, sentAt: valid, at: Math.min(valid, nowMs) };
}

/** What a snapshot result says about its index, when it was behind the scope (logged by the API). */
export interface IndexReport {
  verdict: 'late' | 'before-reset' | 'reset';
  /** The snapshot's watch index and the scope's watermark before it. */
  index: number | null;
  watermark: number;
  evidence?: 'same-agent' | 'later-run';
}

export function indexReport(verdict: OrderVerdict, index: number | undefined, watermark: number): IndexReport | undefined {
  if (verdict.kind === 'forward') return undefined;
  return { verdict: verdict.kind, index: index ?? null, watermark, ...(verdict.kind === 'reset' ? { evidence: verdict.evidence } : {}) };
}
