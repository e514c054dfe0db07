import { parseMemberLine } from '../../lambdas/domain/serf/member-lines';
import {
  DEFAULT_MEMBER_ORDERING,
  decideMember,
  memberAlert,
  reportTime,
  type MemberDecision,
  type MemberRecordState,
  type MemberReport,
  type SerfMemberEvent,
} from '../../lambdas/domain/serf/members';
import { memberLine } from '../support/serf-fixtures';

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const iso = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const X = (tags: Record<string, string> = { role: 'web' }, addr = '10.0.0.9') => parseMemberLine(memberLine('x', addr, tags).slice(0, -1));

function report(event: SerfMemberEvent, reporter: string, offsetMs: number, member = X()): MemberReport {
  return { event, member, reporter, at: iso(offsetMs) };
}

/** Applies reports in order like the store would; returns each decision as a short string. */
function run(reports: MemberReport[], start?: MemberRecordState): { trace: string[]; state: MemberRecordState | undefined } {
  let state = start;
  const trace = reports.map((r) => {
    const d = decideMember(state, r);
    if (d.kind === 'ignore') return `ignore:${d.reason}`;
    state = d.state;
    return d.kind === 'witness' ? 'witness' : `${d.change}`;
  });
  return { trace, state };
}

describe('decideMember: one alert per change across reporters', () => {
  it.each<[string, MemberReport[], string[]]>([
    ['a node joining: its own join and every other agent\'s', [report('member-join', 'x', 0), report('member-join', 'a', 100), report('member-join', 'b', 200)], ['joined', 'witness', 'witness']],
    ['member-failed from every survivor', [report('member-join', 'x', 0), report('member-failed', 'a', 10_000), report('member-failed', 'b', 10_300), report('member-failed', 'c', 11_000)], ['joined', 'failed', 'witness', 'witness']],
    ['the same reporter twice', [report('member-join', 'a', 0), report('member-join', 'a', 50)], ['joined', 'ignore:unchanged']],
    ['member-update repeated with the same tags', [report('member-join', 'a', 0), report('member-update', 'a', 1000, X({ role: 'web', v: '2' })), report('member-update', 'b', 1100, X({ v: '2', role: 'web' })), report('member-update', 'a', 1200, X({ role: 'web', v: '2' }))], ['joined', 'updated', 'witness', 'ignore:unchanged']],
    ['member-update without a real change', [report('member-join', 'a', 0), report('member-update', 'b', 1000)], ['joined', 'witness']],
    ['member-join for a known alive member with new tags is an update', [report('member-join', 'a', 0), report('member-join', 'b', 1000, X({ role: 'db' }))], ['joined', 'updated']],
    ['address change', [report('member-join', 'a', 0), report('member-update', 'a', 1000, X({ role: 'web' }, '10.0.0.10'))], ['joined', 'updated']],
    ['leave then reap', [report('member-join', 'a', 0), report('member-leave', 'a', 1000), report('member-leave', 'b', 1100), report('member-reap', 'a', 86_400_000)], ['joined', 'left', 'witness', 'reaped']],
    ['failure first seen (no join on record)', [report('member-failed', 'a', 0)], ['failed']],
    ['first seen through member-update (tocsin started later)', [report('member-update', 'a', 0), report('member-join', 'b', 100)], ['updated', 'witness']],
    ['force-leave of a failed member', [report('member-failed', 'a', 0), report('member-leave', 'a', 5000)], ['failed', 'left']],
  ])('%s', (_name, reports, expected) => {
    expect(run(reports).trace).toEqual(expected);
  });
});

describe('decideMember: ordering guard (no LTime for member events)', () => {
  const joinedThenFailed = [report('member-join', 'x', 0), report('member-join', 'a', 100), report('member-failed', 'a', 30_000), report('member-failed', 'b', 30_200)];

  it.each<[string, MemberReport[], string[]]>([
    ['a slow agent\'s late member-join after member-failed is an echo', [report('member-join', 'slow', 31_000)], ['ignore:echo']],
    ['... also when its handler ran long after the failure, within the guard', [report('member-join', 'slow', 30_000 + DEFAULT_MEMBER_ORDERING.echoGuardMs - 1)], ['ignore:echo']],
    ['... and a late member-update likewise', [report('member-update', 'slow', 32_000, X({ role: 'web', v: '9' }))], ['ignore:echo']],
    ['a rejoin reported by the member itself (its agent restarted)', [report('member-join', 'x', 35_000)], ['rejoined']],
    ['a rejoin reported by an agent that saw the failure', [report('member-join', 'b', 35_000)], ['rejoined']],
    ['a join from anyone after the guard', [report('member-join', 'slow', 30_000 + DEFAULT_MEMBER_ORDERING.echoGuardMs)], ['rejoined']],
    ['a spooled old report (sentAt before the failure) is stale', [report('member-join', 'x', 30_000 - DEFAULT_MEMBER_ORDERING.skewMs - 1)], ['ignore:stale']],
    ['a late member-failed after the member came back is an echo', [report('member-join', 'x', 40_000), report('member-failed', 'slow', 41_000)], ['rejoined', 'ignore:echo']],
    ['a real second failure, reported by a witness of the rejoin', [report('member-join', 'x', 40_000), report('member-join', 'a', 40_100), report('member-failed', 'a', 45_000)], ['rejoined', 'witness', 'failed']],
    ['a late member-failed after member-leave regresses', [report('member-leave', 'x', 40_000), report('member-failed', 'slow', 41_000)], ['left', 'ignore:regress']],
    ['nothing comes back from reaped except a join', [report('member-reap', 'a', 90_000), report('member-failed', 'b', 91_000), report('member-leave', 'b', 91_000), report('member-join', 'x', 95_000)], ['reaped', 'ignore:regress', 'ignore:regress', 'joined']],
  ])('%s', (_name, reports, expected) => {
    const base = run(joinedThenFailed);
    expect(base.trace).toEqual(['joined', 'witness', 'failed', 'witness']);
    expect(run(reports, base.state).trace).toEqual(expected);
  });

  it('a tag flip back by a lagging agent is an echo; by a witness it is real', () => {
    const v1 = X({ role: 'web', v: '1' });
    const v2 = X({ role: 'web', v: '2' });
    const base = run([report('member-join', 'a', 0, v1), report('member-update', 'a', 10_000, v2)]);
    expect(base.trace).toEqual(['joined', 'updated']);
    expect(run([report('member-update', 'slow', 11_000, v1)], base.state).trace).toEqual(['ignore:echo']);
    expect(run([report('member-update', 'a', 11_000, v1)], base.state).trace).toEqual(['updated']);
  });

  it('witnesses are capped', () => {
    const reporters = Array.from({ length: 12 }, (_, i) => report('member-failed', `s${i}`, 1000 + i));
    const { trace, state } = run([report('member-join', 'x', 0), ...reporters]);
    expect(trace.filter((t) => t === 'witness')).toHaveLength(DEFAULT_MEMBER_ORDERING.maxWitnesses - 1);
    expect(state?.witnesses).toHaveLength(DEFAULT_MEMBER_ORDERING.maxWitnesses);
  });
});

describe('memberAlert', () => {
  const transition = (prev: MemberRecordState | undefined, r: MemberReport) => {
    const d = decideMember(prev, r);
    if (d.kind !== 'transition') throw new Error(`expected a transition, got ${d.kind}`);
    return d as Extract<MemberDecision, { kind: 'transition' }>;
  };

  it.each<[string, SerfMemberEvent[], string, string, string]>([
    ['join', ['member-join'], 'info', 'firing', 'INFO: member x joined (10.0.0.9)'],
    ['leave', ['member-join', 'member-leave'], 'warning', 'firing', 'WARNING: member x left (10.0.0.9)'],
    ['failed', ['member-join', 'member-failed'], 'critical', 'firing', 'CRITICAL: member x failed (10.0.0.9)'],
    ['rejoin after failed resolves', ['member-join', 'member-failed', 'member-join'], 'info', 'resolved', 'RESOLVED: member x rejoined (10.0.0.9)'],
    ['rejoin after leave resolves the leave warning', ['member-join', 'member-leave', 'member-join'], 'info', 'resolved', 'RESOLVED: member x rejoined (10.0.0.9)'],
    ['reap', ['member-join', 'member-failed', 'member-reap'], 'info', 'firing', 'INFO: member x was reaped (10.0.0.9)'],
  ])('%s', (_name, events, severity, state, title) => {
    let prev: MemberRecordState | undefined;
    let last: ReturnType<typeof transition> | undefined;
    events.forEach((e, i) => {
      last = transition(prev, report(e, 'x', i * 120_000));
      prev = last.state;
    });
    const alert = memberAlert('prod', last!, 3);
    expect(alert).toMatchObject({ cluster: 'prod', source: 'serf', kind: 'member', node: 'x', severity, state, title });
  });

  it('update lists what changed, and the id is the same for every reporter of one change', () => {
    const joined = transition(undefined, report('member-join', 'a', 0, X({ role: 'web', v: '1', gone: 'y' })));
    const fromA = transition(joined.state, report('member-update', 'a', 1000, X({ role: 'web', v: '2', new: 'z' }, '10.0.0.10')));
    const fromB = transition(joined.state, report('member-update', 'b', 1500, X({ new: 'z', v: '2', role: 'web' }, '10.0.0.10')));
    const a = memberAlert('prod', fromA, 1);
    expect(a.id).toBe(memberAlert('prod', fromB, 1).id);
    expect(a.id).not.toBe(memberAlert('prod', fromA, 2).id);
    expect(Object.fromEntries(a.details)).toMatchObject({
      Changes: '~ address: 10.0.0.9 -> 10.0.0.10\n- gone=y\n+ new=z\n~ v: 1 -> 2',
      Address: '10.0.0.9 -> 10.0.0.10',
      Status: 'alive -> alive',
    });
  });
});

describe('reportTime', () => {
  it('uses sentAt, never later than now', () => {
    expect(reportTime(iso(0), T0 + 5000)).toBe(iso(0));
    expect(reportTime(iso(60_000), T0)).toBe(iso(0));
    expect(reportTime('garbage', T0)).toBe(iso(0));
  });
});
