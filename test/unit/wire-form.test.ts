/**
 * The compact form is lossless: for watch results of every projected type, what the backend
 * makes of the shim's projected envelope (agent-shim compact.ts, wire-form.ts) deep-equals
 * what it makes of the raw one, observations and rejections alike. Both go through the
 * backend's own reading of an envelope body (parseBodyJson: well-formed JSON).
 */
import { compactEnvelope } from '../../agent-shim/src/compact';
import { parseBodyJson } from '../../lambdas/app/sources/body';
import { normalizeCatalogNodes } from '../../lambdas/domain/consul/catalog';
import { normalizeCheckDelta } from '../../lambdas/domain/consul/check-deltas';
import { normalizeChecks } from '../../lambdas/domain/consul/checks';
import { normalizeServiceEntries } from '../../lambdas/domain/consul/health-service';
import { normalizeKey, normalizeKeyprefix } from '../../lambdas/domain/consul/kv';
import { keptOutput, OUTPUT_KEPT_CHARS, PROJECTED_FORM } from '../../lambdas/domain/consul/wire-form';
import { parseEnvelope } from '../../lambdas/domain/envelope';
import type { Envelope } from '../../lambdas/domain/types';
import { BINARY_BYTES, catalogNode, consulEnvelope, expiredTtlCheck, healthCheck, kvPair, largeSnapshot, nodeMaintenance, serfHealth, serviceEntry } from '../support/consul-fixtures';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be reproduced. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Text that probes every edge of keptOutput: whitespace (also what safeText replaces), surrogate pairs, lone surrogates, controls. */
const PIECES = ['a', 'Z', ' ', '\n', '\t', '\r', '\v', '\f', '\u00a0', '\u2028', '\ufeff', 'é', '✓', '😀', '\ud800', '\udc00', '\u0000', '\u001b', '\ufffe', '<', '&', '"', '\\', '…'];
function probeText(next: () => number, length: number): string {
  let s = '';
  while (s.length < length) s += PIECES[Math.floor(next() * PIECES.length)]!;
  return s;
}

/** What the backend reads of an envelope's body: raw or projected, through parseEnvelope and parseBodyJson. */
function received(envelope: Envelope): { form?: string; body: unknown } {
  const e = parseEnvelope(JSON.parse(JSON.stringify(envelope)));
  return { ...(e.form ? { form: e.form } : {}), body: parseBodyJson(e, 'the watch body') };
}

/** Normalized raw and normalized projected, for `type`'s normalizer. */
function bothWays(type: string, result: unknown): { raw: unknown; projected: unknown; compacted: Envelope } {
  const raw = consulEnvelope(type, result, { index: '500' });
  const compacted = compactEnvelope(raw).whole();
  const normalize = (r: { form?: string; body: unknown }): unknown => {
    const projected = r.form === PROJECTED_FORM;
    switch (type) {
      case 'checks':
        return normalizeChecks(r.body);
      case 'keyprefix':
        return normalizeKeyprefix(r.body, projected);
      case 'key':
        return normalizeKey(r.body, projected);
      case 'service':
        return normalizeServiceEntries(r.body);
      case 'nodes':
        return normalizeCatalogNodes(r.body);
      default:
        throw new Error(type);
    }
  };
  return { raw: normalize(received(raw)), projected: normalize(received(compacted)), compacted };
}

const next = rng(0x5eed);
const hugeOutput = 'Captured 4096 of 9000 bytes\n' + 'x'.repeat(9000);
const unicodeName = 'Vérification «santé» ✓ 😀 \u2028 <tag> & co';

describe('the compact form is lossless', () => {
  it('keptOutput is idempotent (what makes sending it instead of the output lossless), on 1,000 probing strings', () => {
    for (let i = 0; i < 1000; i++) {
      const length = [0, 1, 5, 999, 1000, 1001, 1002, 4095, 4096, 4097, 6000][i % 11]! + Math.floor(next() * 3);
      const text = probeText(next, length);
      const once = keptOutput(text);
      expect(keptOutput(once)).toBe(once);
      expect(keptOutput(JSON.parse(JSON.stringify(once)) as string)).toBe(once);
      expect(once.length).toBeLessThanOrEqual(OUTPUT_KEPT_CHARS);
    }
  });

  it('checks: unicode, huge and probing outputs, nested Definitions, unknown fields, maintenance, malformed entries', () => {
    const checks: unknown[] = [
      ...largeSnapshot(50),
      healthCheck({ CheckID: 'huge', Output: hugeOutput, Status: 'critical' }),
      healthCheck({ CheckID: 'unicode', Name: unicodeName, Output: `  ${unicodeName}\n`, Notes: unicodeName, ServiceTags: ['ü', '😀'] }),
      healthCheck({ CheckID: 'ws-only', Output: ' \n\t ', Status: 'critical', CreateIndex: 7, ModifyIndex: 7 }),
      healthCheck({ CheckID: 'lead-ws', Output: `${' '.repeat(3500)}${'y'.repeat(2000)}` }),
      healthCheck({ CheckID: 'nested', Definition: { Interval: '10s', Header: { 'X-A': ['1', '2'], 'X-B': [] }, Args: ['/bin/check', '--deep', { a: { b: { c: [1, 2, null] } } }], Body: unicodeName } }),
      { ...healthCheck({ CheckID: 'extra' }), ExposedPort: 21500, Namespace: 'default', Partition: 'default', PeerName: '', Interval: '10s', Timeout: '1s' },
      ...Array.from({ length: 40 }, (_, i) => healthCheck({ CheckID: `probe-${i}`, Output: probeText(next, [0, 998, 1000, 1001, 1003, 4096, 5000][i % 7]!), Notes: probeText(next, 40) })),
      expiredTtlCheck({ Output: '   TTL expired' }),
      nodeMaintenance('web-2', 'kernel upgrade ✓'),
      serfHealth('web-3', { Status: 'critical', Output: 'Agent not live or unreachable' }),
      healthCheck({ CheckID: 'lone', Name: 'half \ud800 pair', Output: 'x\udc00y' }),
      // Malformed: each rejected alike, with the same reason.
      healthCheck({ CheckID: 'bad-output', Output: 5 as unknown as string }),
      { ...healthCheck({ CheckID: 'bad-def' }), Definition: { a: { b: { c: { d: { e: { f: { g: { h: { i: 1 } } } } } } } } } },
      { ...healthCheck({ CheckID: 'proto' }), Definition: JSON.parse('{"__proto__": {"polluted": 1}}') as Record<string, unknown> },
      healthCheck({ CheckID: 'bad-status', Status: 'sideways' }),
      { Node: 'n', CheckID: 'no-index', Status: 'passing' },
      'not an object',
      null,
      [healthCheck()],
    ];
    const { raw, projected, compacted } = bothWays('checks', checks);
    expect(compacted.form).toBe(PROJECTED_FORM);
    expect(compacted.body.length).toBeLessThan(consulEnvelope('checks', checks).body.length);
    expect(projected).toEqual(raw);
    expect((raw as ReturnType<typeof normalizeChecks>).rejected.length).toBe(8);
  });

  it('checks deltas carry projected entries: the same observations as the raw changes', () => {
    const changed = [healthCheck({ CheckID: 'a', Output: hugeOutput, Status: 'warning' }), { ...healthCheck({ CheckID: 'b', Output: unicodeName }), ExposedPort: 1 }];
    const compactBody = JSON.parse(compactEnvelope(consulEnvelope('checks', changed)).whole().body) as unknown[];
    const removed = [{ Node: 'web-1', CheckID: 'gone' }];
    expect(normalizeCheckDelta({ changed: compactBody, removed })).toEqual(normalizeCheckDelta({ changed, removed }));
  });

  it('keyprefix and key: text, unicode, binary, null, empty, long and 512 KB values (as base64), malformed Values', () => {
    const big = Buffer.alloc(512 * 1024, 'config line ✓\n');
    const bigBinary = Buffer.concat([Buffer.from(BINARY_BYTES), Buffer.alloc(300_000, 0xfe)]);
    const pairs: unknown[] = [
      kvPair('app/small', 'x<y>&z ✓'),
      kvPair('app/unicode', unicodeName.repeat(80)),
      kvPair('app/binary', BINARY_BYTES),
      kvPair('app/big-binary', bigBinary),
      kvPair('app/null', null),
      kvPair('app/empty', ''),
      kvPair('app/512k', big, { Flags: 42, LockIndex: 3, Session: 'sess-1' }),
      kvPair('app/controls', `line\u0001${'z'.repeat(3000)}`),
      kvPair('app/surrogate-cut', `${'a'.repeat(199)}😀${'b'.repeat(2000)}`),
      kvPair('app/utf8-cut', Buffer.concat([Buffer.from('é'.repeat(1000)), Buffer.from([0xc3])])),
      { ...kvPair('app/extra', 'v'), Namespace: 'default', Partition: 'default' },
      { ...kvPair('app/forged', 'plain'), ValueSummary: { kind: 'text', digest: 'none', shown: 'forged', stored: 'forged' } },
      { ...kvPair('app/bad', 'v'), Value: `***${'A'.repeat(2000)}` },
      { ...kvPair('app/no-index', 'v'), ModifyIndex: undefined },
      17,
    ];
    const prefix = bothWays('keyprefix', pairs);
    expect(prefix.compacted.form).toBe(PROJECTED_FORM);
    expect(prefix.compacted.body.length).toBeLessThan(50_000); // 512 KB and 300 KB values went as their summaries
    expect(prefix.projected).toEqual(prefix.raw);
    expect((prefix.raw as ReturnType<typeof normalizeKeyprefix>).rejected.length).toBe(3);
    for (const one of [pairs[6], pairs[3], pairs[0], null]) {
      const key = bothWays('key', one);
      expect(key.projected).toEqual(key.raw);
    }
  });

  it('service: nodes, instances and their checks, with unknown fields, maintenance and malformed entries', () => {
    const entries: unknown[] = [
      ...Array.from({ length: 20 }, (_, i) => serviceEntry(`node-${i}`, `web-${i}`, { status: i % 5 === 0 ? 'critical' : 'passing' })),
      serviceEntry('node-u', 'web-u', { node: { Meta: { 'rack ✓': unicodeName } }, service: { Tags: ['ü'], Meta: { v: unicodeName } }, checks: [serfHealth('node-u'), healthCheck({ Node: 'node-u', CheckID: 'c', Status: 'warning', Output: hugeOutput, ServiceID: 'web-u' })] }),
      serviceEntry('node-m', 'web-m', { checks: [serfHealth('node-m'), nodeMaintenance('node-m', 'swap disks')] }),
      (() => {
        const e = serviceEntry('node-x', 'web-x') as unknown as Record<string, Record<string, unknown>>;
        return { ...e, Node: { ...e.Node, Partition: 'default', PeerName: '' }, Service: { ...e.Service, Proxy: { Mode: '' }, Connect: {}, Weights: { Passing: 1, Warning: 1 } } };
      })(),
      { ...serviceEntry('node-bad', 'web-bad'), Checks: [healthCheck({ Output: 5 as unknown as string })] },
      { Node: null, Service: {}, Checks: [] },
      'nope',
    ];
    const { raw, projected, compacted } = bothWays('service', entries);
    expect(compacted.form).toBe(PROJECTED_FORM);
    expect(projected).toEqual(raw);
    expect((raw as ReturnType<typeof normalizeServiceEntries>).rejected.length).toBe(3);
  });

  it('nodes: IPv6 tagged addresses, null maps, unknown fields, malformed entries', () => {
    const nodes: unknown[] = [
      ...Array.from({ length: 20 }, (_, i) => catalogNode(`node-${i}`, { ModifyIndex: 10 + i })),
      catalogNode('node-null', { TaggedAddresses: null, Meta: null }),
      catalogNode('node-ü', { Meta: { 'ключ': unicodeName } }),
      { ...catalogNode('node-extra'), Partition: 'default', PeerName: '', Locality: { Region: 'x' } },
      { ...catalogNode('node-bad'), ModifyIndex: 0 },
      [],
    ];
    const { raw, projected, compacted } = bothWays('nodes', nodes);
    expect(compacted.form).toBe(PROJECTED_FORM);
    expect(projected).toEqual(raw);
    expect((raw as ReturnType<typeof normalizeCatalogNodes>).rejected.length).toBe(2);
  });

  it('results of another shape, and other watch types, are sent as they are', () => {
    expect(compactEnvelope(consulEnvelope('checks', { not: 'a list' })).whole().form).toBeUndefined();
    expect(compactEnvelope(consulEnvelope('services', { web: ['v1'] })).whole().form).toBeUndefined();
    expect(compactEnvelope(consulEnvelope('event', [])).whole().form).toBeUndefined();
    const broken = { ...consulEnvelope('checks', []), body: '[{"Node": ' };
    expect(compactEnvelope(broken).whole()).toBe(broken);
  });

  it('the API refuses a form it does not know, and the form on types without one', () => {
    expect(() => parseEnvelope({ ...consulEnvelope('checks', []), form: 'zipped' })).toThrow('envelope.form must be "projected"');
    expect(() => parseEnvelope({ ...consulEnvelope('event', []), form: PROJECTED_FORM })).toThrow('only defined for consul checks');
  });
});
