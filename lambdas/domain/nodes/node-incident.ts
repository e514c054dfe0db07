/**
 * Node down as one incident (README "Node down as one incident"). A node fails when Consul
 * marks its `serfHealth` check critical or a Serf agent reports it failed. tocsin then sends
 * one alert for the node, `node/<name>`, listing what it carried (its service instances, each
 * with how many healthy instances its service has left), folds the alerts of the node's own
 * checks, instances and member into it while it lasts (the built-in inhibit rule,
 * rules/inhibit.ts NODE_INCIDENT_RULE), and sends one resolved notice when it is back.
 *
 * Each source's last report is kept with its own order (Consul: the serfHealth check's
 * ModifyIndex; Serf: the report's time), so redeliveries and the N agents that report one
 * failure change nothing, and a late report older than the stored one is ignored. The
 * incident is open while any source says the node is down; both sources reporting one node
 * give one incident. A node reaped or deregistered while down ends it with the resolved notice.
 */
import { alertId } from '../alert-id';
import { alertVocabulary } from '../alert-vocabulary';
import type { Alert } from '../types';
import { instancesLeft, type ServiceHealth } from '../consul/service-impact';

export const NODE_STATUSES = ['down', 'up', 'gone'] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/**
 * What node incident alerts say (rules/vocabulary.ts). Their source is tocsin: the incident
 * is tocsin's own conclusion from Consul's and Serf's reports (the `Reported by` detail).
 */
export const NODE_ALERTS = alertVocabulary({ source: 'tocsin', kind: 'node', severity: ['critical', 'info'], to: NODE_STATUSES, from: ['up', 'down'], fromMayBeAbsent: true });

export const NODE_INCIDENT_KIND = 'node';

/** The Consul check whose status is the node's liveness. */
export const SERF_HEALTH_CHECK = 'serfHealth';

export const nodeSubject = (node: string): string => `node/${node}`;

/** One source's word on a node. `order`: Consul ModifyIndex, Serf epoch ms; larger is newer. */
export interface NodeReport {
  source: 'consul' | 'serf';
  status: NodeStatus;
  order: number;
  at: string;
  /** What the source said: the check's output, the Serf event. */
  reason: string;
  /** Consul: the checks scope's index epoch (a reset restarts ModifyIndexes): a report of a newer epoch is newer whatever its order. */
  epoch?: number;
}

/** One service instance the node carried, with its service's health as last known. */
export interface CarriedInstance {
  serviceName: string;
  serviceId: string;
  /** Counted healthy in `service` (so it is one healthy instance fewer now). */
  countedHealthy: boolean;
  /** The service's health before the node failed; absent: unknown (no `service` watch of it). */
  service?: ServiceHealth;
}

export interface NodeIncidentState {
  node: string;
  reports: Partial<Record<NodeReport['source'], Omit<NodeReport, 'source'>>>;
  /** ISO time the open incident began; absent: closed. */
  since?: string;
  /** Who opened it. */
  openedBy?: NodeReport['source'];
}

export type NodeDecision = { kind: 'ignore' } | { kind: 'write'; state: NodeIncidentState; alert?: Alert; open: boolean };

/** Lines of the carried list at most (the rest counted). */
export const MAX_CARRIED_LINES = 40;

const isDown = (s: NodeIncidentState | undefined): boolean => s?.since !== undefined;

/** "web [web-1]: 2 of 3 instances left". */
export function carriedLine(c: CarriedInstance): string {
  const name = c.serviceId && c.serviceId !== c.serviceName ? `${c.serviceName} [${c.serviceId}]` : c.serviceName;
  if (!c.service) return `${name}: instances left unknown (no service watch of ${c.serviceName})`;
  const left = instancesLeft(c.service, c.countedHealthy ? 1 : 0);
  return `${name}: ${left.healthy} of ${left.total} instances left`;
}

export function carriedText(carried: readonly CarriedInstance[]): string {
  if (carried.length === 0) return '(none known: no service watch or stored check names a service on this node)';
  const sorted = [...carried].sort((a, b) => a.serviceName.localeCompare(b.serviceName) || a.serviceId.localeCompare(b.serviceId));
  const lines = sorted.slice(0, MAX_CARRIED_LINES).map(carriedLine);
  if (sorted.length > MAX_CARRIED_LINES) lines.push(`... and ${sorted.length - MAX_CARRIED_LINES} more`);
  return lines.join('\n');
}

const SOURCE_LABEL: Record<NodeReport['source'], string> = { consul: 'Consul (serfHealth)', serf: 'Serf' };

/**
 * The incident's next state and alert for one report. `carried` is what the node carried,
 * read only when the report may open the incident (needsCarried).
 */
export function decideNodeReport(cluster: string, node: string, previous: NodeIncidentState | undefined, report: NodeReport, carried: readonly CarriedInstance[] = []): NodeDecision {
  const stored = previous?.reports[report.source];
  const newerEpoch = (report.epoch ?? 0) > (stored?.epoch ?? 0);
  // A repeat, another agent's copy of the same word, or a late report.
  if (stored && (stored.status === report.status || (!newerEpoch && report.order <= stored.order))) return { kind: 'ignore' };
  const { source: _s, ...kept } = report;
  const reports = { ...previous?.reports, [report.source]: kept };
  const wasDown = isDown(previous);
  const downNow = Object.values(reports).some((r) => r?.status === 'down');
  const base: NodeIncidentState = { node, reports };
  if (!wasDown && !downNow) {
    // Nothing open: a report of a healthy (or departed) node is only remembered for ordering, and only once one was down.
    return previous ? { kind: 'write', state: base, open: false } : { kind: 'ignore' };
  }
  const vocabulary = NODE_ALERTS;
  if (!wasDown) {
    const state: NodeIncidentState = { ...base, since: report.at, openedBy: report.source };
    const alert: Alert = {
      id: alertId([cluster, 'node', node, 'down', report.source, report.order]),
      cluster,
      source: vocabulary.source,
      kind: vocabulary.kind,
      severity: 'critical',
      state: 'firing',
      node,
      title: `NODE DOWN: ${node}${carried.length ? ` (${carried.length} service instance${carried.length === 1 ? '' : 's'})` : ''}`,
      from: 'up',
      to: 'down',
      at: report.at,
      details: [
        ['Node', node],
        ['Reported by', `${SOURCE_LABEL[report.source]}: ${report.reason}`],
        ['Services on the node', carriedText(carried)],
        ['Folded', "alerts of this node's own checks, instances and Serf member are folded into this incident until it is back"],
      ],
    };
    return { kind: 'write', state, alert, open: true };
  }
  if (downNow) return { kind: 'write', state: { ...base, since: previous!.since!, ...(previous!.openedBy ? { openedBy: previous!.openedBy } : {}) }, open: true };
  // Back (or gone) for every source that said it was down: one resolved notice.
  const how = report.status === 'gone' ? `left the cluster (${report.reason})` : 'is back';
  const opener = NODE_ALERTS;
  const alert: Alert = {
    id: alertId([cluster, 'node', node, report.status, report.source, report.order]),
    cluster,
    source: opener.source,
    kind: opener.kind,
    severity: 'info',
    state: 'resolved',
    node,
    title: `RESOLVED: node ${node} ${how}`,
    from: 'down',
    to: report.status,
    at: report.at,
    since: previous!.since!,
    details: [
      ['Node', node],
      ['Reported by', `${SOURCE_LABEL[report.source]}: ${report.reason}`],
      ['Down since', previous!.since!],
    ],
  };
  return { kind: 'write', state: base, alert, open: false };
}

/** Whether this report could open the incident (so what the node carried must be read first). */
export const mayOpen = (previous: NodeIncidentState | undefined, report: NodeReport): boolean => report.status === 'down' && !isDown(previous);

export const isNodeDown = isDown;

/**
 * Whether a check's change reads its node's incident record up front, in the batched read of
 * the check's own record: its node's serfHealth check (the node's report), or any change that
 * may fire and so be held by the incident (to a non-passing status, a check gone: 'removed',
 * a check released from maintenance: `to` absent). A change to passing proposes a resolved
 * notice, which no inhibition holds: its node is read only if its decision fires after all
 * (a FLAPPING notice; app/sources/check-snapshots.ts then reads the node and decides again).
 */
export function readsNodeUpFront(change: { serfHealth: boolean; to?: string }): boolean {
  return change.serfHealth || change.to !== 'passing';
}
