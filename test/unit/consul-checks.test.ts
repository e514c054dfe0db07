import { normalizeChecks, MAX_OUTPUT_CHARS, OUTPUT_KEPT_CHARS } from '../../lambdas/domain/consul/checks';
import { InputError } from '../../lambdas/domain/input-errors';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';

describe('normalizeChecks', () => {
  it('maps every HealthCheck field the pipeline uses', () => {
    const { observations, rejected } = normalizeChecks(JSON.parse(goJsonLine([healthCheck({ Status: 'critical', Notes: 'n' })])));
    expect(rejected).toEqual([]);
    expect(observations).toEqual([
      expect.objectContaining({
        node: 'web-1',
        checkId: 'service:web',
        name: "Service 'web' check",
        status: 'critical',
        serviceId: 'web',
        serviceName: 'web',
        serviceTags: ['v1', 'primary'],
        type: 'http',
        notes: 'n',
        modifyIndex: 10,
        definition: expect.objectContaining({ Interval: '10s', HTTP: 'http://127.0.0.1:8080/health' }),
      }),
    ]);
  });

  it('decodes Go HTML escapes and unicode in output', () => {
    const output = '<b>fail</b> & 💥 \u2028 done';
    const line = goJsonLine([healthCheck({ Output: output, Status: 'warning' })]);
    expect(line).toContain('\\u003cb\\u003e');
    expect(normalizeChecks(JSON.parse(line)).observations[0]?.output).toBe(output);
  });

  it('treats [] and null as an empty snapshot', () => {
    expect(normalizeChecks([])).toEqual({ observations: [], rejected: [] });
    expect(normalizeChecks(null)).toEqual({ observations: [], rejected: [] });
  });

  it('rejects a non-array body as a whole', () => {
    expect(() => normalizeChecks({ Node: 'x' })).toThrow(InputError);
  });

  it.each([
    ['a string entry', 'oops', 'JSON object'],
    ['missing Node', { ...healthCheck(), Node: undefined }, 'Node is missing'],
    ['empty CheckID', healthCheck({ CheckID: '' }), 'CheckID is empty'],
    ['unknown status', healthCheck({ Status: 'on-fire' }), 'Status "on-fire"'],
    ['string ModifyIndex', { ...healthCheck(), ModifyIndex: '10' }, 'ModifyIndex'],
    ['negative ModifyIndex', healthCheck({ ModifyIndex: -1 }), 'ModifyIndex'],
    ['tags of numbers', { ...healthCheck(), ServiceTags: [1] }, 'ServiceTags'],
    ['Output as number', { ...healthCheck(), Output: 5 }, 'Output must be a string'],
  ])('rejects %s but keeps the valid entries', (_name, bad, reason) => {
    const { observations, rejected } = normalizeChecks([healthCheck({ CheckID: 'ok-1' }), bad, healthCheck({ CheckID: 'ok-2' })]);
    expect(observations.map((o) => o.checkId)).toEqual(['ok-1', 'ok-2']);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]?.index).toBe(1);
    expect(rejected[0]?.reason).toContain(reason);
  });

  it('keeps of the output what the backend uses: an excerpt of OUTPUT_KEPT_CHARS, ending in "…" when cut', () => {
    const { observations } = normalizeChecks([healthCheck({ Output: 'x'.repeat(10000) })]);
    expect(observations[0]?.output).toHaveLength(OUTPUT_KEPT_CHARS);
    expect(observations[0]?.output.endsWith('x…')).toBe(true);
    expect(OUTPUT_KEPT_CHARS).toBeLessThan(MAX_OUTPUT_CHARS);
  });
});
