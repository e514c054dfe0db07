/**
 * The web page's list of firing alerts, pure (no DOM): sorting, filtering and grouping by
 * cluster and node of GET /v1/alerts's answer. The page filters the list it holds (no
 * request per keystroke: each request is signed and counted against the replay guard); the
 * text filter looks at the fields the API's `text` filter looks at (domain/rules/read-model.ts
 * ALERT_FILTERS).
 */
import { utcText } from '../lambdas/domain/alert-text';
import { SEVERITY_RANK, type Severity } from '../lambdas/domain/types';

/** One alert as GET /v1/alerts returns it (alerts-api.ts alertView). */
export interface AlertView {
  id: string;
  subject: string;
  cluster: string;
  severity: Severity;
  state: AlertState;
  status: string;
  title: string;
  source: string;
  kind: string;
  node: string;
  service?: string;
  check?: string;
  since: string;
  lastChange: string;
  channels: string[];
  silencedBy?: string;
  silencedUntil?: string;
  ack?: { by: string; at: string; severity: Severity; comment?: string; until?: string };
}

export const ALERT_STATES = ['firing', 'acknowledged', 'silenced'] as const;
export type AlertState = (typeof ALERT_STATES)[number];
export const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** Columns the list sorts by. `urgency`: worst first, then the longest firing (the API's order). */
export const SORT_KEYS = ['urgency', 'severity', 'since', 'lastChange', 'node', 'title', 'state'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDirection = 'ascending' | 'descending';

export interface ListFilter {
  /** Case-insensitive substring of title, subject, node, service, check or status. */
  text: string;
  /** Empty: every severity. */
  severities: readonly Severity[];
  /** Empty: every state. */
  states: readonly AlertState[];
}

export const NO_FILTER: ListFilter = { text: '', severities: [], states: [] };

export function matchesFilter(a: AlertView, f: ListFilter): boolean {
  if (f.severities.length > 0 && !f.severities.includes(a.severity)) return false;
  if (f.states.length > 0 && !f.states.includes(a.state)) return false;
  const text = f.text.trim().toLowerCase();
  return text === '' || [a.title, a.subject, a.node, a.service ?? '', a.check ?? '', a.status].some((v) => v.toLowerCase().includes(text));
}

const STATE_RANK: Readonly<Record<AlertState, number>> = { firing: 3, silenced: 2, acknowledged: 1 };

/** Ascending comparison of one column; ties fall through to urgency, then the subject (a stable, total order). */
const COMPARE: Readonly<Record<SortKey, (a: AlertView, b: AlertView) => number>> = {
  // Ascending urgency is "least urgent first": descending is the API's worst-first order.
  urgency: (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || Date.parse(b.since) - Date.parse(a.since),
  severity: (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity],
  since: (a, b) => Date.parse(a.since) - Date.parse(b.since),
  lastChange: (a, b) => Date.parse(a.lastChange) - Date.parse(b.lastChange),
  node: (a, b) => a.node.localeCompare(b.node),
  title: (a, b) => a.title.localeCompare(b.title),
  state: (a, b) => STATE_RANK[a.state] - STATE_RANK[b.state],
};

export function sortAlerts(alerts: readonly AlertView[], key: SortKey, direction: SortDirection): AlertView[] {
  const sign = direction === 'ascending' ? 1 : -1;
  return [...alerts].sort((a, b) => sign * COMPARE[key](a, b) || -COMPARE.urgency(a, b) || a.subject.localeCompare(b.subject));
}

export interface NodeGroup {
  node: string;
  alerts: AlertView[];
}
export interface ClusterGroup {
  cluster: string;
  nodes: NodeGroup[];
  count: number;
}

/**
 * Groups by cluster, then node, keeping the sorted order: groups come in the order of their
 * first alert, so sorting by urgency puts the node with the worst alert first.
 */
export function groupAlerts(sorted: readonly AlertView[]): ClusterGroup[] {
  const clusters = new Map<string, Map<string, AlertView[]>>();
  for (const a of sorted) {
    const nodes = clusters.get(a.cluster) ?? new Map<string, AlertView[]>();
    clusters.set(a.cluster, nodes);
    const list = nodes.get(a.node) ?? [];
    nodes.set(a.node, list);
    list.push(a);
  }
  return [...clusters].map(([cluster, nodes]) => ({
    cluster,
    nodes: [...nodes].map(([node, alerts]) => ({ node, alerts })),
    count: [...nodes.values()].reduce((n, l) => n + l.length, 0),
  }));
}

/** The list as the page shows it: filtered, sorted, grouped. */
export function alertListView(alerts: readonly AlertView[], filter: ListFilter, key: SortKey, direction: SortDirection): { groups: ClusterGroup[]; shown: number; total: number } {
  const shown = sortAlerts(alerts.filter((a) => matchesFilter(a, filter)), key, direction);
  return { groups: groupAlerts(shown), shown: shown.length, total: alerts.length };
}

/** What the state column says: who acknowledged and until when, or what silences it. */
export function handledText(a: AlertView): string {
  if (a.state === 'acknowledged' && a.ack) return `acknowledged by ${a.ack.by}${a.ack.until ? ` until ${utcText(a.ack.until)}` : ''}`;
  if (a.state === 'silenced') return `silenced${a.silencedBy ? ` by ${a.silencedBy}` : ''}${a.silencedUntil ? ` until ${utcText(a.silencedUntil)}` : ''}`;
  return 'firing';
}
