import { checkAlert, ttlExpired } from '../../lambdas/domain/consul/check-alerts';
import {
  decideCheck,
  decideCheckRelease,
  defaultCheckPolicy,
  evaluateCheckPolicy,
  nextCheckState,
  type CheckTransition,
  type StoredCheck,
} from '../../lambdas/domain/consul/check-transitions';
import { normalizeChecks } from '../../lambdas/domain/consul/checks';
import { isMaintenanceCheck, MaintenanceSet, maintenanceTarget, maintenanceTargetOfCheckSubject } from '../../lambdas/domain/consul/maintenance';
import type { CheckObservation } from '../../lambdas/domain/types';
import { expiredTtlCheck, goJsonLine, healthCheck, nodeMaintenance, serviceMaintenance, type HealthCheckFixture } from '../support/consul-fixtures';

const AT = '2026-03-01T10:00:00.000Z';
const SINCE = '2026-02-01T00:00:00.000Z';
const obs = (fixture: HealthCheckFixture): CheckObservation => normalizeChecks(JSON.parse(goJsonLine([fixture]))).observations[0]!;
const stored = (status: StoredCheck['status'], over: Partial<StoredCheck> = {}): StoredCheck => ({ status, modifyIndex: 10, since: SINCE, ...over });

describe('maintenance targets', () => {
  it.each<[string, string, ReturnType<typeof maintenanceTarget>]>([
    ['node maintenance', '_node_maintenance', { kind: 'node', node: 'web-1' }],
    ['service maintenance', '_service_maintenance:web-1a', { kind: 'service', node: 'web-1', serviceId: 'web-1a' }],
    ['service id with a colon', '_service_maintenance:redis:6380', { kind: 'service', node: 'web-1', serviceId: 'redis:6380' }],
    ['an ordinary check', 'service:web', undefined],
    ['serfHealth', 'serfHealth', undefined],
  ])('%s', (_name, checkId, expected) => {
    expect(maintenanceTarget({ node: 'web-1', checkId })).toEqual(expected);
    expect(maintenanceTargetOfCheckSubject(`check/web-1/${checkId}`)).toEqual(expected);
    expect(isMaintenanceCheck(checkId)).toBe(expected !== undefined);
  });

  it('a node in maintenance covers all its checks; an instance only its own', () => {
    const set = MaintenanceSet.of([obs(nodeMaintenance('db-1')), obs(serviceMaintenance('web-1', 'web-1a', 'web'))]);
    expect(set.covering('db-1')).toEqual({ kind: 'node', node: 'db-1' });
    expect(set.covering('db-1', 'postgres')).toEqual({ kind: 'node', node: 'db-1' });
    expect(set.covering('web-1', 'web-1a')).toEqual({ kind: 'service', node: 'web-1', serviceId: 'web-1a' });
    expect(set.covering('web-1', 'web-1b')).toBeUndefined();
    expect(set.covering('web-1')).toBeUndefined();
  });
});

describe('evaluateCheckPolicy: maintenance around the policy', () => {
  const t = (o: CheckObservation, from: StoredCheck | undefined, to: StoredCheck['status'], extra: Partial<CheckTransition> = {}): CheckTransition => ({
    cluster: 'prod', from: from?.status, to, ...(from ? { previous: from } : {}), observation: o, at: AT, ...extra,
  });
  const show = (r: ReturnType<typeof evaluateCheckPolicy>) => `${r.intent ? `${r.intent.severity}/${r.intent.state}` : 'none'}${r.suppressed ? ' suppressed' : ''}`;
  const maint = obs(nodeMaintenance('web-1', 'kernel'));
  const web = obs(healthCheck({ Status: 'critical' }));

  it.each<[string, CheckTransition, string]>([
    ['the maintenance check appearing is an info notice, not critical', t(maint, undefined, 'critical'), 'info/firing'],
    ['its repeat is silent', t(maint, stored('critical', { alerting: 'info' }), 'critical'), 'none'],
    ['its removal resolves the notice', t(maint, stored('critical', { alerting: 'info' }), 'removed'), 'info/resolved'],
    ['a critical check under maintenance is withheld', t(web, stored('passing'), 'critical', { maintenance: { kind: 'node', node: 'web-1' } }), 'none suppressed'],
    ['a recovery under maintenance still resolves', t(web, stored('critical', { alerting: 'critical' }), 'passing', { maintenance: { kind: 'node', node: 'web-1' } }), 'info/resolved'],
    ['without maintenance the policy decides', t(web, stored('passing'), 'critical'), 'critical/firing'],
    ['a release fires the withheld alert', t(web, stored('critical', { suppressed: true }), 'critical', { released: true }), 'critical/firing'],
  ])('%s', (_name, transition, expected) => {
    expect(show(evaluateCheckPolicy(defaultCheckPolicy, transition))).toBe(expected);
  });

  it('remembers a withheld alert in the stored state until it fires', () => {
    const tr = t(web, stored('passing'), 'critical', { maintenance: { kind: 'node', node: 'web-1' } });
    const { intent, suppressed } = evaluateCheckPolicy(defaultCheckPolicy, tr);
    const next = nextCheckState(tr, intent, suppressed);
    expect(next).toMatchObject({ status: 'critical', suppressed: true });
    expect(next.alerting).toBeUndefined();
    const release = t(web, next, 'critical', { released: true });
    const fired = evaluateCheckPolicy(defaultCheckPolicy, release);
    const after = nextCheckState(release, fired.intent, fired.suppressed);
    expect(after).toEqual({ status: 'critical', modifyIndex: next.modifyIndex, since: next.since, alerting: 'critical' });
  });
});

describe('decideCheck / decideCheckRelease with maintenance', () => {
  const crit = obs(healthCheck({ Status: 'critical', ModifyIndex: 20 }));
  const node = { kind: 'node' as const, node: 'web-1' };
  it.each<[string, StoredCheck, CheckObservation, typeof node | undefined, string]>([
    ['same status, withheld, maintenance over: released', stored('critical', { suppressed: true }), crit, undefined, 'transition released'],
    ['same status, withheld, still in maintenance', stored('critical', { suppressed: true }), crit, node, 'ignore'],
    ['same status, nothing withheld', stored('critical', { alerting: 'critical' }), crit, undefined, 'ignore'],
  ])('%s', (_name, prev, o, m, expected) => {
    const d = decideCheck('prod', prev, o, AT, 0, m);
    expect(d.kind === 'transition' ? `transition${d.transition.released ? ' released' : ''}` : 'ignore').toBe(expected);
    // The same decision for a check that did not change (no newer ModifyIndex).
    const r = decideCheckRelease('prod', prev, o, AT, m);
    expect(r.kind === 'transition' ? 'transition released' : 'ignore').toBe(expected);
  });

  it('carries the maintenance target into the transition', () => {
    const d = decideCheck('prod', stored('passing'), crit, AT, 0, node);
    expect(d.kind === 'transition' && d.transition.maintenance).toEqual(node);
  });
});

describe('check alert wording', () => {
  const alertFor = (o: CheckObservation, from: StoredCheck | undefined, to: StoredCheck['status'], state: 'firing' | 'resolved', extra: Partial<CheckTransition> = {}) =>
    checkAlert({ cluster: 'prod', from: from?.status, to, ...(from ? { previous: from } : {}), observation: o, at: AT, ...extra }, { severity: state === 'firing' && to === 'critical' && !isMaintenanceCheck(o.checkId) ? 'critical' : 'info', state });

  it.each<[string, CheckObservation, 'firing' | 'resolved', string]>([
    ['node enters maintenance', obs(nodeMaintenance('web-1', 'kernel upgrade')), 'firing', 'MAINTENANCE: node web-1 entered maintenance mode'],
    ['node leaves maintenance', obs(nodeMaintenance('web-1')), 'resolved', 'MAINTENANCE: node web-1 left maintenance mode'],
    ['instance enters maintenance', obs(serviceMaintenance('web-1', 'web-1a', 'web', 'deploy')), 'firing', 'MAINTENANCE: service web [web-1a] on web-1 entered maintenance mode'],
  ])('%s', (_name, o, state, title) => {
    const a = alertFor(o, state === 'resolved' ? stored('critical', { alerting: 'info' }) : undefined, state === 'resolved' ? 'removed' : 'critical', state);
    expect(a.title).toBe(title);
    expect(a.kind).toBe('maintenance');
    expect(a.severity).toBe('info');
    expect(Object.fromEntries(a.details).Reason).toBe(o.notes);
  });

  it('a TTL check that expired says so, with its Notes, Output, Type and Definition', () => {
    const o = obs(expiredTtlCheck({}, 'processed 120 jobs'));
    expect(ttlExpired(o)).toBe(true);
    const a = alertFor(o, stored('passing'), 'critical', 'firing');
    expect(a.title).toBe('CRITICAL: worker heartbeat (service worker) on web-1: TTL expired, no update from the service');
    const details = Object.fromEntries(a.details);
    expect(details.Type).toBe('ttl');
    expect(details.Reason).toContain('TTL expired');
    expect(details.Notes).toBe('The worker must PUT /v1/agent/check/pass every 30s');
    expect(details.Output).toBe('TTL expired (last output before timeout follows): processed 120 jobs');
    // Every field of this Definition is the catalog's zero value: none of it is a setting.
    expect(details.Definition).toBeUndefined();
  });

  it('a TTL check without earlier output: Output "TTL expired"', () => {
    const o = obs(expiredTtlCheck({}, ''));
    expect(Object.fromEntries(alertFor(o, undefined, 'critical', 'firing').details).Output).toBe('TTL expired');
  });

  it('an ordinary critical HTTP check keeps its wording, Type and Definition', () => {
    const a = alertFor(obs(healthCheck({ Status: 'critical', Output: 'HTTP GET: 503' })), stored('passing'), 'critical', 'firing');
    expect(a.title).toBe("CRITICAL: Service 'web' check (service web) on web-1");
    expect(a.kind).toBe('check');
    expect(Object.fromEntries(a.details)).toMatchObject({ Type: 'http', Status: 'passing -> critical' });
    expect(Object.fromEntries(a.details).Definition).toContain('HTTP=http://127.0.0.1:8080/health');
  });

  it('a released alert says maintenance ended', () => {
    const a = alertFor(obs(healthCheck({ Status: 'critical' })), stored('critical', { suppressed: true }), 'critical', 'firing', { released: true });
    expect(a.title).toBe("CRITICAL: Service 'web' check (service web) on web-1 (still critical after maintenance)");
    expect(Object.fromEntries(a.details).Maintenance).toContain('ended');
  });
});
