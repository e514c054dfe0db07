import { InputError } from '../../lambdas/domain/input-errors';
import {
  decideCatalogNode,
  decideCatalogNodeGone,
  decideCatalogService,
  decideCatalogServiceGone,
  normalizeCatalogNodes,
  normalizeCatalogServices,
  type CatalogContext,
  type CatalogNodeObservation,
  type CatalogNodeState,
  type CatalogServiceState,
} from '../../lambdas/domain/consul/catalog';
import type { Verdict } from '../../lambdas/domain/consul/decision';
import { catalogNode, catalogServices, goJsonLine } from '../support/consul-fixtures';

const AT = '2026-03-01T10:00:00.000Z';
const SINCE = '2026-02-01T00:00:00.000Z';
const ctx = (over: Partial<CatalogContext> = {}): CatalogContext => ({ cluster: 'prod', at: AT, baseline: false, ...over });
const verdict = <S>(v: Verdict<S>): string => {
  const d = v.decision;
  const what = d.kind === 'ignore' ? `ignore:${d.reason}` : d.alert ? `alert:${d.alert.to}` : 'write';
  return `${what} member:${String(v.member)}`;
};

describe('normalizeCatalogServices', () => {
  it('reads {name: [tags]}, sorting and de-duplicating tags; a nil tag slice (null) is no tags', () => {
    const body = JSON.parse(goJsonLine(catalogServices({ consul: [], web: ['v2', 'primary', 'v2'], 'legacy<&>': null })));
    expect(normalizeCatalogServices(body)).toEqual({
      observations: [
        { name: 'consul', tags: [] },
        { name: 'web', tags: ['primary', 'v2'] },
        { name: 'legacy<&>', tags: [] },
      ],
      rejected: [],
    });
  });

  it('{} is an empty catalog; a non-object body is refused', () => {
    expect(normalizeCatalogServices({})).toEqual({ observations: [], rejected: [] });
    expect(() => normalizeCatalogServices([])).toThrow(InputError);
  });

  it('rejects one bad entry and keeps the rest', () => {
    const { observations, rejected } = normalizeCatalogServices({ a: ['x'], b: [1], c: 'x' });
    expect(observations.map((o) => o.name)).toEqual(['a']);
    expect(rejected.map((r) => r.index)).toEqual([1, 2]);
  });
});

describe('decideCatalogService', () => {
  const svc = (tags: string[], over: Partial<CatalogServiceState> = {}): CatalogServiceState => ({ name: 'web', tags, registered: true, index: 100, since: SINCE, ...over });
  it.each<[string, CatalogServiceState | undefined, string[], Partial<CatalogContext>, string]>([
    ['baseline records without alerting', undefined, ['v1'], { baseline: true, snapshotIndex: 100 }, 'write member:true'],
    ['a new service after the baseline', undefined, ['v1'], { snapshotIndex: 120 }, 'alert:registered member:true'],
    ['registered again after deregistration', svc(['v1'], { registered: false }), ['v1'], { snapshotIndex: 120 }, 'alert:registered member:true'],
    ['tags changed', svc(['v1']), ['v1', 'canary'], { snapshotIndex: 120 }, 'alert:tags-changed member:true'],
    ['same tags in another order', svc(['a', 'b']), ['a', 'b'], { snapshotIndex: 120 }, 'ignore:unchanged member:true'],
    ['stale snapshot', svc(['v1'], { index: 130 }), ['v2'], { snapshotIndex: 120 }, 'ignore:stale member:true'],
    ['stale snapshot of a deregistered service', svc(['v1'], { index: 130, registered: false }), ['v1'], { snapshotIndex: 120 }, 'ignore:stale member:false'],
    ['index unknown: compared anyway', svc(['v1']), ['v2'], {}, 'alert:tags-changed member:true'],
  ])('%s', (_name, prev, tags, c, expected) => {
    expect(verdict(decideCatalogService(prev, { name: 'web', tags }, ctx(c)))).toBe(expected);
  });

  it('names the added and removed tags', () => {
    const { decision } = decideCatalogService(svc(['v1', 'old']), { name: 'web', tags: ['canary', 'v1'] }, ctx({ snapshotIndex: 120 }));
    if (decision.kind !== 'write' || !decision.alert) throw new Error('expected an alert');
    expect(decision.alert).toMatchObject({ title: 'INFO: service web tags changed (+canary -old)', service: 'web', kind: 'catalog', severity: 'info' });
    expect(decision.state).toMatchObject({ tags: ['canary', 'v1'], index: 120, since: SINCE });
  });

  it.each<[string, CatalogServiceState | undefined, number | undefined, string]>([
    ['deregistered', svc(['v1']), 140, 'alert:deregistered member:false'],
    ['vanished in a stale snapshot', svc(['v1'], { index: 150 }), 140, 'ignore:stale member:undefined'],
    ['already deregistered', svc(['v1'], { registered: false }), 140, 'ignore:unchanged member:false'],
    ['no record', undefined, 140, 'ignore:unchanged member:false'],
  ])('gone: %s', (_name, prev, snapshotIndex, expected) => {
    expect(verdict(decideCatalogServiceGone(prev, 'service/web', ctx(snapshotIndex !== undefined ? { snapshotIndex } : {})))).toBe(expected);
  });
});

describe('normalizeCatalogNodes', () => {
  it('keeps IPv6 tagged addresses verbatim and reads null maps as empty', () => {
    const body = JSON.parse(goJsonLine([catalogNode('web-1'), catalogNode('db-1', { TaggedAddresses: null, Meta: null })]));
    const { observations, rejected } = normalizeCatalogNodes(body);
    expect(rejected).toEqual([]);
    expect(observations[0]?.taggedAddresses).toMatchObject({ lan_ipv6: '2001:db8::11', wan_ipv6: '2001:db8:ffff::11', lan: '10.0.0.11' });
    expect(observations[1]).toMatchObject({ node: 'db-1', taggedAddresses: {}, meta: {} });
  });

  it('[] and null are no nodes; entries without Node or ModifyIndex are rejected', () => {
    expect(normalizeCatalogNodes([])).toEqual({ observations: [], rejected: [] });
    expect(normalizeCatalogNodes(null)).toEqual({ observations: [], rejected: [] });
    const { rejected } = normalizeCatalogNodes([{ ...catalogNode('x'), Node: '' }, { ...catalogNode('y'), ModifyIndex: undefined }]);
    expect(rejected.map((r) => r.reason)).toEqual([expect.stringContaining('Node'), expect.stringContaining('ModifyIndex')]);
  });
});

describe('decideCatalogNode', () => {
  const node = (over: Parameters<typeof catalogNode>[1] = {}): CatalogNodeObservation => normalizeCatalogNodes([catalogNode('web-1', over)]).observations[0]!;
  const state = (over: Partial<CatalogNodeState> = {}): CatalogNodeState => {
    const { createIndex: _c, ...facts } = node();
    return { ...facts, present: true, since: SINCE, ...over };
  };
  it.each<[string, CatalogNodeState | undefined, CatalogNodeObservation, Partial<CatalogContext>, string]>([
    ['baseline records', undefined, node(), { baseline: true }, 'write member:true'],
    ['a node joins after the baseline', undefined, node({ ModifyIndex: 40 }), {}, 'alert:added member:true'],
    ['a removed node comes back', state({ present: false, modifyIndex: 30 }), node({ ModifyIndex: 40 }), {}, 'alert:added member:true'],
    ['address changes', state(), node({ Address: '10.0.0.99', ModifyIndex: 40 }), {}, 'alert:updated member:true'],
    ['IPv6 tagged address changes', state(), node({ TaggedAddresses: { lan: '10.0.0.11', wan_ipv6: '2001:db8::99' }, ModifyIndex: 40 }), {}, 'alert:updated member:true'],
    ['ModifyIndex moved, nothing we show changed', state(), node({ ModifyIndex: 40 }), {}, 'write member:true'],
    [
      'maps read back from DynamoDB in another key order are not a change',
      state({ meta: { rack: 'r1', 'consul-network-segment': '' }, taggedAddresses: Object.fromEntries(Object.entries(node().taggedAddresses).reverse()) }),
      node({ ModifyIndex: 40 }),
      {},
      'write member:true',
    ],
    ['stale', state({ modifyIndex: 50 }), node({ Address: '10.9.9.9', ModifyIndex: 40 }), {}, 'ignore:stale member:true'],
  ])('%s', (_name, prev, o, c, expected) => {
    expect(verdict(decideCatalogNode(prev, o, ctx(c)))).toBe(expected);
  });

  it('lists what changed, old -> new', () => {
    const { decision } = decideCatalogNode(state(), node({ Address: '10.0.0.99', Meta: { rack: 'r2' }, ModifyIndex: 40 }), ctx());
    if (decision.kind !== 'write' || !decision.alert) throw new Error('expected an alert');
    expect(decision.alert.title).toBe('INFO: node web-1 updated (Address, Meta)');
    expect(decision.alert.node).toBe('web-1');
    const details = Object.fromEntries(decision.alert.details);
    expect(details['Address changed']).toBe('10.0.0.11 -> 10.0.0.99');
    expect(details['Meta changed']).toBe('consul-network-segment=, rack=r1 -> rack=r2');
    expect(details.TaggedAddresses).toContain('wan_ipv6=2001:db8:ffff::11');
  });

  it.each<[string, CatalogNodeState | undefined, number | undefined, string]>([
    ['removed from the catalog', state(), 60, 'alert:removed member:false'],
    ['stale removal', state({ modifyIndex: 70 }), 60, 'ignore:stale member:undefined'],
    ['already removed', state({ present: false }), 60, 'ignore:unchanged member:false'],
  ])('gone: %s', (_name, prev, snapshotIndex, expected) => {
    expect(verdict(decideCatalogNodeGone(prev, 'node/web-1', ctx(snapshotIndex !== undefined ? { snapshotIndex } : {})))).toBe(expected);
  });
});
