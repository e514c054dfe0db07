import { decodeBody, encodeBody } from '../../lambdas/adapters/subject-record-codec';

const SAMPLE = {
  state: { status: 'critical', modifyIndex: 42, since: '2026-11-22T05:00:00.000Z', facts: { node: 'web-1', checkId: 'service:web', name: 'HTTP on :80 ✓' } },
  alert: { id: 'a1b2c3', title: 'CRITICAL: HTTP on :80 ✓ (service web) on web-1', details: [['Output', 'connection refused']] },
};

/** Written by encoding version 1 (its dictionary): items like it live in tables for months. */
const GOLDEN_V1 =
  'ASOlxDYxQiuzDQ11jYxCDExR3YBeFpenJukaYi2Qy1OTEGUyKGcp5OcpWFkYKDyaM1kJVIygJoJEwySjZGOsgYumWUEDaoVCeWqSJkgC5gjkggme95Lz8/JSk0Flg0JRalopqF6Jja2tBQA=';

describe('subject record codec', () => {
  it('still decodes an item written by version 1 (its dictionary must never change)', () => {
    expect(decodeBody(Buffer.from(GOLDEN_V1, 'base64'))).toEqual(SAMPLE);
  });

  it('round-trips state and alert, unicode included, and from a plain Uint8Array (as the SDK returns it)', () => {
    const body = { state: { text: 'héllo ✓ \u0000 "quoted"', n: [1, 2.5, -3], nested: { a: null } }, alert: { id: 'x'.repeat(32) } };
    const bytes = encodeBody(body);
    expect(decodeBody(new Uint8Array(bytes))).toEqual(body);
    const { alert: _alert, ...stateOnly } = body;
    expect(decodeBody(encodeBody(stateOnly))).toEqual(stateOnly);
  });

  it('makes a typical check record with its outbox alert fit in one write unit', () => {
    const details = ['Check', 'Node', 'Service', 'Tags', 'Status', 'Type', 'Definition', 'Output', 'ModifyIndex'].map((k) => [k, `${k.toLowerCase()} value of web-1`]);
    const alert = { id: 'e565e00176f02ce33dc7104b9121b435', cluster: 'prod', source: 'consul', kind: 'check', severity: 'critical', state: 'firing', title: 'CRITICAL: HTTP on :80 (service web) on web-1', details };
    const body = { state: { status: 'critical', modifyIndex: 150 }, alert: { ...alert, routing: { deliveries: [{ alert: { ...alert, rules: ['default'] }, channels: ['oncall'] }], timers: [] } } };
    expect(JSON.stringify(body).length).toBeGreaterThan(1024);
    expect(encodeBody(body).length).toBeLessThan(512);
  });

  it('refuses an unknown encoding version with a clear error', () => {
    const bytes = Buffer.from(encodeBody(SAMPLE));
    bytes[0] = 9;
    expect(() => decodeBody(bytes)).toThrow(/unknown version 9/);
  });
});
