/**
 * Named time intervals (tocsin.yaml `timeIntervals`), Alertmanager's `time_intervals`:
 * a name holds a list of intervals and matches when any of them does; an interval matches
 * when every field it gives does (weekdays, times, daysOfMonth, months, years), read on the
 * wall clock of its `location` (an IANA time zone, default UTC). Rules use them as
 * `muteTimeIntervals` (muted while any matches) and `activeTimeIntervals` (muted while
 * none matches). Pure; time zones through Node's Intl (full ICU), no dependency.
 *
 * DST: intervals are wall-clock times, so on a spring-forward day the skipped hour matches
 * no instant, and on a fall-back day the repeated hour matches both of its instants.
 */

export interface TimeRange {
  /** Minutes after local midnight, start inclusive. */
  start: number;
  /** Minutes after local midnight, end exclusive (1440 = 24:00). */
  end: number;
}

/** Inclusive ranges; daysOfMonth may be negative (-1 = the month's last day). */
export interface TimeInterval {
  times?: TimeRange[];
  /** 0 = Sunday ... 6 = Saturday. */
  weekdays?: Array<[number, number]>;
  daysOfMonth?: Array<[number, number]>;
  /** 1 = January. */
  months?: Array<[number, number]>;
  years?: Array<[number, number]>;
  /** IANA time zone; absent: UTC. */
  location?: string;
}

export type TimeIntervals = Readonly<Record<string, readonly TimeInterval[]>>;

export const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;
export const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'] as const;

export class TimeIntervalError extends Error {}

// ---- parsing (config.ts reports the messages with their path) ----

/** `HH:MM`, 00:00 to 24:00. */
export function parseClock(text: unknown): number {
  const m = typeof text === 'string' ? /^([01]\d|2[0-4]):([0-5]\d)$/.exec(text) : null;
  if (!m) throw new TimeIntervalError(`${JSON.stringify(text)} is not a time of day (HH:MM, 00:00 to 24:00)`);
  const minutes = Number(m[1]) * 60 + Number(m[2]);
  if (minutes > 1440) throw new TimeIntervalError(`${JSON.stringify(text)} is after 24:00`);
  return minutes;
}

export function parseTimeRange(raw: { start?: unknown; end?: unknown }): TimeRange {
  const start = parseClock(raw.start);
  const end = parseClock(raw.end);
  if (start === 1440) throw new TimeIntervalError('start 24:00 is the end of the day; use 00:00');
  if (end <= start) {
    throw new TimeIntervalError(
      `start ${String(raw.start)} must be before end ${String(raw.end)}; a range crossing midnight is two ranges, e.g. { start: "${String(raw.start)}", end: "24:00" } and { start: "00:00", end: "${String(raw.end)}" }`,
    );
  }
  return { start, end };
}

/** `monday`, `monday:friday` (Alertmanager's syntax), names in any case. */
function rangeOf(item: unknown, one: (text: string) => number, what: string): [number, number] {
  if (typeof item === 'number') {
    const v = one(String(item));
    return [v, v];
  }
  if (typeof item !== 'string' || item.trim() === '') throw new TimeIntervalError(`${JSON.stringify(item)} is not a ${what} or a range of them ("a:b")`);
  const parts = item.split(':');
  if (parts.length > 2) throw new TimeIntervalError(`${JSON.stringify(item)}: a range is "first:last"`);
  const first = one(parts[0]!.trim());
  const last = parts.length === 2 ? one(parts[1]!.trim()) : first;
  return [first, last];
}

function named(names: readonly string[], offset: number, what: string, numeric?: [number, number]) {
  return (text: string): number => {
    const i = names.indexOf(text.toLowerCase());
    if (i >= 0) return i + offset;
    if (numeric && /^\d+$/.test(text) && Number(text) >= numeric[0] && Number(text) <= numeric[1]) return Number(text);
    throw new TimeIntervalError(`"${text}" is not a ${what} (${names.join(', ')}${numeric ? `, or ${numeric[0]}-${numeric[1]}` : ''})`);
  };
}

export function parseWeekdays(item: unknown): [number, number] {
  const r = rangeOf(item, named(WEEKDAYS, 0, 'weekday'), 'weekday');
  if (r[0] > r[1]) throw new TimeIntervalError(`${JSON.stringify(item)}: the first day comes after the last (weeks run sunday to saturday; give two ranges)`);
  return r;
}

export function parseMonths(item: unknown): [number, number] {
  const r = rangeOf(item, named(MONTHS, 1, 'month', [1, 12]), 'month');
  if (r[0] > r[1]) throw new TimeIntervalError(`${JSON.stringify(item)}: the first month comes after the last (give two ranges)`);
  return r;
}

export function parseDaysOfMonth(item: unknown): [number, number] {
  const day = (text: string): number => {
    if (!/^-?\d+$/.test(text) || Number(text) === 0 || Math.abs(Number(text)) > 31) throw new TimeIntervalError(`"${text}" is not a day of the month (1 to 31, or -1 to -31 counting from the month's end)`);
    return Number(text);
  };
  const r = rangeOf(item, day, 'day of the month');
  // Same sign: the order must hold; mixed (e.g. 1:-1, "the whole month") is decided per month.
  if (Math.sign(r[0]) === Math.sign(r[1]) && r[0] > r[1]) throw new TimeIntervalError(`${JSON.stringify(item)}: the first day comes after the last`);
  if (r[0] < 0 && r[1] > 0) throw new TimeIntervalError(`${JSON.stringify(item)}: a range from a day counted from the end to one counted from the start is empty or ambiguous`);
  return r;
}

export function parseYears(item: unknown): [number, number] {
  const year = (text: string): number => {
    if (!/^\d{4}$/.test(text)) throw new TimeIntervalError(`"${text}" is not a year (four digits)`);
    return Number(text);
  };
  const r = rangeOf(item, year, 'year');
  if (r[0] > r[1]) throw new TimeIntervalError(`${JSON.stringify(item)}: the first year comes after the last`);
  return r;
}

export function checkLocation(zone: unknown): string {
  if (typeof zone !== 'string' || zone === '') throw new TimeIntervalError('location must be an IANA time zone such as Europe/Berlin');
  if (zone.toLowerCase() === 'local') throw new TimeIntervalError('"Local" is the machine\'s zone, which differs between a Lambda (UTC) and npm start; name the zone, e.g. Europe/Berlin');
  try {
    formatter(zone);
  } catch {
    throw new TimeIntervalError(`"${zone}" is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)`);
  }
  return zone;
}

// ---- wall clock ----

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's UTC offset at `t`, in ms (local = UTC + offset). */
export function utcOffsetMs(zone: string, t: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const local = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
  return local - (t - (((t % 1000) + 1000) % 1000));
}

export interface WallClock {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  /** 0 = Sunday. */
  weekday: number;
  /** Minutes after local midnight. */
  minute: number;
  daysInMonth: number;
}

function wallClockAt(t: number, offsetMs: number): WallClock {
  const d = new Date(t + offsetMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  return {
    year,
    month,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    minute: d.getUTCHours() * 60 + d.getUTCMinutes(),
    daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
  };
}

export function wallClock(zone: string, t: number): WallClock {
  return wallClockAt(t, utcOffsetMs(zone, t));
}

const inRanges = (ranges: ReadonlyArray<readonly [number, number]>, v: number) => ranges.some(([a, b]) => a <= v && v <= b);

/** Does the interval hold at this wall-clock time (already in its location)? */
export function intervalHolds(interval: TimeInterval, w: WallClock): boolean {
  if (interval.years && !inRanges(interval.years, w.year)) return false;
  if (interval.months && !inRanges(interval.months, w.month)) return false;
  if (interval.weekdays && !inRanges(interval.weekdays, w.weekday)) return false;
  if (interval.daysOfMonth) {
    const abs = (d: number) => (d < 0 ? w.daysInMonth + d + 1 : d);
    if (!interval.daysOfMonth.some(([a, b]) => abs(a) <= w.day && w.day <= Math.min(abs(b), w.daysInMonth))) return false;
  }
  if (interval.times && !interval.times.some((r) => r.start <= w.minute && w.minute < r.end)) return false;
  return true;
}

/**
 * Offsets read once per zone and quarter hour (every zone's transitions fall on a quarter
 * hour), so a search minute by minute costs arithmetic, not an Intl call per step.
 */
class OffsetCache {
  private readonly cache = new Map<string, number>();
  offset(zone: string, t: number): number {
    const key = `${zone}|${Math.floor(t / 900_000)}`;
    let v = this.cache.get(key);
    if (v === undefined) {
      v = utcOffsetMs(zone, Math.floor(t / 900_000) * 900_000);
      this.cache.set(key, v);
    }
    return v;
  }
}

function namedHolds(intervals: readonly TimeInterval[], t: number, offsets: OffsetCache): boolean {
  return intervals.some((i) => {
    const zone = i.location ?? 'UTC';
    return intervalHolds(i, wallClockAt(t, offsets.offset(zone, t)));
  });
}

/** What a route says about time: muted while any mute interval holds, or while no active interval does. */
export interface RouteTimes {
  mute?: readonly string[];
  active?: readonly string[];
}

export interface MuteVerdict {
  /** The interval that mutes: a mute interval that holds, or "outside <active names>". */
  reason: string;
  /** Epoch ms of the first minute the route is no longer muted, within the search horizon; absent: not within it. */
  until?: number;
}

/** Past this, a mute end is not searched further (an interval muting for over a year). */
export const MUTE_SEARCH_DAYS = 400;

function mutedAt(times: RouteTimes, intervals: TimeIntervals, t: number, offsets: OffsetCache): string | undefined {
  for (const name of times.mute ?? []) if (namedHolds(intervals[name] ?? [], t, offsets)) return name;
  const active = times.active ?? [];
  if (active.length > 0 && !active.some((name) => namedHolds(intervals[name] ?? [], t, offsets))) return `outside ${active.join(', ')}`;
  return undefined;
}

/** Is a route with these intervals muted at `t`, and until when? Undefined: not muted. */
export function muteAt(times: RouteTimes | undefined, intervals: TimeIntervals, t: number): MuteVerdict | undefined {
  if (!times || ((times.mute?.length ?? 0) === 0 && (times.active?.length ?? 0) === 0)) return undefined;
  const offsets = new OffsetCache();
  const reason = mutedAt(times, intervals, t, offsets);
  if (reason === undefined) return undefined;
  // The verdict can change only where some interval's field can: a `times` start or end, or
  // a local midnight (day, weekday, month, year), in each interval's zone, or where a zone's
  // offset changes (on a UTC quarter hour). Jump from one such instant to the next.
  const used = [...(times.mute ?? []), ...(times.active ?? [])].flatMap((name) => intervals[name] ?? []);
  const horizon = t + MUTE_SEARCH_DAYS * 86_400_000;
  let m = Math.floor(t / 60_000) * 60_000 + 60_000;
  while (m <= horizon) {
    if (mutedAt(times, intervals, m, offsets) === undefined) return { reason, until: m };
    m += nextChangeMinutes(used, m, offsets) * 60_000;
  }
  return { reason };
}

/** Minutes from `t` (a whole minute) to the next instant any of `intervals` could change its verdict. */
function nextChangeMinutes(intervals: readonly TimeInterval[], t: number, offsets: OffsetCache): number {
  let step = 1440;
  for (const i of intervals) {
    const minute = wallClockAt(t, offsets.offset(i.location ?? 'UTC', t)).minute;
    step = Math.min(step, 1440 - minute);
    for (const r of i.times ?? []) {
      if (r.start > minute) step = Math.min(step, r.start - minute);
      if (r.end > minute) step = Math.min(step, r.end - minute);
    }
  }
  // Across an offset change (DST) local time jumps: go to the next UTC quarter hour instead,
  // where the new offset applies, and look again from there.
  const zones = new Set(intervals.map((i) => i.location ?? 'UTC'));
  for (const zone of zones) {
    if (offsets.offset(zone, t + step * 60_000) !== offsets.offset(zone, t)) step = Math.min(step, 15 - (Math.floor(t / 60_000) % 15));
  }
  return Math.max(1, step);
}
