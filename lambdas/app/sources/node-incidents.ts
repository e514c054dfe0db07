/**
 * Node incidents (domain/nodes/node-incident.ts) through the transition engine: one source's
 * report about a node, decided against `node/<name>` under the engine's compare-and-set, so
 * concurrent and repeated reports open (and close) the incident once. What the node carried
 * is read (NodeCatalog) only when the report may open it. The sources call this BEFORE the
 * node's own subject (its serfHealth check, its Serf member) is written, so that subject's
 * alert already finds the incident firing and folds into it (the built-in inhibit rule).
 */
import { isNodeDown, mayOpen, decideNodeReport, nodeSubject, type CarriedInstance, type NodeIncidentState, type NodeReport } from '../../domain/nodes/node-incident';
import type { MatchFacts } from '../../domain/rules/types';
import type { SubjectRecord } from '../ports';
import type { TransitionEngine, Outcome } from '../transition-engine';
import { routeDecision } from './routing';
import type { SourceContext } from './types';

/** What reporting needs of a source's context. */
export type NodeDeps = Pick<SourceContext, 'subjects' | 'rules' | 'clock' | 'nodes'>;

export interface NodeReportResult {
  outcome: Outcome;
  /** The incident is open after this report. */
  down: boolean;
  /** This report closed the incident (`up`: back; `gone`: left or reaped): the node's resolved notice says so. */
  closed?: NodeReport['status'];
}

/** What the node carried, with each service's health, for the incident's alert. */
async function carriedBy(ctx: NodeDeps, cluster: string, node: string): Promise<CarriedInstance[]> {
  if (!ctx.nodes) return [];
  const instances = await ctx.nodes.carried(cluster, node);
  const health = await ctx.nodes.serviceHealth(cluster, instances.map((i) => i.serviceName));
  return instances.map((i) => {
    const service = health.get(i.serviceName);
    return { serviceName: i.serviceName, serviceId: i.serviceId, countedHealthy: i.healthy, ...(service ? { service } : {}) };
  });
}

/**
 * Applies one report. `prefetched`: the node's record when the caller batch-read it (null: none
 * stored); absent: read here.
 */
export async function reportNode(
  ctx: NodeDeps,
  engine: TransitionEngine,
  cluster: string,
  node: string,
  report: NodeReport,
  prefetched?: SubjectRecord<NodeIncidentState> | null,
): Promise<NodeReportResult> {
  // Node incidents come with their catalog (every composition on the adapters has it: aws-ports.ts);
  // a context without it (a bare pipeline) keeps to the nodes' own alerts.
  if (!ctx.nodes) return { outcome: 'none', down: false };
  const subject = nodeSubject(node);
  const record = prefetched === undefined ? ((await ctx.subjects.get<NodeIncidentState>(cluster, subject)) ?? null) : prefetched;
  let down = isNodeDown(record?.state);
  let closed: NodeReport['status'] | undefined;
  // Nothing to open or close: a healthy node's word (the common case) costs nothing.
  if (!record && report.status !== 'down') return { outcome: 'none', down };
  const carried = mayOpen(record?.state, report) ? await carriedBy(ctx, cluster, node) : [];
  const outcome = await engine.apply<NodeIncidentState>(
    cluster,
    subject,
    (prev) => {
      const d = decideNodeReport(cluster, node, prev?.state, report, carried);
      down = d.kind === 'write' ? d.open : isNodeDown(prev?.state);
      closed = d.kind === 'write' && isNodeDown(prev?.state) && !d.open ? report.status : undefined;
      if (d.kind === 'ignore') return d;
      return routeDecision(ctx, subject, prev?.state, { kind: 'write', state: d.state, ...(d.alert ? { alert: d.alert } : {}) }, () => ({ role: 'episode' }));
    },
    record,
  );
  return { outcome, down, ...(closed && outcome !== 'none' ? { closed } : {}) };
}

/** The fact that folds an alert of a node that is down into its incident (rules/inhibit.ts NODE_INCIDENT_RULE). */
export function nodeIncidentFacts(node: string, down: boolean): Partial<MatchFacts> {
  return down ? { nodeIncident: nodeSubject(node) } : {};
}

/** Whether a batch-read node record says the node is down. */
export const recordSaysDown = (record: SubjectRecord<unknown> | undefined): boolean => isNodeDown(record?.state as NodeIncidentState | undefined);
