import {
  decideInstance,
  decideInstanceGone,
  normalizeServiceEntries,
  type InstanceContext,
  type InstanceObservation,
  type InstanceState,
} from '../../lambdas/domain/consul/health-service';
import type { Verdict } from '../../lambdas/domain/consul/decision';
import { expiredTtlCheck, goJsonLine, healthCheck, nodeMaintenance, serfHealth, serviceEntry, serviceMaintenance, type ServiceEntryFixture } from '../support/consul-fixtures';

const AT = '2026-03-01T10:00:00.000Z';
const SINCE = '2026-02-01T00:00:00.000Z';
const ctx = (over: Partial<InstanceContext> = {}): InstanceContext => ({ cluster: 'prod', at: AT, baseline: false, snapshotIndex: 200, ...over });
const norm = (entries: ServiceEntryFixture[]) => normalizeServiceEntries(JSON.parse(goJsonLine(entries)));
const one = (entry: ServiceEntryFixture): InstanceObservation => norm([entry]).observations[0]!;
const verdict = <S>(v: Verdict<S>): string => {
  const d = v.decision;
  if (d.kind === 'ignore') return `ignore:${d.reason}`;
  return d.alert ? `${d.alert.severity}/${d.alert.state}:${d.alert.to}` : 'write';
};

describe('normalizeServiceEntries', () => {
  it('[] and null: no instances', () => {
    expect(norm([])).toEqual({ observations: [], rejected: [] });
    expect(normalizeServiceEntries(null)).toEqual({ observations: [], rejected: [] });
  });

  it('reads the instance, its endpoint and IPv6 tagged addresses', () => {
    const o = one(serviceEntry('web-1', 'web-1a'));
    expect(o).toMatchObject({
      node: 'web-1',
      nodeAddress: '10.0.0.11',
      serviceId: 'web-1a',
      serviceName: 'web',
      tags: ['v1', 'primary'],
      address: '10.0.0.11',
      port: 8080,
      taggedAddresses: { lan_ipv4: '10.0.0.11:8080', wan_ipv6: '[2001:db8::11]:8080' },
      health: 'passing',
      failing: [],
      index: 20,
    });
    expect(o.maintenance).toBeUndefined();
  });

  it.each<[string, string[], string]>([
    ['all passing', ['passing', 'passing'], 'passing'],
    ['one warning', ['passing', 'warning'], 'warning'],
    ['critical wins over warning', ['warning', 'critical'], 'critical'],
  ])('aggregates health: %s', (_name, statuses, health) => {
    const checks = statuses.map((Status, i) => healthCheck({ Node: 'web-1', CheckID: `c${i}`, ServiceID: 'web-1a', Status, ModifyIndex: 30 + i }));
    expect(one(serviceEntry('web-1', 'web-1a', { checks })).health).toBe(health);
  });

  it('maintenance checks do not make the instance critical; they put it in maintenance', () => {
    const node = one(serviceEntry('web-1', 'web-1a', { checks: [serfHealth('web-1'), nodeMaintenance('web-1', 'kernel upgrade')] }));
    expect(node.health).toBe('passing');
    expect(node.maintenance).toEqual({ target: { kind: 'node', node: 'web-1' }, reason: 'kernel upgrade' });
    const svc = one(serviceEntry('web-1', 'web-1a', { checks: [serfHealth('web-1'), serviceMaintenance('web-1', 'web-1a', 'web', 'deploy')] }));
    expect(svc.maintenance).toEqual({ target: { kind: 'service', node: 'web-1', serviceId: 'web-1a' }, reason: 'deploy' });
    // Another instance's maintenance does not cover this one.
    const other = one(serviceEntry('web-1', 'web-1a', { checks: [serfHealth('web-1'), serviceMaintenance('web-1', 'web-1b', 'web')] }));
    expect(other.maintenance).toBeUndefined();
  });

  it('lists failing checks worst first, with TTL expiry spelled out', () => {
    const o = one(serviceEntry('w-1', 'worker-1', { checks: [healthCheck({ Node: 'w-1', CheckID: 'slow', Status: 'warning', ServiceID: 'worker-1' }), expiredTtlCheck({ Node: 'w-1' })] }));
    expect(o.failing.map((c) => c.checkId)).toEqual(['service:worker-ttl', 'slow']);
    const { decision } = decideInstance(undefined, o, ctx());
    const failing = decision.kind === 'write' ? Object.fromEntries(decision.alert!.details)['Failing checks'] : '';
    expect(failing).toContain('worker heartbeat [service:worker-ttl] critical (ttl) TTL expired: TTL expired (last output before timeout follows): heartbeat ok');
    expect(failing).toContain('notes: The worker must PUT');
  });

  it('rejects an entry with a bad check and keeps the rest', () => {
    const bad = serviceEntry('web-2', 'web-2a', { checks: [healthCheck({ Status: 'on-fire' })] });
    const { observations, rejected } = norm([serviceEntry('web-1', 'web-1a'), bad]);
    expect(observations).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ index: 1 });
    expect(rejected[0]?.reason).toContain('Checks: Status');
  });
});

describe('decideInstance', () => {
  const state = (over: Partial<InstanceState> = {}): InstanceState => ({
    node: 'web-1',
    serviceId: 'web-1a',
    serviceName: 'web',
    tags: ['primary', 'v1'],
    address: '10.0.0.11',
    port: 8080,
    nodeAddress: '10.0.0.11',
    health: 'passing',
    inMaintenance: false,
    registered: true,
    index: 100,
    since: SINCE,
    ...over,
  });
  const entry = (status: string, extra: { maint?: 'node' | 'service'; tags?: string[]; port?: number } = {}) => {
    const checks = [serfHealth('web-1'), healthCheck({ Node: 'web-1', CheckID: 'service:web-1a', ServiceID: 'web-1a', Status: status, ModifyIndex: 150 })];
    if (extra.maint === 'node') checks.push(nodeMaintenance('web-1', 'patching'));
    if (extra.maint === 'service') checks.push(serviceMaintenance('web-1', 'web-1a', 'web', 'deploy'));
    return one(serviceEntry('web-1', 'web-1a', { checks, service: { ...(extra.tags ? { Tags: extra.tags } : {}), ...(extra.port ? { Port: extra.port } : {}) } }));
  };

  it.each<[string, InstanceState | undefined, InstanceObservation, Partial<InstanceContext>, string]>([
    ['baseline, passing: recorded quietly', undefined, entry('passing'), { baseline: true }, 'write'],
    ['baseline, critical: alerted (it is broken now)', undefined, entry('critical'), { baseline: true }, 'critical/firing:critical'],
    ['baseline, critical but in maintenance: quiet', undefined, entry('critical', { maint: 'node' }), { baseline: true }, 'write'],
    ['registered after the baseline', undefined, entry('passing'), {}, 'info/firing:registered'],
    ['passing -> critical', state(), entry('critical'), {}, 'critical/firing:critical'],
    ['passing -> warning', state(), entry('warning'), {}, 'warning/firing:warning'],
    ['critical (alerted) -> passing', state({ health: 'critical', alerting: 'critical' }), entry('passing'), {}, 'info/resolved:passing'],
    ['critical (alerted) stays critical', state({ health: 'critical', alerting: 'critical' }), entry('critical'), {}, 'ignore:unchanged'],
    ['warning (alerted) -> critical escalates', state({ health: 'warning', alerting: 'warning' }), entry('critical'), {}, 'critical/firing:critical'],
    ['tags change', state(), entry('passing', { tags: ['v2', 'primary'] }), {}, 'info/firing:changed'],
    ['port changes', state(), entry('passing', { port: 9090 }), {}, 'info/firing:changed'],
    ['nothing changed', state(), entry('passing'), {}, 'ignore:unchanged'],
    ['stale snapshot', state({ index: 300 }), entry('critical'), {}, 'ignore:stale'],
    ['enters node maintenance', state(), entry('passing', { maint: 'node' }), {}, 'info/firing:maintenance'],
    ['enters service maintenance', state(), entry('critical', { maint: 'service' }), {}, 'info/firing:maintenance'],
    ['critical during maintenance: withheld', state({ inMaintenance: true }), entry('critical', { maint: 'node' }), {}, 'write'],
    ['tags change during maintenance: withheld', state({ inMaintenance: true }), entry('passing', { maint: 'node', tags: ['x'] }), {}, 'write'],
    ['recovers during maintenance after an earlier alert: resolved', state({ inMaintenance: true, health: 'critical', alerting: 'critical' }), entry('passing', { maint: 'node' }), {}, 'info/resolved:passing'],
    ['leaves maintenance healthy', state({ inMaintenance: true }), entry('passing'), {}, 'info/firing:passing'],
    ['leaves maintenance still critical: the withheld alert fires', state({ inMaintenance: true, health: 'critical' }), entry('critical'), {}, 'critical/firing:critical'],
    ['leaves maintenance healthy after an alert: resolved', state({ inMaintenance: true, health: 'critical', alerting: 'critical' }), entry('passing'), {}, 'info/resolved:passing'],
  ])('%s', (_name, prev, o, c, expected) => {
    expect(verdict(decideInstance(prev, o, ctx(c)))).toBe(expected);
  });

  it('a firing alert names the instance and its failing check, and records alerting', () => {
    const { decision } = decideInstance(state(), entry('critical'), ctx());
    if (decision.kind !== 'write' || !decision.alert) throw new Error('expected an alert');
    expect(decision.alert).toMatchObject({ title: 'CRITICAL: service web instance web-1a on web-1 is critical', kind: 'service', node: 'web-1', service: 'web', from: 'passing', to: 'critical', since: SINCE });
    expect(Object.fromEntries(decision.alert.details)).toMatchObject({ Endpoint: '10.0.0.11:8080', Health: 'critical', 'Watch index': '200' });
    expect(decision.state).toMatchObject({ health: 'critical', alerting: 'critical', index: 200, since: AT });
  });

  it('entering maintenance keeps an earlier alert open and says why', () => {
    const { decision } = decideInstance(state({ health: 'critical', alerting: 'critical' }), entry('critical', { maint: 'node' }), ctx());
    if (decision.kind !== 'write' || !decision.alert) throw new Error('expected an alert');
    expect(decision.alert.title).toBe('INFO: service web instance web-1a on web-1 entered maintenance');
    expect(Object.fromEntries(decision.alert.details).Maintenance).toBe('node web-1: patching');
    expect(decision.state).toMatchObject({ inMaintenance: true, alerting: 'critical' });
  });
});

describe('decideInstanceGone', () => {
  const prev = (over: Partial<InstanceState> = {}): InstanceState => ({
    node: 'web-1', serviceId: 'web-1a', serviceName: 'web', tags: [], address: '', port: 80, nodeAddress: '10.0.0.11',
    health: 'passing', inMaintenance: false, registered: true, index: 100, since: SINCE, ...over,
  });
  it.each<[string, InstanceState | undefined, number | undefined, string]>([
    ['deregistered', prev(), 200, 'info/firing:deregistered'],
    ['deregistered while alerting: resolves', prev({ health: 'critical', alerting: 'critical' }), 200, 'info/resolved:deregistered'],
    ['deregistered during maintenance: quiet', prev({ inMaintenance: true }), 200, 'write'],
    ['stale snapshot', prev({ index: 300 }), 200, 'ignore:stale'],
    ['already gone', prev({ registered: false }), 200, 'ignore:unchanged'],
  ])('%s', (_name, p, snapshotIndex, expected) => {
    expect(verdict(decideInstanceGone(p, 'instance/web-1/web-1a', ctx(snapshotIndex !== undefined ? { snapshotIndex } : {})))).toBe(expected);
  });
});
