/** What every source handler (one per Consul watch type / Serf event) receives and returns. */
import type { NodeCatalog } from '../node-ports';
import type { Rejection } from '../../domain/input-errors';
import type { CheckAlertPolicy } from '../../domain/consul/check-transitions';
import type { RuleSet } from '../../domain/rules/evaluate';
import type { Envelope } from '../../domain/types';
import type { IndexReport } from '../../domain/consul/index-order';
import type { ContinuationStore, OutboxPublisher, ScopeStore, SubjectStore } from '../ports';
import type { TimerQueue } from '../delivery-ports';
import type { Clock } from '../runtime';

export interface SourceContext {
  subjects: SubjectStore;
  scopes: ScopeStore;
  publisher: OutboxPublisher;
  clock: Clock;
  checkPolicy: CheckAlertPolicy;
  /**
   * Alert rules (tocsin.yaml). Sources route their decision's alert with `routeDecision`
   * (routing.ts), which stores the subject's episode with its state; see
   * docs/ARCHITECTURE.md "Rules and delivery".
   */
  rules?: RuleSet;
  /** Lease for pending alerts; tests shorten it. */
  leaseMs?: number;
  /** Where a snapshot's rest goes when the request's time is up (check-snapshots.ts); absent: no time budget. */
  continuations?: { store: ContinuationStore; timers: TimerQueue };
  /** This request's deadline for starting subjects (epoch ms by `clock`): set per request by the ingest API. */
  deadlineMs?: number;
  /** Node incidents' and service impact's reads (app/node-ports.ts); absent: no node incidents, no counts kept. */
  nodes?: NodeCatalog;
}

export interface SourceResult {
  /** Observations taken from the body. */
  accepted: number;
  /** Malformed observations, by position in the body; the others were processed. */
  rejected: Rejection[];
  /** Observations compared with stored state. */
  examined: number;
  transitions: number;
  alertsPublished: number;
  /** Alerts recorded but not yet published: the sender must retry. */
  unsettled: number;
  errors: string[];
  /**
   * What the operator must hear of although nothing failed: an input dropped as too old to
   * tell apart from a replay, a clock restart. The API logs each loudly (LOG_EVENTS.inputWarning).
   */
  warnings?: string[];
  /** The input was a delta the handler cannot apply: the sender must send the whole state (409). */
  needFull?: boolean;
  /**
   * The time budget ran out after part of the input: the rest goes on from the timers queue
   * without the sender (202). `remaining`: subjects left to it.
   */
  continued?: { remaining: number; queued?: boolean };
  /**
   * The time budget ran out before these observations were started, and nothing keeps
   * them: the sender must send the same input again (503), which goes on where this
   * request stopped (what was done is a no-op then). Serf member events.
   */
  deferred?: number;
  /** Set when the snapshot's index was behind its scope's: what it was taken for (domain/consul/index-order.ts). */
  index?: IndexReport;
}

/** `body` is the envelope's stdin already JSON-parsed when the source sends JSON, else raw. */
export type SourceHandler = (envelope: Envelope, ctx: SourceContext) => Promise<SourceResult>;
