import {
  addToWindow,
  decideEvent,
  EVENT_RETENTION_SECONDS,
  EVENT_WINDOW,
  eventIdHash,
  eventSubject,
  eventWindowSubject,
  normalizeEvents,
  windowIds,
  type EventObservation,
  type EventRecordState,
  type EventWindowState,
} from '../../lambdas/domain/consul/events';
import { InputError } from '../../lambdas/domain/input-errors';
import { BINARY_BYTES, eventBuffer, goJsonLine, userEvent } from '../support/consul-fixtures';

const AT = '2026-03-01T10:00:00.000Z';
const ctx = { cluster: 'prod', at: AT, node: 'agent-7', index: '18446744073709551615' };
const parse = (value: unknown) => normalizeEvents(JSON.parse(goJsonLine(value)));

describe('normalizeEvents', () => {
  it('treats [] and null as no events', () => {
    expect(parse([])).toEqual({ observations: [], rejected: [] });
    expect(parse(null)).toEqual({ observations: [], rejected: [] });
  });

  it('decodes a UTF-8 payload, including Go-escaped <, >, & and U+2028', () => {
    const text = '<deploy> & roll \u2028 ✓';
    const line = goJsonLine([{ ...userEvent(1), Name: 'a<b>&c' }]);
    expect(line).toContain('\\u003cb\\u003e\\u0026c');
    const [ev] = normalizeEvents(JSON.parse(goJsonLine([userEvent(1, { payload: text, Name: 'a<b>&c' })]))).observations;
    expect(ev).toMatchObject({ name: 'a<b>&c', payload: { kind: 'text', text } });
  });

  it('keeps binary payloads as binary and null payloads as none', () => {
    const { observations } = parse([userEvent(1, { payload: BINARY_BYTES }), userEvent(2, { payload: null })]);
    expect(observations.map((o) => o.payload.kind)).toEqual(['binary', 'none']);
  });

  it('keeps the filters, version and LTime', () => {
    const [ev] = parse([userEvent(9, { NodeFilter: 'web-.*', ServiceFilter: 'api', TagFilter: 'v2', Version: 1, LTime: 4242 })]).observations;
    expect(ev).toMatchObject({ nodeFilter: 'web-.*', serviceFilter: 'api', tagFilter: 'v2', version: 1, ltime: 4242 });
  });

  it('rejects a malformed entry and keeps the others', () => {
    const { observations, rejected } = parse([userEvent(1), { ...userEvent(2), ID: '' }, { ...userEvent(3), Payload: '%%' }, userEvent(4)]);
    expect(observations.map((o) => o.ltime)).toEqual([1, 4]);
    expect(rejected.map((r) => r.index)).toEqual([1, 2]);
    expect(rejected[0]?.reason).toContain('ID');
    expect(rejected[1]?.reason).toContain('Payload');
  });

  it('refuses a body that is not an array', () => {
    expect(() => normalizeEvents({ ID: 'x' })).toThrow(InputError);
  });

  it('reads a whole 256-event buffer', () => {
    expect(parse(eventBuffer(256)).observations).toHaveLength(256);
  });
});

describe('decideEvent', () => {
  const [ev] = parse([userEvent(7, { NodeFilter: 'web-.*', payload: 'v1.2.3' })]).observations;

  it('writes the first delivery once, with a TTL and an info alert', () => {
    const { decision } = decideEvent(undefined, ev!, ctx);
    if (decision.kind !== 'write') throw new Error('expected a write');
    expect(decision.ttlSeconds).toBe(EVENT_RETENTION_SECONDS);
    expect(EVENT_RETENTION_SECONDS).toBe(7 * 24 * 3600);
    expect(decision.state).toEqual({ name: 'deploy', ltime: 7, firstSeenAt: AT, reportedBy: 'agent-7' });
    expect(decision.alert).toMatchObject({ kind: 'event', severity: 'info', state: 'firing', cluster: 'prod', to: 'fired', title: 'INFO: event "deploy" fired in cluster prod' });
    const details = Object.fromEntries(decision.alert!.details);
    expect(details).toMatchObject({
      Event: 'deploy',
      ID: ev!.id,
      Payload: 'v1.2.3',
      'Payload encoding': 'UTF-8 text',
      NodeFilter: 'web-.*',
      ServiceFilter: '(none)',
      TagFilter: '(none)',
      LTime: '7',
      'Reported by': 'agent-7',
      // The watch index is a hash: kept verbatim, never rounded through a double.
      'Watch index': '18446744073709551615',
    });
  });

  it('the alert id depends on the event ID only (every agent computes the same)', () => {
    const a = decideEvent(undefined, ev!, ctx).decision;
    const b = decideEvent(undefined, ev!, { ...ctx, node: 'agent-9', at: '2026-03-02T00:00:00.000Z', index: '1' }).decision;
    expect(a.kind === 'write' && b.kind === 'write' && a.alert!.id === b.alert!.id).toBe(true);
  });

  it('ignores a replay once a record exists', () => {
    const stored: EventRecordState = { name: 'deploy', ltime: 7, firstSeenAt: AT, reportedBy: 'agent-1' };
    expect(decideEvent(stored, ev!, ctx).decision).toEqual({ kind: 'ignore', reason: 'duplicate' });
  });

  it('flags a binary payload in the alert', () => {
    const [bin] = parse([userEvent(8, { payload: BINARY_BYTES })]).observations;
    const { decision } = decideEvent(undefined, bin!, ctx);
    const details = decision.kind === 'write' ? Object.fromEntries(decision.alert!.details) : {};
    expect(details['Payload encoding']).toBe('binary');
    expect(details.Payload).toMatch(/^\(binary, 10 bytes\) hex: 1f 8b/);
  });

  it('uses event/<ID> subjects', () => {
    expect(eventSubject('abc')).toBe('event/abc');
  });
});

describe('event windows: the IDs remembered per (name, filters), without expiry', () => {
  const evs = (from: number, count: number, overrides = {}): EventObservation[] =>
    parse(Array.from({ length: count }, (_, i) => userEvent(from + i, overrides))).observations;
  const hashes = (list: EventObservation[]) => list.map((e) => eventIdHash(e.id));
  const LATER = '2026-03-09T10:00:00.000Z';

  it.each<[string, () => EventWindowState | undefined, () => EventObservation[], string[] | 'unchanged']>([
    ['a first event opens the window', () => undefined, () => evs(1, 1), hashes(evs(1, 1))],
    ['new IDs are appended, oldest first', () => addToWindow(undefined, evs(1, 2), AT), () => evs(3, 2), hashes(evs(1, 4))],
    ['IDs it holds change nothing', () => addToWindow(undefined, evs(1, 3), AT), () => evs(2, 2), 'unchanged'],
    ['an ID twice in one delivery is added once', () => undefined, () => [...evs(1, 1), ...evs(1, 1)], hashes(evs(1, 1))],
    [`past ${EVENT_WINDOW} IDs the oldest leave`, () => addToWindow(undefined, evs(1, EVENT_WINDOW), AT), () => evs(EVENT_WINDOW + 1, 3), hashes(evs(4, EVENT_WINDOW))],
  ])('%s', (_name, before, add, expected) => {
    const previous = before();
    const next = addToWindow(previous, add(), LATER);
    if (expected === 'unchanged') {
      expect(next).toBeUndefined();
      return;
    }
    expect([...windowIds(next)]).toEqual(expected);
    expect(next!.createdAt).toBe(previous?.createdAt ?? LATER);
    expect(next).toMatchObject({ name: 'deploy', nodeFilter: '', serviceFilter: '', tagFilter: '' });
  });

  it('one window per name and filters: events targeted elsewhere do not push these out', () => {
    const [plain] = evs(1, 1);
    const [targeted] = evs(2, 1, { NodeFilter: 'web-1' });
    const [other] = evs(3, 1, { Name: 'rollback' });
    const [sameKey] = evs(4, 1);
    expect(eventWindowSubject(plain!)).toMatch(/^event-window\/[0-9a-f]{16}$/);
    expect(eventWindowSubject(sameKey!)).toBe(eventWindowSubject(plain!));
    expect(new Set([plain, targeted, other].map((e) => eventWindowSubject(e!))).size).toBe(3);
  });

  it(`a full window stays small: ${EVENT_WINDOW} IDs as 48-bit hashes`, () => {
    const full = addToWindow(undefined, evs(1, EVENT_WINDOW + 100), AT)!;
    expect(windowIds(full).size).toBe(EVENT_WINDOW);
    expect(full.ids.length).toBe(EVENT_WINDOW * 8);
  });
});
