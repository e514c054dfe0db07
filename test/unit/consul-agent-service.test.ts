import { InputError } from '../../lambdas/domain/input-errors';
import { agentServiceSubject, decideAgentService, normalizeAgentService, type AgentServiceState } from '../../lambdas/domain/consul/agent-service';
import { agentService, goJsonLine, type AgentServiceFixture } from '../support/consul-fixtures';

const AT = '2026-03-01T10:00:00.000Z';
const T0 = Date.parse('2026-03-01T09:00:00.000Z');
const ctx = (observedAtMs: number) => ({ cluster: 'prod', at: AT, node: 'web-1', observedAtMs });
const norm = (over: Partial<AgentServiceFixture> = {}) => normalizeAgentService(JSON.parse(goJsonLine(agentService('web-1a', over))));
const baseline = (): AgentServiceState => {
  const d = decideAgentService(undefined, norm(), ctx(T0)).decision;
  if (d.kind !== 'write') throw new Error('expected the baseline write');
  return d.state;
};

describe('normalizeAgentService', () => {
  it('reads the registration; IPv6 tagged addresses bracketed; null tags and meta empty', () => {
    expect(norm()).toMatchObject({ id: 'web-1a', service: 'web', tags: ['v1'], port: 8080, meta: { version: '1.4.2' }, taggedAddresses: { lan_ipv4: '10.0.0.11:8080', wan_ipv6: '[2001:db8::11]:8080' }, weights: 'passing=1 warning=1' });
    expect(norm({ Tags: null, Meta: null })).toMatchObject({ tags: [], meta: {} });
  });

  it('refuses a body that is not an AgentService', () => {
    expect(() => normalizeAgentService(null)).toThrow(InputError);
    expect(() => normalizeAgentService([agentService('x')])).toThrow(InputError);
    expect(() => normalizeAgentService({ ...agentService('x'), ID: '' })).toThrow(InputError);
  });

  it('ignores ContentHash (it changes with fields we do not report)', () => {
    const a = decideAgentService(baseline(), norm({ ContentHash: 'ffff' }), ctx(T0 + 1000)).decision;
    expect(a.kind === 'write' && a.alert).toBeFalsy();
  });
});

describe('decideAgentService', () => {
  const show = (v: ReturnType<typeof decideAgentService>) => (v.decision.kind === 'ignore' ? `ignore:${v.decision.reason}` : v.decision.alert ? 'alert' : 'write');
  it.each<[string, AgentServiceState | undefined, Partial<AgentServiceFixture>, number, string]>([
    ['first observation: baseline, no alert', undefined, {}, T0, 'write'],
    ['same registration, same time (re-delivery)', baseline(), {}, T0, 'ignore:unchanged'],
    ['same registration, later: only the time is recorded', baseline(), {}, T0 + 5000, 'write'],
    ['tags change', baseline(), { Tags: ['v2'] }, T0 + 5000, 'alert'],
    ['port changes', baseline(), { Port: 9090 }, T0 + 5000, 'alert'],
    ['address changes', baseline(), { Address: '2001:db8::77' }, T0 + 5000, 'alert'],
    ['meta changes', baseline(), { Meta: { version: '1.5.0' } }, T0 + 5000, 'alert'],
    ['an older observation (spooled, delivered late) is stale', baseline(), { Port: 1 }, T0 - 5000, 'ignore:stale'],
  ])('%s', (_name, prev, over, at, expected) => {
    expect(show(decideAgentService(prev, norm(over), ctx(at)))).toBe(expected);
  });

  it('lists every changed field old -> new', () => {
    const { decision } = decideAgentService(baseline(), norm({ Port: 9090, Tags: ['v1', 'canary'], Address: '2001:db8::77' }), ctx(T0 + 5000));
    if (decision.kind !== 'write' || !decision.alert) throw new Error('expected an alert');
    expect(decision.alert).toMatchObject({ kind: 'agent-service', severity: 'info', node: 'web-1', service: 'web', title: 'INFO: service web-1a on web-1 changed (Tags, Address, Port)' });
    const details = Object.fromEntries(decision.alert.details);
    expect(details).toMatchObject({ 'Port changed': '8080 -> 9090', 'Address changed': '(none) -> 2001:db8::77', 'Tags changed': '+canary (now: canary, v1)', Endpoint: '[2001:db8::77]:9090' });
  });

  it('subjects are per agent node and service ID', () => {
    expect(agentServiceSubject('web-1', 'web-1a')).toBe('agent-service/web-1/web-1a');
  });
});
