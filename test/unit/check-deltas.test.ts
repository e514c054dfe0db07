import { createIngestHandler } from '../../lambdas/app/ingest-http';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { HEADERS, ROUTES } from '../../lambdas/domain/protocol';
import { normalizeCheckDelta } from '../../lambdas/domain/consul/check-deltas';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { parseEnvelope } from '../../lambdas/domain/envelope';
import { sign } from '../../lambdas/domain/signing';
import { healthCheck } from '../support/consul-fixtures';

const base = { v: 1, cluster: 'prod', source: 'consul', type: 'checks', node: 'n1', index: '20', sentAt: '2026-01-01T00:00:00Z', body: '{}', bodyEncoding: 'utf8' };

describe('delta envelopes', () => {
  it('parseEnvelope keeps delta and base; a whole snapshot has neither', () => {
    expect(parseEnvelope({ ...base, delta: true, base: '12' })).toMatchObject({ delta: true, base: '12' });
    const whole = parseEnvelope({ ...base, delta: false, base: '12' });
    expect(whole.delta).toBeUndefined();
    expect(whole.base).toBeUndefined();
  });

  it.each([
    [{ delta: true }, /envelope\.base must be a string/],
    [{ delta: true, base: 12 }, /envelope\.base must be a string/],
    [{ delta: true, base: '1e3' }, /envelope\.base must be a string of digits/],
    [{ delta: 'yes', base: '1' }, /envelope\.delta must be true/],
    [{ delta: true, base: '1', type: 'nodes' }, /only defined for consul checks/],
    [{ delta: true, base: '1', source: 'serf', type: 'member-join' }, /only defined for consul checks/],
  ])('parseEnvelope refuses %j', (extra, reason) => {
    expect(() => parseEnvelope({ ...base, ...extra })).toThrow(reason);
  });

  it('normalizeCheckDelta: changed checks as observations, removed as subjects, bad entries rejected one by one', () => {
    const out = normalizeCheckDelta({ changed: [healthCheck({ CheckID: 'a' }), { Node: 'x' }], removed: [{ Node: 'web-1', CheckID: 'b/c' }] });
    expect(out.observations.map((o) => o.checkId)).toEqual(['a']);
    expect(out.rejected).toEqual([{ index: 1, reason: 'CheckID is missing' }]);
    expect(out.removed).toEqual(['check/web-1/b/c']);
    expect(normalizeCheckDelta({})).toEqual({ observations: [], rejected: [], removed: [] });
    expect(() => normalizeCheckDelta([])).toThrow(/must be a JSON object/);
    expect(() => normalizeCheckDelta({ changed: {} })).toThrow(/delta\.changed/);
    expect(() => normalizeCheckDelta({ removed: [{ Node: '', CheckID: 'a' }] })).toThrow(/delta\.removed\[0\]/);
  });

  it('the API answers 409 {needFull: true} to a delta for a scope without a baseline', async () => {
    const unused = () => Promise.reject(new Error('not expected'));
    const handle = createIngestHandler({
      keys: new StaticClusterKeys({ prod: 'k' }),
      replay: { firstUse: async () => true, forget: async () => undefined },
      sources: {
        subjects: { get: unused, getMany: unused, put: unused, claimPending: unused, clearPending: unused },
        scopes: { getScope: async () => ({ watermark: 0, active: new Set<string>() }), updateScope: unused, resetScope: unused },
        publisher: { dispatch: unused },
        checkPolicy: defaultCheckPolicy,
        clock: { nowMs: () => Date.now() },
      },
      logger: { info: () => undefined, error: () => undefined },
    });
    const body = Buffer.from(JSON.stringify({ ...base, sentAt: new Date().toISOString(), delta: true, base: '12', body: '{"changed":[],"removed":[]}' }));
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await handle({
      method: 'POST',
      path: ROUTES.ingest.path,
      headers: { [HEADERS.cluster]: 'prod', [HEADERS.timestamp]: ts, [HEADERS.signature]: sign('k', 'POST', ROUTES.ingest.path, ts, body) },
      body,
    });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'need_full', needFull: true });
  });
});
