/**
 * Named time intervals (Alertmanager's time_intervals), table-driven: each field a small pure
 * predicate on the wall clock of the interval's location; DST days in Europe/Berlin and
 * America/New_York (the spring-forward hour matches no instant, the fall-back hour matches
 * both of its instants); a night across midnight as two ranges; where a mute ends.
 */
import {
  intervalHolds,
  muteAt,
  parseClock,
  parseDaysOfMonth,
  parseMonths,
  parseTimeRange,
  parseWeekdays,
  parseYears,
  checkLocation,
  wallClock,
  type TimeInterval,
  type TimeIntervals,
} from '../../lambdas/domain/rules/time-intervals';

const utc = (iso: string) => Date.parse(iso);
const holds = (interval: TimeInterval, iso: string) => intervalHolds(interval, wallClock(interval.location ?? 'UTC', utc(iso)));
/** Minutes of one UTC day at which the interval holds. */
const minutesHeld = (interval: TimeInterval, day: string) => {
  let n = 0;
  for (let t = utc(`${day}T00:00:00Z`); t < utc(`${day}T00:00:00Z`) + 86_400_000; t += 60_000) if (intervalHolds(interval, wallClock(interval.location ?? 'UTC', t))) n++;
  return n;
};

describe('parsing (Alertmanager syntax)', () => {
  test.each([
    ['weekday', () => parseWeekdays('monday'), [1, 1]],
    ['weekday range, any case', () => parseWeekdays('Monday:FRIDAY'), [1, 5]],
    ['month name', () => parseMonths('march:may'), [3, 5]],
    ['month number', () => parseMonths(12), [12, 12]],
    ['day of month', () => parseDaysOfMonth('1:7'), [1, 7]],
    ['negative days', () => parseDaysOfMonth('-3:-1'), [-3, -1]],
    ['from a day to the last', () => parseDaysOfMonth('25:-1'), [25, -1]],
    ['year range', () => parseYears('2026:2027'), [2026, 2027]],
    ['times', () => parseTimeRange({ start: '09:00', end: '17:30' }), { start: 540, end: 1050 }],
    ['end of day', () => parseTimeRange({ start: '22:00', end: '24:00' }), { start: 1320, end: 1440 }],
    ['a zone', () => checkLocation('America/New_York'), 'America/New_York'],
  ])('%s', (_n, parse, expected) => expect(parse()).toEqual(expected));

  test.each([
    ['a range crossing midnight', () => parseTimeRange({ start: '22:00', end: '06:00' }), /crossing midnight is two ranges.*"22:00", end: "24:00".*"00:00", end: "06:00"/],
    ['start equal to end', () => parseTimeRange({ start: '09:00', end: '09:00' }), /must be before end/],
    ['not a time', () => parseClock('9am'), /not a time of day/],
    ['after 24:00', () => parseClock('24:30'), /after 24:00/],
    ['unknown weekday', () => parseWeekdays('mon'), /"mon" is not a weekday/],
    ['reversed weekdays', () => parseWeekdays('saturday:sunday'), /first day comes after the last/],
    ['day 0', () => parseDaysOfMonth(0), /not a day of the month/],
    ['day 32', () => parseDaysOfMonth('32'), /not a day of the month/],
    ['from the end to the start', () => parseDaysOfMonth('-1:5'), /empty or ambiguous/],
    ['month 13', () => parseMonths(13), /not a month/],
    ['two-digit year', () => parseYears('26'), /not a year/],
    ['unknown zone', () => checkLocation('Europe/Atlantis'), /not an IANA time zone/],
    ['Local', () => checkLocation('Local'), /name the zone/],
  ])('refused: %s', (_n, parse, message) => expect(parse).toThrow(message));
});

const WORKING_HOURS: TimeInterval = { weekdays: [[1, 5]], times: [{ start: 540, end: 1020 }], location: 'Europe/Berlin' };

describe('matching on the wall clock of the location', () => {
  test.each([
    // Europe/Berlin is UTC+1 until 2026-03-29 01:00 UTC, UTC+2 after.
    ['Berlin 09:00 CET (Fri before DST)', WORKING_HOURS, '2026-03-27T08:00:00Z', true],
    ['Berlin 08:30 CET', WORKING_HOURS, '2026-03-27T07:30:00Z', false],
    ['Berlin 09:00 CEST (Mon after DST)', WORKING_HOURS, '2026-03-30T07:00:00Z', true],
    ['Berlin 08:59 CEST', WORKING_HOURS, '2026-03-30T06:59:00Z', false],
    ['Berlin 16:59 CEST', WORKING_HOURS, '2026-03-30T14:59:00Z', true],
    ['Berlin 17:00 CEST: end is exclusive', WORKING_HOURS, '2026-03-30T15:00:00Z', false],
    ['Friday 23:30 UTC is Saturday in Berlin', { weekdays: [[6, 6]], location: 'Europe/Berlin' }, '2026-12-04T23:30:00Z', true],
    ['... and not Friday', { weekdays: [[5, 5]], location: 'Europe/Berlin' }, '2026-12-04T23:30:00Z', false],
    ['without a location: UTC', { weekdays: [[5, 5]] }, '2026-12-04T23:30:00Z', true],
    ['last day of February 2026', { daysOfMonth: [[-1, -1]] }, '2026-02-28T12:00:00Z', true],
    ['Feb 28 2024 is not the last (leap year)', { daysOfMonth: [[-1, -1]] }, '2024-02-28T12:00:00Z', false],
    ['Feb 29 2024 is', { daysOfMonth: [[-1, -1]] }, '2024-02-29T12:00:00Z', true],
    ['25th to the last day', { daysOfMonth: [[25, -1]] }, '2026-04-30T12:00:00Z', true],
    ['day 31 in a 30-day month never', { daysOfMonth: [[31, 31]] }, '2026-04-30T12:00:00Z', false],
    ['month range', { months: [[11, 12]] }, '2026-12-02T00:00:00Z', true],
    ['month outside', { months: [[1, 3]] }, '2026-12-02T00:00:00Z', false],
    ['year', { years: [[2026, 2026]] }, '2026-12-31T23:59:00Z', true],
    ['the year of the location', { years: [[2027, 2027]], location: 'Europe/Berlin' }, '2026-12-31T23:30:00Z', true],
  ] as Array<[string, TimeInterval, string, boolean]>)('%s', (_n, interval, iso, expected) => expect(holds(interval, iso)).toBe(expected));

  test.each([
    // Spring forward: 02:00-03:00 local does not exist; fall back: it happens twice.
    ['Berlin spring forward: 02:00-03:00 never', { times: [{ start: 120, end: 180 }], location: 'Europe/Berlin' }, '2026-03-29', 0],
    ['Berlin spring forward day: 00:00-24:00 holds at every instant', { times: [{ start: 0, end: 1440 }], location: 'Europe/Berlin' }, '2026-03-29', 1440],
    ['Berlin the day after: one hour', { times: [{ start: 120, end: 180 }], location: 'Europe/Berlin' }, '2026-03-30', 60],
    ['Berlin fall back: 02:00-03:00 twice', { times: [{ start: 120, end: 180 }], location: 'Europe/Berlin' }, '2026-10-25', 120],
    ['New York spring forward: 02:00-03:00 never', { times: [{ start: 120, end: 180 }], location: 'America/New_York' }, '2026-03-08', 0],
    ['New York fall back: 01:00-02:00 twice', { times: [{ start: 60, end: 120 }], location: 'America/New_York' }, '2026-11-01', 120],
    ['New York fall back: 02:00-03:00 once', { times: [{ start: 120, end: 180 }], location: 'America/New_York' }, '2026-11-01', 60],
  ] as Array<[string, TimeInterval, string, number]>)('%s', (_n, interval, day, minutes) => expect(minutesHeld(interval, day)).toBe(minutes));

  const NIGHT: TimeInterval = { times: [{ start: 1320, end: 1440 }, { start: 0, end: 360 }], location: 'Europe/Berlin' };
  test.each([
    ['21:59', '2026-12-02T20:59:00Z', false],
    ['22:00', '2026-12-02T21:00:00Z', true],
    ['23:59', '2026-12-02T22:59:00Z', true],
    ['00:00', '2026-12-02T23:00:00Z', true],
    ['05:59', '2026-12-03T04:59:00Z', true],
    ['06:00', '2026-12-03T05:00:00Z', false],
  ])('a night across midnight as two ranges, Berlin %s', (_n, iso, expected) => expect(holds(NIGHT, iso)).toBe(expected));
});

describe('muteAt: muted now, and until when', () => {
  const intervals: TimeIntervals = {
    workingHours: [WORKING_HOURS],
    nyNights: [{ times: [{ start: 1320, end: 1440 }, { start: 0, end: 360 }], location: 'America/New_York' }],
    christmas: [{ months: [[12, 12]], daysOfMonth: [[24, 26]], location: 'Europe/Berlin' }],
    berlinEarly: [{ times: [{ start: 60, end: 150 }], location: 'Europe/Berlin' }],
    berlinTwoish: [{ times: [{ start: 120, end: 150 }], location: 'Europe/Berlin' }],
    nyOneish: [{ times: [{ start: 60, end: 90 }], location: 'America/New_York' }],
  };
  test.each([
    ['inside working hours: not muted', { active: ['workingHours'] }, '2026-12-02T10:00:00Z', undefined],
    ['Friday evening: until Monday 09:00 Berlin', { active: ['workingHours'] }, '2026-12-04T16:30:00Z', { reason: 'outside workingHours', until: '2026-12-07T08:00:00.000Z' }],
    ['Saturday before spring forward: until Monday 09:00 CEST', { active: ['workingHours'] }, '2026-03-28T12:00:00Z', { reason: 'outside workingHours', until: '2026-03-30T07:00:00.000Z' }],
    ['New York fall-back night: until 06:00 EST', { mute: ['nyNights'] }, '2026-11-01T05:30:00Z', { reason: 'nyNights', until: '2026-11-01T11:00:00.000Z' }],
    ['Berlin spring forward: 01:00-02:30 ends at 03:00 CEST (02:00-02:30 never comes)', { mute: ['berlinEarly'] }, '2026-03-29T00:30:00Z', { reason: 'berlinEarly', until: '2026-03-29T01:00:00.000Z' }],
    ['Berlin fall back: 02:00-02:30 CEST ends at 02:30 CEST', { mute: ['berlinTwoish'] }, '2026-10-25T00:10:00Z', { reason: 'berlinTwoish', until: '2026-10-25T00:30:00.000Z' }],
    ['... and holds again at 02:00 CET', { mute: ['berlinTwoish'] }, '2026-10-25T01:10:00Z', { reason: 'berlinTwoish', until: '2026-10-25T01:30:00.000Z' }],
    ['New York fall back: 01:00-01:30 EDT ends at 01:30 EDT', { mute: ['nyOneish'] }, '2026-11-01T05:10:00Z', { reason: 'nyOneish', until: '2026-11-01T05:30:00.000Z' }],
    ['mute and active: the mute wins', { mute: ['christmas'], active: ['workingHours'] }, '2026-12-24T10:00:00Z', { reason: 'christmas', until: '2026-12-28T08:00:00.000Z' }],
  ] as Array<[string, { mute?: string[]; active?: string[] }, string, { reason: string; until: string } | undefined]>)('%s', (_n, times, iso, expected) => {
    const verdict = muteAt(times, intervals, utc(iso));
    expect(verdict && { reason: verdict.reason, until: verdict.until && new Date(verdict.until).toISOString() }).toEqual(expected);
  });
});
