/**
 * Matchers: each kind is a small pure predicate over the values of one field.
 * A field has zero or more values (a missing field has none, `tags` has many): a
 * positive matcher holds when ANY value matches, so it never holds for a missing
 * field; `not` inverts the whole test ("no tag is canary", "service is not web").
 */
import type { MatchFacts, MatchSpec, MatcherSpec, NumericMatcher, ValueMatcher } from './types';
import { MATCH_FIELDS, META_FIELDS, NUMERIC_FIELDS } from './types';

/** True when the field's values satisfy the matcher. */
export type Predicate = (values: readonly string[]) => boolean;

/** Longest text (payload, output) a matcher looks at. */
export const MAX_MATCH_TEXT = 64 * 1024;

export class MatcherError extends Error {}

const anyValue = (test: (v: string) => boolean): Predicate => (values) => values.some(test);

/** `equals`: the whole value, case-sensitive unless ignoreCase. */
export function equalsPredicate(expected: string, ignoreCase = false): Predicate {
  if (!ignoreCase) return anyValue((v) => v === expected);
  const lower = expected.toLowerCase();
  return anyValue((v) => v.toLowerCase() === lower);
}

/** Glob to an anchored RegExp: `*` any run of characters, `?` one character; nothing else is special. */
export function globToRegExp(glob: string, ignoreCase = false): RegExp {
  let source = '';
  for (const ch of glob) {
    if (ch === '*') source += '[\\s\\S]*';
    else if (ch === '?') source += '[\\s\\S]';
    else source += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'iu' : 'u');
}

/** `glob`: the whole value against a shell-style pattern. */
export function globPredicate(glob: string, ignoreCase = false): Predicate {
  const re = globToRegExp(glob, ignoreCase);
  return anyValue((v) => re.test(v));
}

/** `regex`: JavaScript syntax, unanchored (use ^ and $ to anchor). */
export function regexPredicate(pattern: string, ignoreCase = false): Predicate {
  let re: RegExp;
  try {
    re = new RegExp(pattern, ignoreCase ? 'iu' : 'u');
  } catch (err) {
    throw new MatcherError(`regex ${JSON.stringify(pattern)} does not compile: ${(err as Error).message}`);
  }
  return anyValue((v) => re.test(v.length > MAX_MATCH_TEXT ? v.slice(0, MAX_MATCH_TEXT) : v));
}

export const notPredicate =
  (inner: Predicate): Predicate =>
  (values) =>
    !inner(values);

export const anyOfPredicate =
  (inners: Predicate[]): Predicate =>
  (values) =>
    inners.some((p) => p(values));

function describe(spec: unknown): string {
  return JSON.stringify(spec)?.slice(0, 80) ?? String(spec);
}

export function compileMatcher(spec: MatcherSpec): Predicate {
  if (Array.isArray(spec)) {
    if (spec.length === 0) throw new MatcherError('an empty list matches nothing; remove the field instead');
    return anyOfPredicate(spec.map((s) => compileValueMatcher(s)));
  }
  return compileValueMatcher(spec);
}

function compileValueMatcher(spec: ValueMatcher): Predicate {
  if (typeof spec === 'string') return equalsPredicate(spec);
  if (typeof spec === 'number' || typeof spec === 'boolean') return equalsPredicate(String(spec));
  if (typeof spec !== 'object' || spec === null) throw new MatcherError(`not a matcher: ${describe(spec)}`);
  const keys = Object.keys(spec).filter((k) => k !== 'ignoreCase');
  if (keys.length !== 1) throw new MatcherError(`a matcher has exactly one of equals, glob, regex, not: ${describe(spec)}`);
  const ignoreCase = (spec as { ignoreCase?: boolean }).ignoreCase === true;
  if ('equals' in spec) return equalsPredicate(String(spec.equals), ignoreCase);
  if ('glob' in spec) return globPredicate(String(spec.glob), ignoreCase);
  if ('regex' in spec) return regexPredicate(String(spec.regex), ignoreCase);
  if ('not' in spec) return notPredicate(compileMatcher(spec.not));
  throw new MatcherError(`unknown matcher ${describe(spec)}; use equals, glob, regex or not`);
}

/** True when the field's number satisfies the matcher; `undefined`: the alert has no such value. */
export type NumericPredicate = (value: number | undefined) => boolean;

const present =
  (test: (v: number) => boolean): NumericPredicate =>
  (v) =>
    v !== undefined && Number.isFinite(v) && test(v);

export const eqPredicate = (bound: number): NumericPredicate => present((v) => v === bound);
export const ltPredicate = (bound: number): NumericPredicate => present((v) => v < bound);
export const ltePredicate = (bound: number): NumericPredicate => present((v) => v <= bound);
export const gtPredicate = (bound: number): NumericPredicate => present((v) => v > bound);
export const gtePredicate = (bound: number): NumericPredicate => present((v) => v >= bound);

const COMPARISONS: Record<string, (bound: number) => NumericPredicate> = { eq: eqPredicate, lt: ltPredicate, lte: ltePredicate, gt: gtPredicate, gte: gtePredicate };

/** `healthyInstances: { lte: 0 }`: a number (eq), bounds ANDed, or `{ not: ... }` (which a missing value satisfies). */
export function compileNumericMatcher(spec: NumericMatcher): NumericPredicate {
  if (typeof spec === 'number') {
    if (!Number.isFinite(spec)) throw new MatcherError(`not a number: ${describe(spec)}`);
    return eqPredicate(spec);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new MatcherError(`a numeric matcher is a number or {lt|lte|gt|gte|eq: number} or {not: ...}: ${describe(spec)}`);
  const keys = Object.keys(spec);
  if ('not' in spec) {
    if (keys.length !== 1) throw new MatcherError(`{not: ...} stands alone: ${describe(spec)}`);
    const inner = compileNumericMatcher(spec.not);
    return (v) => !inner(v);
  }
  if (keys.length === 0) throw new MatcherError('an empty numeric matcher matches everything; remove the field instead');
  const tests = keys.map((k) => {
    const make = COMPARISONS[k];
    if (!make) throw new MatcherError(`unknown comparison "${k}"; use lt, lte, gt, gte, eq or not`);
    const bound = (spec as Record<string, unknown>)[k];
    if (typeof bound !== 'number' || !Number.isFinite(bound)) throw new MatcherError(`${k} needs a number, got ${describe(bound)}`);
    return make(bound);
  });
  return (v) => tests.every((t) => t(v));
}

/** The values of a field in a set of facts. */
export function valuesOf(facts: MatchFacts, field: string): string[] {
  const value = (facts as unknown as Record<string, unknown>)[field];
  if (value === undefined || value === null || value === '') return [];
  if (Array.isArray(value)) return value.map(String);
  return [String(value)];
}

/** All fields ANDed; a MatchSpec with no field matches everything. */
export type FactsPredicate = (facts: MatchFacts) => boolean;

export function compileMatch(match: MatchSpec | undefined): FactsPredicate {
  if (!match) return () => true;
  const tests: FactsPredicate[] = [];
  for (const field of MATCH_FIELDS) {
    const spec = match[field];
    if (spec === undefined) continue;
    const p = compileMatcher(spec);
    tests.push((facts) => p(valuesOf(facts, field)));
  }
  for (const field of NUMERIC_FIELDS) {
    const spec = match[field];
    if (spec === undefined) continue;
    const p = compileNumericMatcher(spec);
    tests.push((facts) => p(facts[field]));
  }
  for (const field of META_FIELDS) {
    const byKey = match[field];
    if (!byKey) continue;
    for (const [key, spec] of Object.entries(byKey)) {
      const p = compileMatcher(spec);
      tests.push((facts) => {
        const meta = facts[field];
        const v = meta && Object.prototype.hasOwnProperty.call(meta, key) ? meta[key] : undefined;
        return p(v === undefined || v === '' ? [] : [v]);
      });
    }
  }
  return (facts) => tests.every((t) => t(facts));
}
