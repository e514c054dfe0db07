import {
  decideCheck,
  decideCheckRemoval,
  defaultCheckPolicy,
  nextCheckState,
  type CheckTransition,
  type StoredCheck,
} from '../../lambdas/domain/consul/check-transitions';
import type { CheckObservation } from '../../lambdas/domain/types';

const obs = (status: CheckObservation['status'], modifyIndex: number): CheckObservation => ({
  node: 'n1',
  checkId: 'c1',
  name: 'c1',
  status,
  serviceId: '',
  serviceName: '',
  serviceTags: [],
  type: 'ttl',
  output: '',
  notes: '',
  modifyIndex,
  createIndex: 2,
});
const stored = (status: StoredCheck['status'], modifyIndex: number, alerting?: StoredCheck['alerting']): StoredCheck => ({
  status,
  modifyIndex,
  since: '2026-01-01T00:00:00.000Z',
  ...(alerting ? { alerting } : {}),
});
const AT = '2026-02-01T00:00:00.000Z';

describe('decideCheck', () => {
  it.each<[string, StoredCheck | undefined, CheckObservation, string]>([
    ['new passing check: baseline, nothing stored', undefined, obs('passing', 5), 'ignore:baseline'],
    ['new critical check', undefined, obs('critical', 5), 'transition:undefined->critical'],
    ['same status, newer index', stored('critical', 5), obs('critical', 9), 'ignore:unchanged'],
    ['older index is stale', stored('critical', 9), obs('passing', 5), 'ignore:stale'],
    ['equal index is stale', stored('critical', 9), obs('passing', 9), 'ignore:stale'],
    ['recovery', stored('critical', 9), obs('passing', 12), 'transition:critical->passing'],
    ['escalation', stored('warning', 9), obs('critical', 12), 'transition:warning->critical'],
    ['reappears after removal', stored('removed', 9), obs('warning', 3), 'transition:removed->warning'],
  ])('%s', (_name, prev, o, expected) => {
    const d = decideCheck('prod', prev, o, AT);
    const got = d.kind === 'ignore' ? `ignore:${d.reason}` : `transition:${d.transition.from}->${d.transition.to}`;
    expect(got).toBe(expected);
  });

  it.each<[string, number, string]>([
    ['existed at the baseline: it was passing', 2, 'passing'],
    ['registered after the baseline: unknown', 1, 'undefined'],
  ])('a stateless check turning critical, %s', (_name, baseline, from) => {
    const d = decideCheck('prod', undefined, obs('critical', 5), AT, baseline);
    expect(d.kind === 'transition' && String(d.transition.from)).toBe(from);
  });
});

describe('decideCheckRemoval', () => {
  it.each<[string, StoredCheck | undefined, number | undefined, string]>([
    ['critical check vanished at a newer index', stored('critical', 9), 20, 'transition'],
    ['vanished, index unknown', stored('warning', 9), undefined, 'transition'],
    ['snapshot older than stored state', stored('critical', 9), 5, 'ignore'],
    ['passing check vanished: nothing to say', stored('passing', 9), 20, 'ignore'],
    ['already removed', stored('removed', 9), 20, 'ignore'],
    ['no state', undefined, 20, 'ignore'],
  ])('%s', (_name, prev, index, expected) => {
    expect(decideCheckRemoval('prod', prev, obs('critical', 9), index, AT).kind).toBe(expected);
  });
});

describe('defaultCheckPolicy', () => {
  const t = (from: StoredCheck | undefined, to: StoredCheck['status']): CheckTransition => ({
    cluster: 'prod',
    from: from?.status,
    to,
    ...(from ? { previous: from } : {}),
    observation: obs(to === 'removed' ? 'critical' : to, 20),
    at: AT,
  });
  it.each<[string, StoredCheck | undefined, StoredCheck['status'], string]>([
    ['enter critical', undefined, 'critical', 'critical/firing'],
    ['enter warning', stored('passing', 1), 'warning', 'warning/firing'],
    ['escalate', stored('warning', 1, 'warning'), 'critical', 'critical/firing'],
    ['de-escalate', stored('critical', 1, 'critical'), 'warning', 'warning/firing'],
    ['recover after alert', stored('critical', 1, 'critical'), 'passing', 'info/resolved'],
    ['removed after alert', stored('critical', 1, 'critical'), 'removed', 'info/resolved'],
    ['passing without an alert before', stored('maintenance', 1), 'passing', 'none'],
    ['maintenance', stored('critical', 1, 'critical'), 'maintenance', 'none'],
  ])('%s', (_name, from, to, expected) => {
    const intent = defaultCheckPolicy(t(from, to));
    expect(intent ? `${intent.severity}/${intent.state}` : 'none').toBe(expected);
  });

  it('keeps the alerting severity across silent transitions and clears it on resolve', () => {
    const crit = stored('critical', 1, 'critical');
    expect(nextCheckState(t(crit, 'maintenance'), undefined).alerting).toBe('critical');
    expect(nextCheckState(t(crit, 'passing'), { severity: 'info', state: 'resolved' }).alerting).toBeUndefined();
    expect(nextCheckState(t(undefined, 'warning'), { severity: 'warning', state: 'firing' })).toEqual({
      status: 'warning',
      modifyIndex: 20,
      since: AT,
      alerting: 'warning',
    });
  });
});
