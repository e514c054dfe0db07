/** What the Consul source decisions return, and a builder for their alerts. */
import { alertId } from '../alert-id';
import type { AlertVocabulary, ValueOf } from '../alert-vocabulary';
import type { Alert, AlertState } from '../types';

export type IgnoreReason = 'stale' | 'unchanged' | 'baseline' | 'duplicate' | 'unknown';

/** Structurally the decision a source routes (`SourceDecision`, app/sources/routing.ts), plus why nothing was written. */
export type ConsulDecision<S> =
  | { kind: 'ignore'; reason: IgnoreReason }
  | { kind: 'write'; state: S; alert?: Alert; ttlSeconds?: number };

/**
 * A decision on one subject of a snapshot, and whether the subject now belongs to
 * the snapshot scope's known set (true: present; false: gone; undefined: as before).
 */
export interface Verdict<S> {
  decision: ConsulDecision<S>;
  member?: boolean;
}

export const ignore = <S>(reason: IgnoreReason, member?: boolean): Verdict<S> => ({
  decision: { kind: 'ignore', reason },
  ...(member !== undefined ? { member } : {}),
});

/** Records of things that went away are kept this long, then DynamoDB's TTL removes them. */
export const GONE_RETENTION_SECONDS = 30 * 24 * 3600;

/** An alert of a Consul source; its kind, severity, from and to come from the source's vocabulary. */
export interface AlertInput<V extends AlertVocabulary> {
  cluster: string;
  severity: ValueOf<V['severity']>;
  state?: AlertState;
  node: string;
  service?: string;
  check?: string;
  /** Title without the label: "key app/config changed". */
  what: string;
  from?: ValueOf<V['from']>;
  to: ValueOf<V['to']>;
  at: string;
  since?: string;
  details: Array<[string, string]>;
  /** Identifies the change: the same change always yields the same alert id. */
  idParts: ReadonlyArray<string | number | undefined>;
}

export function label(severity: Alert['severity'], state: AlertState): string {
  return state === 'resolved' ? 'RESOLVED' : severity.toUpperCase();
}

export function buildAlert<V extends AlertVocabulary & { source: 'consul' }>(vocabulary: V, input: AlertInput<V>): Alert {
  const state = input.state ?? 'firing';
  const alert: Alert = {
    id: alertId([input.cluster, vocabulary.kind, ...input.idParts]),
    cluster: input.cluster,
    source: vocabulary.source,
    kind: vocabulary.kind,
    severity: input.severity,
    state,
    // SNS attributes must not be empty: "-" marks "not about one node".
    node: input.node || '-',
    title: `${label(input.severity, state)}: ${input.what}`,
    to: input.to,
    at: input.at,
    details: input.details.filter(([, v]) => v !== ''),
  };
  if (input.service) alert.service = input.service;
  if (input.check) alert.check = input.check;
  if (input.from !== undefined) alert.from = input.from;
  if (input.since) alert.since = input.since;
  return alert;
}

/** "a, b" -> "+c -a" style difference of two tag sets, for details. */
export function tagDiff(before: readonly string[], after: readonly string[]): string {
  const b = new Set(before);
  const a = new Set(after);
  const added = [...a].filter((t) => !b.has(t)).map((t) => `+${t}`);
  const removed = [...b].filter((t) => !a.has(t)).map((t) => `-${t}`);
  return [...added, ...removed].join(' ');
}
