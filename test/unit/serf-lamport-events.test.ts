import {
  MAX_EVENTS_PER_LTIME,
  decideLamportEvent,
  describePayload,
  lamportAlert,
  lamportClockSubject,
  lamportSlotSubject,
  legacyDuplicate,
  legacyLamportSubject,
  normalizeLamportEvent,
  type LamportEvent,
  type LamportSlotState,
  LEGACY_MAX_NAME_BYTES,
} from '../../lambdas/domain/serf/lamport-events';
import { ringSlot } from '../../lambdas/domain/serf/lamport-clock';
import { LIMITS } from '../../lambdas/domain/protocol';

const AT = '2026-03-01T12:00:00.000Z';
const userEvent = (name: string, ltime: string | number | bigint, payload: Buffer | string = '', reporter = 'a'): LamportEvent =>
  normalizeLamportEvent('user', {
    env: { SERF_USER_EVENT: name, SERF_USER_LTIME: String(ltime) },
    index: String(ltime),
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    reporter,
    at: AT,
  });

describe('normalizeLamportEvent', () => {
  it('takes the name from SERF_USER_EVENT and the LTime from the index, canonical and beyond 2^53', () => {
    const ev = userEvent('deploy', '0009007199254740993');
    expect(ev).toMatchObject({ kind: 'user', name: 'deploy', ltime: '9007199254740993' });
    expect(lamportSlotSubject('user', 1, ringSlot(ev.ltime))).toBe(`userevent-slot/1/${9007199254740993n % 1024n}`);
    expect(lamportClockSubject('query')).toBe('query-clock');
    expect(legacyLamportSubject('user', ev.name, ev.ltime)).toBe('userevent/deploy/9007199254740993');
  });

  it('falls back to the LTime variable when the index is absent; queries use SERF_QUERY_*', () => {
    const ev = normalizeLamportEvent('query', { env: { SERF_QUERY_NAME: 'uptime', SERF_QUERY_LTIME: '7' }, index: null, payload: Buffer.alloc(0), reporter: 'b', at: AT });
    expect(ev).toMatchObject({ kind: 'query', name: 'uptime', ltime: '7' });
  });

  it.each<[string, Record<string, string> | undefined, string | null]>([
    ['no env', undefined, '3'],
    ['no event name', { SERF_USER_LTIME: '3' }, '3'],
    ['empty event name', { SERF_USER_EVENT: '', SERF_USER_LTIME: '3' }, '3'],
    ['no LTime', { SERF_USER_EVENT: 'x' }, null],
    ['non-numeric LTime', { SERF_USER_EVENT: 'x', SERF_USER_LTIME: 'abc' }, null],
  ])('rejects %s', (_name, env, index) => {
    expect(() => normalizeLamportEvent('user', { env, index, payload: Buffer.alloc(0), reporter: 'a', at: AT })).toThrow(/SERF_USER/);
  });
});

describe('names as long as Serf allows', () => {
  const named = (kind: 'user' | 'query', name: string) =>
    normalizeLamportEvent(kind, { env: kind === 'user' ? { SERF_USER_EVENT: name } : { SERF_QUERY_NAME: name }, index: '5', payload: Buffer.alloc(0), reporter: 'a', at: AT });

  it(`takes names up to ${LIMITS.maxSerfEventNameBytes} bytes, refuses longer ones with the limit`, () => {
    const max = 'é'.repeat(LIMITS.maxSerfEventNameBytes / 2);
    expect(named('query', 'q'.repeat(1000)).name).toHaveLength(1000);
    expect(named('user', max).name).toBe(max);
    expect(() => named('user', `${max}x`)).toThrow(`SERF_USER_EVENT is longer than ${LIMITS.maxSerfEventNameBytes} bytes, more than Serf can send`);
  });

  it('long names have no legacy record to look up (its sort key would pass 1 KB); short names keep theirs', () => {
    const short = 'n'.repeat(LEGACY_MAX_NAME_BYTES);
    expect(legacyLamportSubject('query', short, '7')).toBe(`query/${short}/7`);
    expect(legacyLamportSubject('user', 'n'.repeat(LEGACY_MAX_NAME_BYTES + 1), '7')).toBeUndefined();
  });

  it('the alert carries the whole name (details, event fact); the title an excerpt', () => {
    const name = 'n'.repeat(3000);
    const a = lamportAlert('prod', named('query', name));
    expect(a.details).toContainEqual(['Query', name]);
    expect(a.title.length).toBeLessThan(120);
  });
});

describe('decideLamportEvent: dedupe in the lineage ring slot', () => {
  const slot = (epoch: number, ltime: number, ...events: LamportEvent[]): LamportSlotState => ({
    epoch,
    ltime: String(ltime),
    events: events.map((e) => ({ name: e.name, digest: e.digest, firstAt: AT, firstReporter: e.reporter })),
  });

  it.each<[string, LamportSlotState | undefined, LamportEvent, number, string]>([
    ['first report of a new event', undefined, userEvent('deploy', 10, 'v1'), 0, 'new'],
    ['another agent reports the same event', slot(0, 10, userEvent('deploy', 10, 'v1')), userEvent('deploy', 10, 'v1', 'b'), 0, 'ignore:duplicate'],
    ['same LTime, different payload: a distinct event (Serf dedupes on name+payload)', slot(0, 10, userEvent('deploy', 10, 'v1')), userEvent('deploy', 10, 'v2'), 0, 'new'],
    ['same LTime and payload, other name: a distinct event', slot(0, 10, userEvent('deploy', 10, 'v1')), userEvent('rollback', 10, 'v1'), 0, 'new'],
    ['the slot holds an LTime one ring older: replaced', slot(0, 10, userEvent('deploy', 10, 'v1')), userEvent('deploy', 1034, 'v1'), 0, 'new'],
    ['the slot holds an LTime one ring newer: stale', slot(0, 1034, userEvent('deploy', 1034, 'v1')), userEvent('deploy', 10, 'v1'), 0, 'ignore:stale'],
    ['the same (LTime, name, payload) of another clock run: a new event', slot(0, 2, userEvent('deploy', 2, 'v1')), userEvent('deploy', 2, 'v1'), 1, 'new'],
    ['a newer LTime of another (evicted) run in the slot: replaced', slot(3, 1026, userEvent('deploy', 1026)), userEvent('deploy', 2, 'v1'), 5, 'new'],
    ['empty payload', undefined, userEvent('deploy', 11, ''), 0, 'new'],
    ['binary payload', undefined, userEvent('deploy', 12, Buffer.from([0xff, 0x00, 0xfe])), 0, 'new'],
    [
      'more distinct events at one LTime than kept',
      slot(0, 7, ...Array.from({ length: MAX_EVENTS_PER_LTIME }, (_, i) => userEvent('n', 7, `p${i}`))),
      userEvent('n', 7, 'one more'),
      0,
      'ignore:full',
    ],
  ])('%s', (_name, prev, ev, epoch, expected) => {
    const d = decideLamportEvent(prev, ev, epoch);
    expect(d.kind === 'ignore' ? `ignore:${d.reason}` : d.kind).toBe(expected);
    if (d.kind === 'new') expect(d.state).toMatchObject({ epoch, ltime: ev.ltime });
    if (d.kind === 'new') expect(d.state.events.at(-1)).toEqual({ name: ev.name, digest: ev.digest, firstAt: AT, firstReporter: ev.reporter });
  });

  it('a record from before the rings counts only for its own LTime and payload', () => {
    const ev = userEvent('deploy', 41, 'v1');
    const legacy = { name: 'deploy', ltime: '41', digests: [ev.digest], firstAt: AT, firstReporter: 'a' };
    expect(legacyDuplicate(legacy, ev)).toBe(true);
    expect(legacyDuplicate(legacy, userEvent('deploy', 41, 'v2'))).toBe(false);
    expect(legacyDuplicate(undefined, ev)).toBe(false);
  });
});

describe('describePayload and lamportAlert', () => {
  it.each<[string, Buffer, string]>([
    ['empty', Buffer.alloc(0), '(empty)'],
    ['text with the newline Serf appends', Buffer.from('v1.2.3\n'), 'v1.2.3'],
    ['multi-line text', Buffer.from('a\nb\n'), 'a\nb'],
    ['binary', Buffer.from([0xff, 0x00, 0x41]), '(binary, 3 bytes) base64:/wBB'],
    ['valid UTF-8 with control bytes', Buffer.from([0x41, 0x00, 0x42]), '(binary, 3 bytes) base64:QQBC'],
    ['just a newline', Buffer.from('\n'), '(blank)'],
  ])('%s', (_name, payload, expected) => {
    expect(describePayload(payload)).toBe(expected);
  });

  it('one id per (cluster, name, LTime, payload), whoever reports it', () => {
    const a = lamportAlert('prod', userEvent('deploy', 10, 'v1', 'a'));
    expect(a).toMatchObject({ source: 'serf', kind: 'user-event', severity: 'info', state: 'firing', node: '-', title: 'INFO: Serf user event "deploy" (LTime 10)' });
    expect(lamportAlert('prod', userEvent('deploy', 10, 'v1', 'b')).id).toBe(a.id);
    expect(lamportAlert('prod', userEvent('deploy', 10, 'v2')).id).not.toBe(a.id);
    expect(lamportAlert('prod', userEvent('deploy', 11, 'v1')).id).not.toBe(a.id);
    expect(Object.fromEntries(a.details)).toEqual({ Event: 'deploy', LTime: '10', Payload: 'v1', 'First reported by': 'a' });
    // The first clock run keeps its ids; a later run's event is another alert, and the one that revealed the restart says so.
    expect(lamportAlert('prod', userEvent('deploy', 10, 'v1'), { epoch: 0 }).id).toBe(a.id);
    const restarted = lamportAlert('prod', userEvent('deploy', 10, 'v1'), { epoch: 1, restartedAfter: '10000' });
    expect(restarted.id).not.toBe(a.id);
    expect(Object.fromEntries(restarted.details).Clock).toBe(
      "Serf's user event clock restarted: LTime 10 came after 10000 (every agent restarted without a snapshot)",
    );
  });
});
