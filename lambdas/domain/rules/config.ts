/**
 * From the tocsin.yaml document (already shape-checked against the JSON Schema) to
 * the RuntimeConfig, with the checks a schema cannot express: rule names unique,
 * channels referenced by rules exist, matchers compile, durations in range. Pure:
 * the CDK app, `npm start` and the Lambdas (at init) all run it.
 */
import { HEARTBEAT_DEFAULTS, MISSING_AFTER_MIN_FACTOR, type HeartbeatSettings, type HeartbeatsSpec } from '../heartbeats';
import type { Severity } from '../types';
import { formatDuration, parseDuration } from './duration';
import { compileMatcher, compileNumericMatcher, MatcherError } from './matchers';
import type { ChannelSpec, FlapSpec, InhibitSpec, MatchSpec, RuleSpec, RuntimeConfig, TemplateSpec } from './types';
import { FLAP_DEFAULTS, FLAP_MAX_CHANGES, FLAP_MIN_CHANGES } from './flapping';
import { equalFieldIssue } from './inhibit';
import { checkLocation, parseDaysOfMonth, parseMonths, parseTimeRange, parseWeekdays, parseYears, TimeIntervalError, type TimeInterval } from './time-intervals';
import { MATCH_FIELDS, META_FIELDS, NUMERIC_FIELDS, type NumericMatcher } from './types';
import { vocabularyIssues } from './vocabulary';

export type ConfigPath = Array<string | number>;

export interface ConfigIssue {
  path: ConfigPath;
  reason: string;
}

/** Longest `for`/`repeat`: 30 days. */
export const MAX_DURATION_SECONDS = 30 * 86400;
export const GROUPING_DEFAULTS = { windowSeconds: 60, threshold: 20 } as const;
/** Longest `checks.firstRunGrace`: a check that never runs must be heard of the same day. */
export const MAX_FIRST_RUN_GRACE_SECONDS = 86400;

/** `rules[2].match.node` */
export function formatPath(path: ConfigPath): string {
  if (path.length === 0) return '(top level)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `${i ? '.' : ''}${p}` : `[${JSON.stringify(p)}]`)).join('');
}

type Doc = Record<string, unknown>;

function duration(value: unknown, path: ConfigPath, issues: ConfigIssue[], min: number, max = MAX_DURATION_SECONDS): number | undefined {
  if (value === undefined) return undefined;
  const seconds = parseDuration(value);
  if (seconds === undefined) {
    issues.push({ path, reason: `${JSON.stringify(value)} is not a duration (seconds, or e.g. 90s, 5m, 1h30m)` });
    return undefined;
  }
  if (seconds < min || seconds > max) {
    issues.push({ path, reason: `must be between ${min}s and ${max === MAX_DURATION_SECONDS ? `${max / 86400} days` : formatDuration(max)}` });
    return undefined;
  }
  return seconds;
}

/**
 * A rule's match: known fields, matchers that compile, and values tocsin can produce on the
 * closed-set fields (source, kind, severity, status, from, to; cluster: the configured
 * ones), alone and together (rules/vocabulary.ts): a rule that can match nothing is an error.
 */
function checkMatch(match: MatchSpec | undefined, path: ConfigPath, issues: ConfigIssue[], clusters: readonly string[]): void {
  if (!match) return;
  const known = new Set<string>([...MATCH_FIELDS, ...META_FIELDS, ...NUMERIC_FIELDS]);
  for (const [field, spec] of Object.entries(match)) {
    if (!known.has(field)) {
      issues.push({ path: [...path, field], reason: `unknown field; use one of ${[...known].join(', ')}` });
      continue;
    }
    if ((NUMERIC_FIELDS as readonly string[]).includes(field)) {
      try {
        compileNumericMatcher(spec as NumericMatcher);
      } catch (err) {
        if (!(err instanceof MatcherError)) throw err;
        issues.push({ path: [...path, field], reason: err.message });
      }
      continue;
    }
    const specs: Array<[ConfigPath, unknown]> = (META_FIELDS as readonly string[]).includes(field)
      ? Object.entries((spec ?? {}) as Record<string, unknown>).map(([k, v]) => [[...path, field, k], v])
      : [[[...path, field], spec]];
    for (const [where, s] of specs) {
      try {
        compileMatcher(s as never);
      } catch (err) {
        if (!(err instanceof MatcherError)) throw err;
        issues.push({ path: where, reason: err.message });
      }
    }
  }
  for (const issue of vocabularyIssues(match, { clusters })) issues.push({ path: [...path, ...issue.path], reason: issue.reason });
}

function channelRefs(list: unknown, path: ConfigPath, channels: Record<string, ChannelSpec>, issues: ConfigIssue[]): void {
  if (!Array.isArray(list)) return;
  list.forEach((name, i) => {
    if (typeof name === 'string' && !Object.prototype.hasOwnProperty.call(channels, name)) {
      const known = Object.keys(channels);
      issues.push({ path: [...path, i], reason: `channel "${name}" is not defined under channels${known.length ? ` (defined: ${known.join(', ')})` : ''}` });
    }
  });
}

/** Longest heartbeat period: a node that reports less often than daily is not being watched. */
export const MAX_HEARTBEAT_EVERY_SECONDS = 86400;

/**
 * `heartbeats: { every, missingAfter, clusters: { <name>: { every?, missingAfter? } } }`:
 * the top level applies to every cluster, a cluster's entry overrides it key by key.
 * missingAfter must be at least twice every (one lost heartbeat does not alert).
 */
function heartbeats(raw: Doc | undefined, clusters: string[], issues: ConfigIssue[]): HeartbeatsSpec {
  const read = (doc: Doc | undefined, path: ConfigPath, inherited: HeartbeatSettings): HeartbeatSettings | undefined => {
    const every = doc?.every === undefined ? inherited.every : duration(doc.every, [...path, 'every'], issues, 1);
    const missingAfter = doc?.missingAfter === undefined ? inherited.missingAfter : duration(doc.missingAfter, [...path, 'missingAfter'], issues, 1);
    if (every === undefined || missingAfter === undefined) return undefined;
    if (every > MAX_HEARTBEAT_EVERY_SECONDS) {
      issues.push({ path: [...path, 'every'], reason: `must be at most ${formatDuration(MAX_HEARTBEAT_EVERY_SECONDS)}` });
      return undefined;
    }
    if (missingAfter < MISSING_AFTER_MIN_FACTOR * every) {
      const at = doc?.missingAfter !== undefined ? 'missingAfter' : doc?.every !== undefined ? 'every' : 'missingAfter';
      issues.push({
        path: [...path, at],
        reason: `missingAfter (${formatDuration(missingAfter)}${doc?.missingAfter === undefined ? ', inherited' : ''}) must be at least ${MISSING_AFTER_MIN_FACTOR} x every (${formatDuration(every)}${doc?.every === undefined ? ', inherited' : ''}): one late heartbeat must not raise an alert`,
      });
      return undefined;
    }
    return { every, missingAfter };
  };
  const top = read(raw, ['heartbeats'], HEARTBEAT_DEFAULTS) ?? { ...HEARTBEAT_DEFAULTS };
  const spec: HeartbeatsSpec = { ...top };
  const perCluster = (raw?.clusters as Record<string, Doc> | undefined) ?? {};
  const own: Record<string, HeartbeatSettings> = {};
  for (const [name, doc] of Object.entries(perCluster)) {
    if (!clusters.includes(name)) {
      issues.push({ path: ['heartbeats', 'clusters', name], reason: `cluster "${name}" is not listed under clusters (${clusters.join(', ')})` });
      continue;
    }
    const settings = read(doc ?? {}, ['heartbeats', 'clusters', name], top);
    if (settings) own[name] = settings;
  }
  if (Object.keys(own).length > 0) spec.clusters = own;
  return spec;
}

/**
 * `timeIntervals: { <name>: [ { weekdays, times, daysOfMonth, months, years, location } ] }`
 * (Alertmanager's time_intervals, camelCase): each field a list of values or `first:last`
 * ranges; `times` a list of `{ start: HH:MM, end: HH:MM }`.
 */
function timeIntervals(raw: Doc | undefined, issues: ConfigIssue[]): Record<string, TimeInterval[]> {
  const out: Record<string, TimeInterval[]> = {};
  for (const [name, list] of Object.entries(raw ?? {})) {
    const intervals: TimeInterval[] = [];
    ((list as Doc[] | undefined) ?? []).forEach((item, i) => {
      const path: ConfigPath = ['timeIntervals', name, i];
      const interval: TimeInterval = {};
      const each = <T>(field: string, parse: (v: unknown) => T): T[] | undefined => {
        const values = item?.[field];
        if (values === undefined) return undefined;
        const parsed: T[] = [];
        (values as unknown[]).forEach((v, j) => {
          try {
            parsed.push(parse(v));
          } catch (err) {
            if (!(err instanceof TimeIntervalError)) throw err;
            issues.push({ path: [...path, field, j], reason: err.message });
          }
        });
        return parsed;
      };
      const times = each('times', (v) => parseTimeRange(v as { start?: unknown; end?: unknown }));
      if (times) interval.times = times;
      const weekdays = each('weekdays', parseWeekdays);
      if (weekdays) interval.weekdays = weekdays;
      const days = each('daysOfMonth', parseDaysOfMonth);
      if (days) interval.daysOfMonth = days;
      const months = each('months', parseMonths);
      if (months) interval.months = months;
      const years = each('years', parseYears);
      if (years) interval.years = years;
      if (item?.location !== undefined) {
        try {
          interval.location = checkLocation(item.location);
        } catch (err) {
          if (!(err instanceof TimeIntervalError)) throw err;
          issues.push({ path: [...path, 'location'], reason: err.message });
        }
      }
      intervals.push(interval);
    });
    out[name] = intervals;
  }
  return out;
}

/** `muteTimeIntervals` / `activeTimeIntervals` of a rule or of defaults: names under timeIntervals. */
function intervalRefs(raw: Doc, path: ConfigPath, intervals: Record<string, TimeInterval[]>, issues: ConfigIssue[]): Pick<RuleSpec, 'muteTimeIntervals' | 'activeTimeIntervals'> {
  const out: Pick<RuleSpec, 'muteTimeIntervals' | 'activeTimeIntervals'> = {};
  for (const field of ['muteTimeIntervals', 'activeTimeIntervals'] as const) {
    const list = raw[field];
    if (!Array.isArray(list)) continue;
    list.forEach((name, i) => {
      if (typeof name === 'string' && !Object.prototype.hasOwnProperty.call(intervals, name)) {
        const known = Object.keys(intervals);
        issues.push({ path: [...path, field, i], reason: `time interval "${name}" is not defined under timeIntervals${known.length ? ` (defined: ${known.join(', ')})` : ''}` });
      }
    });
    if (list.length > 0) out[field] = list as string[];
  }
  return out;
}

/** Longest flapping window and stable time. */
export const MAX_FLAP_SECONDS = 86400;

/**
 * `flapping: false | { changes, window, stable }` (top level or a rule): what is not given
 * comes from `inherited` (a rule: the top level; the top level: FLAP_DEFAULTS), except that
 * `stable` defaults to the window when the window is given.
 */
function flapping(raw: unknown, path: ConfigPath, issues: ConfigIssue[], inherited: FlapSpec): FlapSpec | false | undefined {
  if (raw === undefined) return undefined;
  if (raw === false) return false;
  if (raw === true) return inherited;
  if (typeof raw !== 'object' || raw === null) {
    issues.push({ path, reason: 'must be false or { changes, window, stable }' });
    return undefined;
  }
  const doc = raw as Doc;
  let changes = inherited.changes;
  if (doc.changes !== undefined) {
    const n = doc.changes;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < FLAP_MIN_CHANGES || n > FLAP_MAX_CHANGES) {
      issues.push({ path: [...path, 'changes'], reason: `must be a whole number from ${FLAP_MIN_CHANGES} to ${FLAP_MAX_CHANGES}` });
    } else changes = n;
  }
  const windowSeconds = duration(doc.window, [...path, 'window'], issues, 1, MAX_FLAP_SECONDS) ?? inherited.windowSeconds;
  const stableSeconds = duration(doc.stable, [...path, 'stable'], issues, 1, MAX_FLAP_SECONDS) ?? (doc.window !== undefined ? windowSeconds : inherited.stableSeconds);
  return { changes, windowSeconds, stableSeconds };
}

/** `inhibit: [ { source, target, equal } ]`: matchers as in rules, equal fields known. */
function inhibitRules(raw: Doc[] | undefined, issues: ConfigIssue[], clusters: readonly string[]): InhibitSpec[] {
  return (raw ?? []).map((item, i) => {
    const path: ConfigPath = ['inhibit', i];
    checkMatch(item.source as MatchSpec | undefined, [...path, 'source'], issues, clusters);
    checkMatch(item.target as MatchSpec | undefined, [...path, 'target'], issues, clusters);
    const equal = ((item.equal as string[] | undefined) ?? []).map(String);
    equal.forEach((field, j) => {
      const issue = equalFieldIssue(field);
      if (issue) issues.push({ path: [...path, 'equal', j], reason: issue });
    });
    return { source: (item.source ?? {}) as MatchSpec, target: (item.target ?? {}) as MatchSpec, equal };
  });
}

/** The runtime configuration and every problem found (the config is unusable when issues is non-empty). */
export function normalizeConfig(doc: Doc): { config: RuntimeConfig; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const clusters = (doc.clusters as string[] | undefined) ?? [];
  const channels = (doc.channels as Record<string, ChannelSpec> | undefined) ?? {};
  const rawDefaults = (doc.defaults as Doc | undefined) ?? {};
  const defaults: RuntimeConfig['defaults'] = {
    channels: (rawDefaults.channels as string[] | undefined) ?? Object.keys(channels),
    resolved: (rawDefaults.resolved as boolean | undefined) ?? true,
  };
  if (rawDefaults.severity) defaults.severity = rawDefaults.severity as Severity;
  const dFor = duration(rawDefaults.for, ['defaults', 'for'], issues, 0);
  if (dFor) defaults.for = dFor;
  const dRepeat = duration(rawDefaults.repeat, ['defaults', 'repeat'], issues, 1);
  if (dRepeat) defaults.repeat = dRepeat;
  channelRefs(rawDefaults.channels, ['defaults', 'channels'], channels, issues);
  const intervals = timeIntervals(doc.timeIntervals as Doc | undefined, issues);
  Object.assign(defaults, intervalRefs(rawDefaults, ['defaults'], intervals, issues));

  const topFlapping = flapping(doc.flapping, ['flapping'], issues, FLAP_DEFAULTS);
  const seen = new Map<string, number>();
  const rules: RuleSpec[] = ((doc.rules as Doc[] | undefined) ?? []).map((raw, i) => {
    const path: ConfigPath = ['rules', i];
    const name = String(raw.name);
    if (seen.has(name)) issues.push({ path: [...path, 'name'], reason: `rule name "${name}" is already used by rules[${seen.get(name)}]` });
    else seen.set(name, i);
    if (name === 'default') issues.push({ path: [...path, 'name'], reason: '"default" is reserved for the defaults route' });
    checkMatch(raw.match as MatchSpec | undefined, [...path, 'match'], issues, clusters);
    channelRefs(raw.channels, [...path, 'channels'], channels, issues);
    const rule: RuleSpec = { name };
    if (raw.match) rule.match = raw.match as MatchSpec;
    if (raw.severity) rule.severity = raw.severity as Severity;
    if (raw.channels) rule.channels = raw.channels as string[];
    const f = duration(raw.for, [...path, 'for'], issues, 0);
    if (f) rule.for = f;
    const r = duration(raw.repeat, [...path, 'repeat'], issues, 1);
    if (r) rule.repeat = r;
    for (const flag of ['resolved', 'suppress', 'continue'] as const) {
      if (typeof raw[flag] === 'boolean') rule[flag] = raw[flag] as boolean;
    }
    Object.assign(rule, intervalRefs(raw, path, intervals, issues));
    // Mustache is checked where it is parsed (channels/templates.ts, at config load): domain/ stays pure.
    if (raw.template) rule.template = raw.template as TemplateSpec;
    if (rule.suppress && rule.template) issues.push({ path: [...path, 'template'], reason: 'a suppress rule delivers nowhere: a template has nothing to shape' });
    const flap = flapping(raw.flapping, [...path, 'flapping'], issues, topFlapping || FLAP_DEFAULTS);
    if (flap !== undefined) rule.flapping = flap;
    if (rule.suppress && (rule.channels || rule.for || rule.repeat || rule.severity || rule.muteTimeIntervals || rule.activeTimeIntervals)) {
      issues.push({ path: [...path, 'suppress'], reason: 'a suppress rule delivers nowhere: remove channels, severity, for, repeat and time intervals' });
    }
    return rule;
  });

  const grouping = (doc.grouping as Partial<RuntimeConfig['grouping']> | undefined) ?? {};
  const config: RuntimeConfig = {
    clusters,
    channels,
    defaults,
    rules,
    grouping: {
      windowSeconds: grouping.windowSeconds ?? GROUPING_DEFAULTS.windowSeconds,
      threshold: grouping.threshold ?? GROUPING_DEFAULTS.threshold,
    },
  };
  if (Object.keys(intervals).length > 0) config.timeIntervals = intervals;
  const inhibit = inhibitRules(doc.inhibit as Doc[] | undefined, issues, clusters);
  if (inhibit.length > 0) config.inhibit = inhibit;
  const links = doc.links as RuntimeConfig['links'] | undefined;
  if (links?.alert) config.links = { alert: links.alert };
  const checks = doc.checks as { firstRunGrace?: unknown } | undefined;
  if (checks?.firstRunGrace !== undefined) {
    const grace = duration(checks.firstRunGrace, ['checks', 'firstRunGrace'], issues, 0, MAX_FIRST_RUN_GRACE_SECONDS);
    if (grace !== undefined) config.checks = { firstRunGraceSeconds: grace };
  }
  const history = doc.history as { retention?: unknown } | undefined;
  if (history?.retention !== undefined) {
    // Whole days: the history's TTL (read-model.ts); at least one, at most ten years.
    const seconds = duration(history.retention, ['history', 'retention'], issues, 86_400, 3650 * 86_400);
    if (seconds !== undefined) config.history = { retentionDays: Math.ceil(seconds / 86_400) };
  }
  if (topFlapping !== undefined) config.flapping = topFlapping;
  config.heartbeats = heartbeats(doc.heartbeats as Doc | undefined, clusters, issues);
  return { config, issues };
}
