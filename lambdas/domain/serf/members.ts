/**
 * Serf membership as a per-member state machine, `member/<name>`, shared by every
 * agent of the cluster: one real change -> one alert, however many agents report it.
 *
 * Serf hands a handler no LTime or incarnation for member events, so ordering rests on
 * three things (see decideMember for the exact rule):
 *  - `at`: the envelope's sentAt (when the reporting agent ran its handler; kept when
 *    the shim spools and resends), clamped to the server's clock so a fast clock
 *    cannot pin a state in the future. A report older than the stored state's `since`
 *    by more than `skewMs` is stale.
 *  - the reporter: each agent runs its handlers one at a time in event order and the
 *    shim resends its spool oldest-first, so ONE agent's reports arrive in order. We
 *    keep, per member, up to `maxWitnesses` agents that reported the current state.
 *    A report that would flip the member back to the state it just left (failed ->
 *    alive, or back to the previous tags) within `echoGuardMs` is accepted only from a
 *    witness of the current state (it saw the current state first, so its report is
 *    newer) or from the member itself reporting itself alive (an agent reports its own
 *    join only when it starts). From anyone else it is the late echo of the earlier
 *    state by a lagging agent, and ignored.
 *  - the direction of Serf's lifecycle: among the "down" states, failed -> left ->
 *    reaped only moves forward (force-leave turns failed into left; reap is final),
 *    so a late `member-failed` after `member-leave`/`member-reap` is ignored.
 */
import type { Alert, AlertState, Severity } from '../types';
import { alertId } from '../alert-id';
import { formatTags, type MemberLine } from './member-lines';
import { alertVocabulary } from '../alert-vocabulary';

export const SERF_MEMBER_EVENTS = ['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap'] as const;
export type SerfMemberEvent = (typeof SERF_MEMBER_EVENTS)[number];

/** A member's status as tocsin keeps it: alive, or down (failed, left, reaped). */
export const MEMBER_STATUSES = ['alive', 'left', 'failed', 'reaped'] as const;
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

export function statusFor(event: SerfMemberEvent): MemberStatus {
  switch (event) {
    case 'member-join':
    case 'member-update':
      return 'alive';
    case 'member-leave':
      return 'left';
    case 'member-failed':
      return 'failed';
    case 'member-reap':
      return 'reaped';
  }
}

/** Down states only move forward: failed -> left -> reaped. */
const DOWN_RANK: Record<Exclude<MemberStatus, 'alive'>, number> = { failed: 1, left: 2, reaped: 3 };

export interface MemberView {
  status: MemberStatus;
  /** addr + role + tags (member-lines.ts); compared only between two alive views. */
  fingerprint: string;
  /** ISO time the view began (the `at` of the report that established it). */
  since: string;
}

/** What the store keeps under `member/<name>`. */
export interface MemberRecordState extends MemberView {
  name: string;
  addr: string;
  role: string;
  tags: Record<string, string>;
  /** The Serf event that established the view. */
  event: SerfMemberEvent;
  /** Agents (SERF_SELF_NAME) that reported the current view, at most maxWitnesses. */
  witnesses: string[];
  /** The view before the current one, to recognise late echoes of it. */
  prior?: MemberView;
}

export interface MemberReport {
  event: SerfMemberEvent;
  member: MemberLine;
  /** The agent that ran the handler (SERF_SELF_NAME). */
  reporter: string;
  /** reportTime(envelope.sentAt, now). */
  at: string;
}

export interface MemberOrdering {
  /** Clock skew tolerated between agents. */
  skewMs: number;
  /** How long after a change a report of the previous state may still be a late echo. */
  echoGuardMs: number;
  maxWitnesses: number;
}

export const DEFAULT_MEMBER_ORDERING: MemberOrdering = { skewMs: 5_000, echoGuardMs: 60_000, maxWitnesses: 8 };

export type MemberChange = 'joined' | 'rejoined' | 'updated' | 'left' | 'failed' | 'reaped';

export type MemberDecision =
  | { kind: 'ignore'; reason: 'unchanged' | 'stale' | 'regress' | 'echo' }
  /** Same view from another agent: remember the agent, no alert. */
  | { kind: 'witness'; state: MemberRecordState }
  | { kind: 'transition'; change: MemberChange; previous?: MemberRecordState; state: MemberRecordState; report: MemberReport };

export function memberSubject(name: string): string {
  return `member/${name}`;
}

/** When a report happened: the handler's start time, never later than now. */
export function reportTime(sentAt: string, nowMs: number): string {
  const sent = Date.parse(sentAt);
  return new Date(Number.isNaN(sent) ? nowMs : Math.min(sent, nowMs)).toISOString();
}

function sameView(a: Pick<MemberView, 'status' | 'fingerprint'>, status: MemberStatus, fingerprint: string): boolean {
  return a.status === status && (status !== 'alive' || a.fingerprint === fingerprint);
}

function changeOf(previous: MemberStatus | undefined, to: MemberStatus, event: SerfMemberEvent): MemberChange {
  if (to !== 'alive') return to;
  // A member first seen through member-update (tocsin started after it joined) was updated, not joined.
  if (previous === 'alive' || (previous === undefined && event === 'member-update')) return 'updated';
  return previous === 'failed' || previous === 'left' ? 'rejoined' : 'joined';
}

export function decideMember(
  previous: MemberRecordState | undefined,
  report: MemberReport,
  ordering: MemberOrdering = DEFAULT_MEMBER_ORDERING,
): MemberDecision {
  const to = statusFor(report.event);
  const m = report.member;
  const next = (): MemberDecision => {
    const state: MemberRecordState = {
      name: m.name,
      status: to,
      fingerprint: m.fingerprint,
      since: report.at,
      addr: m.addr,
      role: m.role,
      tags: m.tags,
      event: report.event,
      witnesses: [report.reporter],
    };
    if (previous) state.prior = { status: previous.status, fingerprint: previous.fingerprint, since: previous.since };
    return { kind: 'transition', change: changeOf(previous?.status, to, report.event), state, report, ...(previous ? { previous } : {}) };
  };
  if (!previous) return next();

  if (sameView(previous, to, m.fingerprint)) {
    if (previous.witnesses.includes(report.reporter) || previous.witnesses.length >= ordering.maxWitnesses) {
      return { kind: 'ignore', reason: 'unchanged' };
    }
    return { kind: 'witness', state: { ...previous, witnesses: [...previous.witnesses, report.reporter] } };
  }

  const at = Date.parse(report.at);
  const since = Date.parse(previous.since);
  if (at + ordering.skewMs < since) return { kind: 'ignore', reason: 'stale' };
  if (to !== 'alive' && previous.status !== 'alive' && DOWN_RANK[to] < DOWN_RANK[previous.status]) {
    return { kind: 'ignore', reason: 'regress' };
  }
  const prior = previous.prior;
  // Back to the view just left: from a down state any alive report counts (Serf sends
  // member-join on a rejoin, so a member-update there is late too); between two alive
  // views only the same tags/address do.
  const backToPrior =
    prior !== undefined && prior.status === to && (to !== 'alive' || previous.status !== 'alive' || prior.fingerprint === m.fingerprint);
  const selfAlive = to === 'alive' && report.reporter === m.name;
  if (backToPrior && at < since + ordering.echoGuardMs && !previous.witnesses.includes(report.reporter) && !selfAlive) {
    return { kind: 'ignore', reason: 'echo' };
  }
  return next();
}

const INTENT: Record<MemberChange, { severity: Severity; state: AlertState; verb: string }> = {
  joined: { severity: 'info', state: 'firing', verb: 'joined' },
  rejoined: { severity: 'info', state: 'resolved', verb: 'rejoined' },
  updated: { severity: 'info', state: 'firing', verb: 'was updated' },
  left: { severity: 'warning', state: 'firing', verb: 'left' },
  failed: { severity: 'critical', state: 'firing', verb: 'failed' },
  reaped: { severity: 'info', state: 'firing', verb: 'was reaped' },
};

/** What member alerts say (rules/vocabulary.ts): `from`/`to` are member statuses, absent `from` for a member seen first. */
export const MEMBER_ALERTS = alertVocabulary({
  source: 'serf',
  kind: 'member',
  severity: [...new Set(Object.values(INTENT).map((i) => i.severity))],
  to: MEMBER_STATUSES,
  from: MEMBER_STATUSES,
  fromMayBeAbsent: true,
});

function tagDiff(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = before[k];
    const b = after[k];
    if (a === b) continue;
    if (a === undefined) out.push(`+ ${k}=${b}`);
    else if (b === undefined) out.push(`- ${k}=${a}`);
    else out.push(`~ ${k}: ${a} -> ${b}`);
  }
  return out;
}

/**
 * The alert for a transition. `revision` is the stored revision the transition was
 * decided on, which makes the id the same for every agent that reports this change.
 */
export function memberAlert(cluster: string, t: Extract<MemberDecision, { kind: 'transition' }>, revision: number): Alert {
  const { state, previous, report } = t;
  const intent = INTENT[t.change];
  const label = intent.state === 'resolved' ? 'RESOLVED' : intent.severity.toUpperCase();
  const details: Array<[string, string]> = [
    ['Member', state.name],
    ['Address', previous && previous.addr !== state.addr ? `${previous.addr} -> ${state.addr}` : state.addr],
  ];
  if (state.role) details.push(['Role', state.role]);
  details.push(['Tags', Object.keys(state.tags).length > 0 ? formatTags(state.tags) : '(none)']);
  details.push(['Status', `${previous?.status ?? 'unknown'} -> ${state.status}`]);
  if (t.change === 'updated' && previous) {
    const changes = tagDiff(previous.tags, state.tags);
    if (previous.addr !== state.addr) changes.unshift(`~ address: ${previous.addr} -> ${state.addr}`);
    details.push(['Changes', changes.length > 0 ? changes.join('\n') : '(tag order or escaping only)']);
  }
  if (t.change === 'rejoined') details.push(['Resolves', `the "${previous?.status}" alert for ${state.name}`]);
  if (t.change === 'reaped' && previous?.status === 'failed') details.push(['Note', 'removed from the member list after failing; the failure was not resolved']);
  details.push(['Serf event', report.event]);
  details.push(['Reported by', report.reporter]);
  if (report.member.ambiguousTags) details.push(['Note', 'a tag value contains ","; Serf does not escape it, so the split into tags is a best guess']);

  const alert: Alert = {
    id: alertId([cluster, 'member', state.name, revision, state.status, state.fingerprint]),
    cluster,
    source: MEMBER_ALERTS.source,
    kind: MEMBER_ALERTS.kind,
    severity: intent.severity,
    state: intent.state,
    node: state.name,
    title: `${label}: member ${state.name} ${intent.verb} (${state.addr})`,
    to: state.status,
    at: state.since,
    details,
  };
  if (previous) {
    alert.from = previous.status;
    alert.since = previous.since;
  }
  return alert;
}
