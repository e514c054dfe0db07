/**
 * The outbox entry (alert + facts + routing) is stored flat, exactly as items held the
 * outbox alert before the entry was split from Alert: items written then must read, and
 * items written now must read in a rollback. The goldens were encoded by that earlier code
 * from the same inputs.
 */
import { decodeSubjectBody, encodeSubjectBody } from '../../lambdas/adapters/subject-record-codec';
import { compileRules } from '../../lambdas/domain/rules/evaluate';
import { fireTimer, routeAlert } from '../../lambdas/domain/rules/episodes';
import type { OutboxEntry, SubjectTimer } from '../../lambdas/domain/rules/outbox';
import type { Alert } from '../../lambdas/domain/types';

const T0 = Date.UTC(2026, 10, 22, 5, 0, 0);
const rules = compileRules({
  clusters: ['prod'],
  channels: { oncall: { type: 'email' }, slack: { type: 'slack' } },
  defaults: { channels: ['oncall'], resolved: true },
  rules: [{ name: 'web', match: { service: 'web' }, channels: ['slack'], repeat: 600, continue: true }],
  grouping: { windowSeconds: 60, threshold: 20 },
});
const alert: Alert = { id: 'e565e00176f02ce33dc7104b9121b435', cluster: 'prod', source: 'consul', kind: 'check', severity: 'critical', state: 'firing', node: 'web-1', service: 'web', check: 'service:web', title: 'CRITICAL: HTTP on :80 (service web) on web-1', from: 'passing', to: 'critical', at: '2026-11-22T05:00:00.000Z', details: [['Output', 'connection refused']] };
const state = { status: 'critical', modifyIndex: 150 };
const routed = routeAlert({ rules, alert, subject: 'check/web-1/service:web', previous: undefined, facts: { checkName: 'HTTP on :80', tags: ['v1'] }, nowMs: T0 });
const reminder = fireTimer(routed.outbox!.routing!.timers[0] as SubjectTimer, routed.episode, T0 + 600_000);

/** The entry as routing wrote it before alerts carried their episode's key. */
function withoutEpisode(entry: OutboxEntry): OutboxEntry {
  const strip = <A extends { episode?: string }>({ episode: _e, ...rest }: A) => rest;
  const routing = entry.routing && {
    ...entry.routing,
    deliveries: entry.routing.deliveries.map((d) => ({ ...d, alert: strip(d.alert) })),
    timers: entry.routing.timers.map((t) => ('alert' in t && t.alert ? { ...t, alert: strip(t.alert) } : t)),
  };
  return { ...entry, alert: strip(entry.alert), ...(routing ? { routing } : {}) } as OutboxEntry;
}

const GOLDEN = {
  routed:
    'Ae2WTQ6CMBBGr9K40kRCp1BQz+GWha3jQg0oqCxM726KUC1iIvizkS6bhrTfm3lMG2MDp2pcA4M84EgphMGKMomet5QhUF9MgYHwPW6B26XJ8n14dVI5CgesB+coGvBddx/B6JYmSUxmE0qG5WGSoxjpzerjLcgAOIzNKbfJ3BvRNL1M4hillhJJcXXUP7SuPV9l+5G+v4vkpoDBCQZRx9QbzPCsIvsC+36BGS3rK9eVnG0XclMz8rlKsJwJmkI/ijXKQ5WyWzzMtbMx88wrWPUlTdYZ7otRoxxOIJxyj/mM6tU76ecl8w+OUipSSl0A',
  reminder:
    'Ae2WQQ6CMBBFr9Kw0kRCp1AQzuGWhS3jQg0oiixM726KgIAYg5KYGLpsGtL+N/OYIcYGTtWiAwa5y5FS8NwNZRJtO5IeUEf4wEA4NjdTaLE7pEn0Pb8urByFCa035yh6CN53n9noriZJTIIlJbPyMMlRzPVm9fEBcABMxlaUt+E0pVj3vUziGKX2Eklxk+l/mm77unH0lcOHcI0APnNCFfwoXmjk9VCEcQEj/BBJjzleVexUgL8uwI7CT/u13HUMfq3iLGeIPgKZ2KI8V5FbxSutdlD1/PMWs3G/cR38CY9Fq5TDDHg+t5mzpHoNddhUPyPUz/87S6lQKXUD',
  unrouted:
    'ASOlxDY0NajVQYuYVFMz01QDA0NzszQDo+RUY+OUZHNDA5MkS0MjwyQTY1OUiCsoyk+hPPLQY6o8NUnXEMXD5alJWKIPIooZMaAsrZCfp2BlYaCgAVWsUJ6apAkShBlOQswYGuoaGYUYmKLGDHKJCM/0yfl5eanJoEJJoSg1rRRUocXG1tYCAA==',
};

describe('outbox entries in subject items', () => {
  test.each([
    ['routed (facts, deliveries, a repeat timer)', () => routed.outbox!, GOLDEN.routed],
    ['a reminder fired by its timer', () => reminder.outbox!, GOLDEN.reminder],
    ['unrouted (no rules when decided)', (): OutboxEntry => ({ alert }), GOLDEN.unrouted],
  ] as Array<[string, () => OutboxEntry, string]>)('%s: encoded byte for byte as before, and decoded back', (_n, entry, golden) => {
    // The goldens predate Alert.episode (issue 13): without it, the codec writes the same bytes.
    expect(Buffer.from(encodeSubjectBody(state, withoutEpisode(entry()))).toString('base64')).toBe(golden);
    expect(decodeSubjectBody(Buffer.from(golden, 'base64'))).toEqual({ state, outbox: withoutEpisode(entry()) });
    // With it (routed entries carry it now), it is stored and read back.
    expect(decodeSubjectBody(encodeSubjectBody(state, entry()))).toEqual({ state, outbox: entry() });
  });

  test('a state without an entry', () => {
    expect(decodeSubjectBody(encodeSubjectBody(state, undefined))).toEqual({ state });
  });
});
