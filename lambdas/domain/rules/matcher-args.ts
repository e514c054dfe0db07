/**
 * Silence matchers in the command-line syntax (`tocsin silence`, the web page's silence
 * form): parsing and describing. Pure and free of runtime imports beyond the field lists,
 * so the web page's bundle can take it; silences.ts checks the result.
 */
import { META_FIELDS, type MatchSpec, type MatcherSpec } from './types';

export class SilenceError extends Error {}

/**
 * Command-line matcher syntax, one field per argument:
 * `field=value` exact, `field!=value`, `field=~regex`, `field!~regex`,
 * `field=*glob*` (a value with * or ? is a glob), `nodeMeta.rack=r1`.
 */
export function parseMatcherArg(arg: string): { field: string; key?: string; spec: MatcherSpec } {
  const m = /^([A-Za-z]+)(?:\.([^=!~]+))?(=~|!~|!=|=)(.*)$/s.exec(arg);
  if (!m) throw new SilenceError(`matcher "${arg}" must look like field=value, field!=value, field=~regex or field!~regex`);
  const [, field, key, op, value] = m as unknown as [string, string, string | undefined, string, string];
  let spec: MatcherSpec = op === '=~' || op === '!~' ? { regex: value } : /[*?]/.test(value) ? { glob: value } : value;
  if (op.startsWith('!')) spec = { not: spec };
  return key !== undefined ? { field, key, spec } : { field, spec };
}

/** The matchers of the arguments, not yet checked against the vocabulary (silences.ts validateMatchers does that). */
export function matcherSpecFromArgs(args: string[]): MatchSpec {
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const { field, key, spec } = parseMatcherArg(arg);
    if (key !== undefined) {
      const meta = (out[field] ??= {}) as Record<string, MatcherSpec>;
      meta[key] = spec;
    } else {
      if (out[field] !== undefined) throw new SilenceError(`matcher for ${field} given twice`);
      out[field] = spec;
    }
  }
  return out as MatchSpec;
}

/** One line per matcher, in the CLI syntax where it has one. */
export function describeMatchers(m: MatchSpec): string {
  const one = (spec: MatcherSpec): string => {
    if (typeof spec === 'string') return `=${spec}`;
    if (Array.isArray(spec)) return `∈[${spec.map((s) => one(s).replace(/^=/, '')).join(', ')}]`;
    if ('not' in spec) return `!${one(spec.not).replace(/^=/, '=')}`.replace('!=~', '!~');
    if ('regex' in spec) return `=~${spec.regex}`;
    if ('glob' in spec) return `=${spec.glob}`;
    return `=${spec.equals}`;
  };
  return Object.entries(m)
    .flatMap(([field, spec]) =>
      (META_FIELDS as readonly string[]).includes(field)
        ? Object.entries(spec as Record<string, MatcherSpec>).map(([k, s]) => `${field}.${k}${one(s)}`)
        : [`${field}${one(spec as MatcherSpec)}`],
    )
    .join(' ');
}
