/**
 * Rule evaluation: an ordered, flat list, Alertmanager-style. Rules are tried in
 * file order; the first that matches routes the alert and stops evaluation unless it
 * says `continue: true`, in which case later rules may add routes too. A matching
 * `suppress: true` rule stops evaluation and delivers nowhere (routes collected so
 * far are dropped). When no rule matched, `defaults` is the route. A channel gets at
 * most one route per alert: the first route naming it wins.
 */
import type { Severity } from '../types';
import { compileMatch, type FactsPredicate } from './matchers';
import { compileInhibitRules, type InhibitRule } from './inhibit';
import type { RouteTimes, TimeIntervals } from './time-intervals';
import type { MatchFacts, RuleSpec, RuntimeConfig } from './types';

export const DEFAULT_ROUTE = 'default';
const FALLBACK_SEVERITY: Severity = 'warning';

export interface Route {
  /** Rule name, or "default". */
  rule: string;
  severity: Severity;
  channels: string[];
  /** Seconds the problem must persist before the first notification. */
  for: number;
  /** Seconds between reminders; 0 = none. */
  repeat: number;
  resolved: boolean;
  /** The rule's muteTimeIntervals / activeTimeIntervals (time-intervals.ts); absent: never muted. */
  times?: RouteTimes;
}

export interface RoutingDecision {
  routes: Route[];
  /** Rules that matched, in order. */
  matched: string[];
  suppressedBy?: string;
}

interface CompiledRule {
  spec: RuleSpec;
  test: FactsPredicate;
}

export interface RuleSet {
  readonly config: RuntimeConfig;
  readonly rules: readonly CompiledRule[];
  readonly inhibit: readonly InhibitRule[];
  readonly intervals: TimeIntervals;
}

/** Compiles every matcher once (at init); throws MatcherError on a bad one. */
export function compileRules(config: RuntimeConfig): RuleSet {
  return {
    config,
    rules: config.rules.map((spec) => ({ spec, test: compileMatch(spec.match) })),
    inhibit: compileInhibitRules(config.inhibit),
    intervals: config.timeIntervals ?? {},
  };
}

function timesOfSpec(spec: Pick<RuleSpec, 'muteTimeIntervals' | 'activeTimeIntervals'>): RouteTimes | undefined {
  if (!spec.muteTimeIntervals?.length && !spec.activeTimeIntervals?.length) return undefined;
  return { ...(spec.muteTimeIntervals?.length ? { mute: spec.muteTimeIntervals } : {}), ...(spec.activeTimeIntervals?.length ? { active: spec.activeTimeIntervals } : {}) };
}

/** The time intervals of a route by its rule's name ("default": the defaults'), as the config stands now. */
export function routeTimes(set: RuleSet, rule: string): RouteTimes | undefined {
  if (rule === DEFAULT_ROUTE) return timesOfSpec(set.config.defaults);
  const found = set.rules.find((r) => r.spec.name === rule);
  return found ? timesOfSpec(found.spec) : undefined;
}

function route(rule: string, spec: Partial<RuleSpec>, facts: MatchFacts, config: RuntimeConfig): Route {
  const d = config.defaults;
  const times = timesOfSpec(rule === DEFAULT_ROUTE ? d : spec);
  return {
    rule,
    severity: spec.severity ?? facts.severity ?? d.severity ?? FALLBACK_SEVERITY,
    channels: spec.channels ?? d.channels,
    for: spec.for ?? 0,
    repeat: spec.repeat ?? 0,
    resolved: spec.resolved ?? d.resolved,
    ...(times ? { times } : {}),
  };
}

/** Pure: which routes an alert candidate takes. */
export function evaluateRules(set: RuleSet, facts: MatchFacts): RoutingDecision {
  const routes: Route[] = [];
  const matched: string[] = [];
  for (const { spec, test } of set.rules) {
    if (!test(facts)) continue;
    matched.push(spec.name);
    if (spec.suppress) return { routes: [], matched, suppressedBy: spec.name };
    routes.push(route(spec.name, spec, facts, set.config));
    if (!spec.continue) break;
  }
  if (matched.length === 0) {
    const d = set.config.defaults;
    routes.push(route(DEFAULT_ROUTE, { ...(d.for ? { for: d.for } : {}), ...(d.repeat ? { repeat: d.repeat } : {}) }, facts, set.config));
  }
  // One route per channel: the first one naming it.
  const claimed = new Set<string>();
  const deduped = routes
    .map((r) => {
      const channels = r.channels.filter((c) => !claimed.has(c));
      channels.forEach((c) => claimed.add(c));
      return { ...r, channels };
    })
    .filter((r) => r.channels.length > 0);
  return { routes: deduped, matched };
}
