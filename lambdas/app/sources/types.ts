/** What every source handler (one per Consul watch type / Serf event) receives and returns. */
import type { Rejection } from '../../domain/consul-checks';
import type { CheckAlertPolicy } from '../../domain/check-transitions';
import type { RuleSet } from '../../domain/rules/evaluate';
import type { Envelope } from '../../domain/types';
import type { AlertPublisher, ScopeStore, SubjectStore } from '../ports';
import type { Clock } from '../runtime';

export interface SourceContext {
  subjects: SubjectStore;
  scopes: ScopeStore;
  publisher: AlertPublisher;
  clock: Clock;
  checkPolicy: CheckAlertPolicy;
  /**
   * Alert rules (tocsin.yaml). Sources pass their alert through
   * `routeAlert({ rules, alert, subject, previous: state.episode, ... })` and store the
   * returned episode with the subject; see docs/ARCHITECTURE.md "Rules".
   */
  rules?: RuleSet;
  /** Lease for pending alerts; tests shorten it. */
  leaseMs?: number;
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
  /** The input was a delta the handler cannot apply: the sender must send the whole state (409). */
  needFull?: boolean;
}

/** `body` is the envelope's stdin already JSON-parsed when the source sends JSON, else raw. */
export type SourceHandler = (envelope: Envelope, ctx: SourceContext) => Promise<SourceResult>;
