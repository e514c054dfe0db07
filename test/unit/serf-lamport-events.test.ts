import {
  LAMPORT_WINDOW,
  advanceWatermark,
  decideLamportEvent,
  describePayload,
  lamportAlert,
  lamportSubject,
  lamportWatermarkSubject,
  normalizeLamportEvent,
  type LamportEvent,
  type LamportEventState,
  type LamportWatermarkState,
  MAX_NAME_BYTES_IN_SUBJECT,
} from '../../lambdas/domain/serf/lamport-events';
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
    expect(lamportSubject('user', ev.name, ev.ltime)).toBe('userevent/deploy/9007199254740993');
    expect(lamportWatermarkSubject('query', 'ping')).toBe('query-max/ping');
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

  it('keys a long name by its digest (sort keys stay under 1,024 bytes); short names as before; no collisions', () => {
    const short = 'n'.repeat(MAX_NAME_BYTES_IN_SUBJECT);
    expect(lamportSubject('query', short, '7')).toBe(`query/${short}/7`);
    const long = 'n'.repeat(MAX_NAME_BYTES_IN_SUBJECT + 1);
    const longer = 'é'.repeat(LIMITS.maxSerfEventNameBytes / 2);
    for (const kind of ['user', 'query'] as const) {
      const subjects = [lamportSubject(kind, long, '99999999999999999999999999999999999999'), lamportWatermarkSubject(kind, long), lamportSubject(kind, longer, '1'), lamportWatermarkSubject(kind, longer)];
      for (const s of subjects) expect(Buffer.byteLength(`s#${s}`)).toBeLessThan(200);
      expect(lamportSubject(kind, long, '1')).not.toBe(lamportSubject(kind, longer, '1'));
      // A short name that looks like a digest stays apart from the long name it digests.
      const digest = lamportWatermarkSubject(kind, long).split('/')[1]!;
      expect(lamportSubject(kind, digest, '1')).not.toBe(lamportSubject(kind, long, '1'));
    }
    expect(lamportSubject('user', long, '1')).toMatch(/^userevent-sha256\/[0-9a-f]{64}\/1$/);
  });

  it('the alert carries the whole name (details, event fact); the title an excerpt', () => {
    const name = 'n'.repeat(3000);
    const a = lamportAlert('prod', named('query', name));
    expect(a.details).toContainEqual(['Query', name]);
    expect(a.title.length).toBeLessThan(120);
  });
});

describe('decideLamportEvent', () => {
  const stored = (ev: LamportEvent): LamportEventState => ({ name: ev.name, ltime: ev.ltime, digests: [ev.digest], firstAt: AT, firstReporter: 'a' });
  const mark = (max: bigint | number): LamportWatermarkState => ({ name: 'deploy', max: String(max) });

  it.each<[string, LamportEventState | undefined, LamportEvent, LamportWatermarkState | undefined, string]>([
    ['first report of a new event', undefined, userEvent('deploy', 10, 'v1'), undefined, 'new'],
    ['another agent reports the same event', stored(userEvent('deploy', 10, 'v1')), userEvent('deploy', 10, 'v1', 'b'), mark(10), 'ignore:duplicate'],
    ['same LTime, different payload: a distinct event (Serf dedupes on name+payload)', stored(userEvent('deploy', 10, 'v1')), userEvent('deploy', 10, 'v2'), mark(10), 'new'],
    ['an older LTime never seen (coalesced away elsewhere) is still an event', undefined, userEvent('deploy', 9), mark(10), 'new'],
    ['older by less than the window', undefined, userEvent('deploy', 1000n - LAMPORT_WINDOW + 1n), mark(1000), 'new'],
    ['older by the window or more: stale (Serf drops these too)', undefined, userEvent('deploy', 1000n - LAMPORT_WINDOW), mark(1000), 'ignore:stale'],
    ['empty payload', undefined, userEvent('deploy', 11, ''), mark(10), 'new'],
    ['binary payload', undefined, userEvent('deploy', 12, Buffer.from([0xff, 0x00, 0xfe])), mark(10), 'new'],
  ])('%s', (_name, prev, ev, watermark, expected) => {
    const d = decideLamportEvent(prev, ev, watermark);
    expect(d.kind === 'ignore' ? `ignore:${d.reason}` : d.kind).toBe(expected);
  });

  it('the watermark only moves forward', () => {
    expect(advanceWatermark(undefined, { name: 'd', ltime: '5' })).toEqual({ name: 'd', max: '5' });
    expect(advanceWatermark({ name: 'd', max: '5' }, { name: 'd', ltime: '9' })).toEqual({ name: 'd', max: '9' });
    expect(advanceWatermark({ name: 'd', max: '9' }, { name: 'd', ltime: '5' })).toBeUndefined();
    expect(advanceWatermark({ name: 'd', max: '9' }, { name: 'd', ltime: '9' })).toBeUndefined();
    expect(advanceWatermark({ name: 'd', max: '9007199254740993' }, { name: 'd', ltime: '9007199254740992' })).toBeUndefined();
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
  });
});
