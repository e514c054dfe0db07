import { decodeBody, encodeBody } from '../../lambdas/adapters/subject-record-codec';
import { placeHistory, type CarriedEntry, type HistoryEvent } from '../../lambdas/domain/rules/read-model';

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

  it('still fits in one write unit with the history its record carries at most (CARRIED_HISTORY)', () => {
    const title = 'CRITICAL: HTTP on :80 (service web) on web-1';
    const alert = { id: 'e565e00176f02ce33dc7104b9121b435', cluster: 'prod', source: 'consul', kind: 'check', severity: 'critical', state: 'firing', title, details: [['Output', 'connection refused']] };
    let carried: CarriedEntry[] = [];
    let largest = 0;
    for (let i = 0; i < 40; i++) {
      const events: HistoryEvent[] = i % 2 === 0
        ? [{ type: 'firing', severity: 'critical', status: 'critical', title, change: false }, { type: 'notified', channels: ['oncall', 'pager'] }]
        : [{ type: 'resolved', status: 'passing', title: title.replace('CRITICAL', 'RESOLVED'), recoveredMs: 60_123 + i }, { type: 'notified', channels: ['oncall'] }];
      const at = 1_796_229_480_000 + i * 60_123;
      carried = placeHistory(carried, { at, events }, { nowMs: at, retentionMs: 30 * 86_400_000 }).carried;
      const body = { state: { status: 'critical', modifyIndex: 150 + i, history: carried }, alert: { ...alert, routing: { deliveries: [{ alert: { ...alert, rules: ['default'] }, channels: ['oncall'] }], timers: [] } } };
      largest = Math.max(largest, encodeBody(body).length);
    }
    expect(JSON.stringify(carried).length).toBeGreaterThan(400);
    expect(largest).toBeLessThan(640); // the item's keys and other attributes stay well within the rest of 1 KB
  });

  it('refuses an unknown encoding version with a clear error', () => {
    const bytes = Buffer.from(encodeBody(SAMPLE));
    bytes[0] = 9;
    expect(() => decodeBody(bytes)).toThrow(/unknown version 9/);
  });
});
