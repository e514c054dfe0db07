/**
 * Serf member-join / -leave / -failed / -update / -reap: each member line is one
 * report about `member/<name>`, decided in lambdas/domain/serf/members.ts and written
 * through the TransitionEngine, so the N agents reporting one change yield one alert.
 */
import { envelopeBodyText } from '../../domain/envelope';
import { parseMemberLines } from '../../domain/serf/member-lines';
import {
  DEFAULT_MEMBER_ORDERING,
  decideMember,
  memberAlert,
  memberSubject,
  reportTime,
  type MemberChange,
  type MemberOrdering,
  type MemberRecordState,
  type SerfMemberEvent,
} from '../../domain/serf/members';
import type { Envelope } from '../../domain/types';
import { mapLimitUntil } from '../concurrency';
import { TransitionEngine, type Decision } from '../transition-engine';
import { keyValueTags, routeDecision, type AlertRole } from './routing';
import type { SourceContext, SourceHandler, SourceResult } from './types';
import { isNodeDown, nodeSubject, type CarriedInstance, type NodeIncidentState, type NodeReport, type NodeStatus } from '../../domain/nodes/node-incident';
import type { SubjectRecord } from '../ports';
import { carriedBy, foldedIntoIncident, mayOpenNodes, nodeIncidentFacts, reportNode } from './node-incidents';

/** Down members are kept this long (a reap normally follows within a day); reaped ones shorter. */
const DOWN_RETENTION_SECONDS = 90 * 24 * 3600;
const REAPED_RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * Failed and left are the member's problem episode (`for`, `repeat`), a rejoin resolves
 * it; joins and updates are notices; a reap removes the member: no more reminders.
 */
const MEMBER_ROLE: Record<MemberChange, AlertRole> = {
  failed: 'episode',
  left: 'episode',
  rejoined: 'episode',
  joined: 'notice',
  updated: 'notice',
  reaped: 'final',
};

/** The agent that ran the handler: SERF_SELF_NAME, else the envelope's node. */
export function serfReporter(envelope: Envelope): string {
  return envelope.env?.SERF_SELF_NAME || envelope.node;
}

export function serfMemberHandler(event: SerfMemberEvent, ordering: MemberOrdering = DEFAULT_MEMBER_ORDERING): SourceHandler {
  return async (envelope: Envelope, ctx: SourceContext): Promise<SourceResult> => {
    const { members, rejected } = parseMemberLines(envelopeBodyText(envelope));
    const reporter = serfReporter(envelope);
    const at = reportTime(envelope.sentAt, ctx.clock.nowMs());
    const engine = new TransitionEngine(ctx);
    let transitions = 0;
    // One batched read for every member of the invocation (Serf coalesces: hundreds at once in an outage).
    // The members' node incidents (node-incidents.ts) come in the same read.
    const records = await ctx.subjects.getMany<MemberRecordState>(envelope.cluster, [...new Set(members.flatMap((m) => [memberSubject(m.name), nodeSubject(m.name)]))]);
    // Past the request's time budget no member is started: the request is answered 503 and
    // the sender's retry (the same body) goes on; members done are no-ops then (same report).
    const { deadlineMs } = ctx;
    const stop = deadlineMs !== undefined ? () => ctx.clock.nowMs() >= deadlineMs : () => false;
    // Which members' reports are news for their nodes (not echoes or repeats), and what the nodes
    // that may go down carried: read once for the invocation (Serf coalesces a rack's failures into one).
    const nodeRecordOf = (name: string) => (records.get(nodeSubject(name)) ?? null) as unknown as SubjectRecord<NodeIncidentState> | null;
    const nodeReports = members.flatMap((member) => {
      const foreseen = decideMember(records.get(memberSubject(member.name))?.state, { event, member, reporter, at }, ordering);
      if (foreseen.kind !== 'transition') return [];
      const report: NodeReport = { source: 'serf', status: NODE_STATUS[foreseen.state.status], order: Date.parse(at), at, reason: `${event} reported by ${reporter}` };
      return [{ node: member.name, report, record: nodeRecordOf(member.name) }];
    });
    const reportOf = new Map(nodeReports.map((r) => [r.node, r.report]));
    const carried = ctx.nodes ? await carriedBy(ctx, envelope.cluster, mayOpenNodes(nodeReports)) : new Map<string, CarriedInstance[]>();
    const { results: outcomes, started } = await mapLimitUntil(members, 16, async (member) => {
      let witnessTried = false;
      let transitioned = false;
      const subject = memberSubject(member.name);
      // The node's incident first, so that this member's own alert finds it open and folds into it;
      // only for a report the member's record takes as a change (echoes and repeats are not the node's news).
      const nodeRecord = nodeRecordOf(member.name);
      const nodeReport = reportOf.get(member.name);
      const node = nodeReport
        ? await reportNode(ctx, engine, envelope.cluster, member.name, nodeReport, nodeRecord, carried.get(member.name) ?? [])
        : { outcome: 'none' as const, down: isNodeDown(nodeRecord?.state) };
      // The node's alert not yet published: the member waits too, so that the sender's retry (the same
      // body) reports the node again, and that report finishes its pending alert.
      if (node.outcome === 'unsettled') return 'unsettled';
      const outcome = await engine.apply<MemberRecordState>(envelope.cluster, subject, (prev): Decision<MemberRecordState> => {
        transitioned = false;
        const d = decideMember(prev?.state, { event, member, reporter, at }, ordering);
        if (d.kind === 'ignore') return { kind: 'ignore' };
        if (d.kind === 'witness') {
          // Best effort: remembering one more witness is not worth a contended retry.
          if (witnessTried) return { kind: 'ignore' };
          witnessTried = true;
          return { kind: 'write', state: d.state, ...retention(d.state) }; // the stored state, episode included, plus one witness
        }
        transitioned = true;
        const decision = { kind: 'write' as const, state: d.state, alert: memberAlert(envelope.cluster, d, prev?.rev ?? 0), ...retention(d.state) };
        // Serf tags match as `tags: "role=db"` and, keyed, as `nodeMeta: { role: db }`.
        const routed = routeDecision(ctx, subject, prev?.state, decision, () => ({
          role: MEMBER_ROLE[d.change],
          facts: { tags: keyValueTags(d.state.tags), nodeMeta: d.state.tags, ...nodeIncidentFacts(member.name, node.down) },
        }));
        // The node's incident just ended as gone (left, reaped): its resolved notice says so; the member's notice would repeat it.
        if (node.closed === 'gone' && routed.kind === 'write' && routed.outbox?.alert.state !== 'resolved') {
          const { outbox: _told, ...quiet } = routed;
          return quiet;
        }
        // The node is down as one incident: the member's failure is the incident's own news.
        return node.down ? foldedIntoIncident(routed, prev?.state, member.name, ctx.clock.nowMs()) : routed;
      }, records.get(subject) ?? null);
      if (transitioned && outcome !== 'none') transitions++;
      return outcome;
    }, stop);
    return {
      accepted: members.length,
      rejected,
      examined: started,
      ...engine.tally(outcomes),
      transitions, // only this report's own status changes, not witness bookkeeping
      ...(started < members.length ? { deferred: members.length - started } : {}),
    };
  };
}

/** What a member's new status says of the node (a graceful leave or a reap ends an incident, never opens one). */
const NODE_STATUS: Record<MemberRecordState['status'], NodeStatus> = { alive: 'up', failed: 'down', left: 'gone', reaped: 'gone' };

function retention(state: MemberRecordState): { ttlSeconds?: number } {
  if (state.status === 'reaped') return { ttlSeconds: REAPED_RETENTION_SECONDS };
  if (state.status !== 'alive') return { ttlSeconds: DOWN_RETENTION_SECONDS };
  return {};
}

export const serfMemberJoin = serfMemberHandler('member-join');
export const serfMemberLeave = serfMemberHandler('member-leave');
export const serfMemberFailed = serfMemberHandler('member-failed');
export const serfMemberUpdate = serfMemberHandler('member-update');
export const serfMemberReap = serfMemberHandler('member-reap');
