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
import { muteEntry, type Episodic } from '../../domain/rules/episodes';
import { inhibitionId } from '../../domain/rules/inhibit';
import type { Silence } from '../../domain/rules/silences';
import type { Decision } from '../transition-engine';
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

/**
 * What each of `nodes` carried, with each service's health, for their incidents' alerts: read
 * once for all the nodes a request may open incidents for (a rack failing: a few calls, not a few per node).
 */
export async function carriedBy(ctx: NodeDeps, cluster: string, nodes: readonly string[]): Promise<Map<string, CarriedInstance[]>> {
  if (!ctx.nodes || nodes.length === 0) return new Map();
  const instances = await ctx.nodes.carried(cluster, nodes);
  const health = await ctx.nodes.serviceHealth(cluster, [...instances.values()].flat().map((i) => i.serviceName));
  return new Map(
    [...instances].map(([node, list]) => [
      node,
      list.map((i) => {
        const service = health.get(i.serviceName);
        return { serviceName: i.serviceName, serviceId: i.serviceId, countedHealthy: i.healthy, ...(service ? { service } : {}) };
      }),
    ]),
  );
}

/** The nodes of `reports` whose report may open an incident (read their carried lists first, together). */
export function mayOpenNodes(reports: ReadonlyArray<{ node: string; report: NodeReport; record: SubjectRecord<NodeIncidentState> | null | undefined }>): string[] {
  return [...new Set(reports.filter((r) => mayOpen(r.record?.state, r.report)).map((r) => r.node))];
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
  /** What the node carried, when read beforehand (carriedBy); absent: read here if the report may open the incident. */
  carriedKnown?: readonly CarriedInstance[],
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
  const carried = carriedKnown ?? (mayOpen(record?.state, report) ? ((await carriedBy(ctx, cluster, [node])).get(node) ?? []) : []);
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

/**
 * The firing notice of a subject whose episode lasts exactly as long as its node's incident
 * (the node's serfHealth check, its Serf member): held in its episode as the inhibition would
 * hold it (muteEntry: the read model shows it held by the node), but without the inhibition's
 * ledger, Query and later announcement: it ends with the incident, so there is nothing to
 * announce. Cheaper than the inhibition when a whole rack fails.
 */
export function foldedIntoIncident<S>(decision: Decision<S>, previous: S | undefined, node: string, nowMs: number): Decision<S> {
  if (decision.kind !== 'write' || !decision.outbox?.routing || decision.outbox.alert.state !== 'firing' || decision.outbox.alert.reminder !== undefined) return decision;
  const episode = (decision.state as Episodic).episode;
  if (!episode || decision.outbox.routing.deliveries.length === 0) return decision;
  const at = new Date(nowMs).toISOString();
  const hold: Silence = { id: inhibitionId(nodeSubject(node)), cluster: decision.outbox.alert.cluster, matchers: {}, startsAt: at, endsAt: at, author: 'tocsin', comment: `folded into the incident of node ${node}`, createdAt: at };
  const muted = muteEntry((previous as Episodic | undefined)?.episode, episode, decision.outbox, hold);
  // Nothing left to deliver: the engine writes no pending entry for it (transition-engine.ts isInert), the read model still gets it.
  const { silencedBy: _logged, ...entry } = muted.entry; // the node's incident is what is told (and logged)
  return { ...decision, state: { ...decision.state, episode: muted.episode }, outbox: entry };
}
