/**
 * The closed sets of values rules and silences match on: every kind of alert tocsin
 * produces, with the sources, severities, `to`/`status` and `from` values it can carry,
 * gathered from the vocabularies the sources declare next to the code that builds their
 * alerts (domain/alert-vocabulary.ts). A matcher on one of these fields that can match no
 * value tocsin produces is a configuration error, not a rule that silently never fires:
 *
 * - an exact string (or `equals`) must be a known value; a `glob` or `regex` must match at
 *   least one; `not` and lists apply the same check to their parts;
 * - the fields of one match together must fit at least one kind of alert (`kind: check`
 *   with `status: maintenance` fits none: maintenance notices have kind `maintenance`).
 *
 * test/unit/alert-vocabulary.test.ts pins that every alert the sources produce is described
 * here. A new source declares its vocabulary and adds it to ALERT_VOCABULARIES.
 */
import type { AlertVocabulary } from '../alert-vocabulary';
import { AGENT_SERVICE_ALERTS } from '../consul/agent-service';
import { CATALOG_ALERTS } from '../consul/catalog';
import { CHECK_ALERTS, MAINTENANCE_ALERTS } from '../consul/check-alerts';
import { EVENT_ALERTS } from '../consul/events';
import { SERVICE_ALERTS } from '../consul/health-service';
import { KV_ALERTS } from '../consul/kv';
import { LAMPORT_ALERTS } from '../serf/lamport-events';
import { MEMBER_ALERTS } from '../serf/members';
import { HEARTBEAT_VOCABULARY } from '../heartbeats';
import { NODE_ALERTS } from '../nodes/node-incident';
import { equalsPredicate, globPredicate, MatcherError, regexPredicate, compileMatcher, type Predicate } from './matchers';
import type { MatchSpec, MatcherSpec, ValueMatcher } from './types';

/** Every kind of alert tocsin produces. */
export const ALERT_VOCABULARIES: readonly AlertVocabulary[] = [
  CHECK_ALERTS,
  MAINTENANCE_ALERTS,
  SERVICE_ALERTS,
  CATALOG_ALERTS,
  KV_ALERTS,
  EVENT_ALERTS,
  AGENT_SERVICE_ALERTS,
  MEMBER_ALERTS,
  LAMPORT_ALERTS.user,
  LAMPORT_ALERTS.query,
  HEARTBEAT_VOCABULARY,
  NODE_ALERTS,
];

/** The values of the `flapping` fact: set on FLAPPING notices only. */
export const FLAPPING_VALUES: readonly string[] = ['true'];

/** Match fields whose values come from the vocabularies. */
export const VOCABULARY_FIELDS = ['source', 'kind', 'severity', 'status', 'to', 'from'] as const;
export type VocabularyField = (typeof VOCABULARY_FIELDS)[number];

function valuesIn(v: AlertVocabulary, field: VocabularyField): readonly string[] {
  switch (field) {
    case 'source':
      return [v.source];
    case 'kind':
      return [v.kind];
    case 'severity':
      return v.severity;
    case 'status':
    case 'to':
      return v.to;
    case 'from':
      return v.from;
  }
}

/** Every value `field` has in some alert, sorted. */
export function knownValues(field: VocabularyField, vocabularies: readonly AlertVocabulary[] = ALERT_VOCABULARIES): string[] {
  return [...new Set(vocabularies.flatMap((v) => valuesIn(v, field)))].sort();
}

/** What a field's values are called in messages. */
const NOUN: Record<VocabularyField, string> = {
  source: 'source',
  kind: 'kind',
  severity: 'severity',
  status: 'status',
  to: 'status (to)',
  from: 'previous status (from)',
};
const produced = (field: VocabularyField) => `${NOUN[field]} tocsin produces`;
const article = (word: string) => (/^[aeiou]/i.test(word) ? 'an' : 'a');

export interface VocabularyIssue {
  /** Relative to the match object: `['kind']`, `['kind', 1]`, `['status', 'not']`; `[]` for the match as a whole. */
  path: Array<string | number>;
  reason: string;
}

/** The closed sets a match is checked against: the vocabularies' fields, and `cluster` when the clusters are known. */
export interface KnownSets {
  vocabularies?: readonly AlertVocabulary[];
  /** The configured clusters (tocsin.yaml); undefined: `cluster` is not checked. */
  clusters?: readonly string[];
}

/** Each exact value, glob and regex of one matcher (through lists and `not`) must be able to match a known value. */
function partIssues(spec: MatcherSpec, where: Array<string | number>, noun: string, known: readonly string[]): VocabularyIssue[] {
  if (Array.isArray(spec)) return spec.flatMap((s, i) => partIssues(s, [...where, i], noun, known));
  // `noun`: "kind tocsin produces", "cluster listed under clusters".
  const miss = (reason: string): VocabularyIssue[] => [{ path: where, reason: `${reason} (known: ${known.join(', ')})` }];
  const v = spec as ValueMatcher | number | boolean;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
    return known.includes(String(v)) ? [] : miss(`${JSON.stringify(String(v))} is not ${article(noun)} ${noun}`);
  }
  if (typeof v !== 'object' || v === null) return []; // compileMatcher reports it
  if ('not' in v) return partIssues(v.not, [...where, 'not'], noun, known);
  const ignoreCase = (v as { ignoreCase?: boolean }).ignoreCase === true;
  let test: Predicate;
  let what: string;
  try {
    if ('equals' in v) {
      test = equalsPredicate(String(v.equals), ignoreCase);
      what = `${JSON.stringify(String(v.equals))}${ignoreCase ? ' (ignoring case)' : ''} is not ${article(noun)} ${noun}`;
    } else if ('glob' in v) {
      test = globPredicate(String(v.glob), ignoreCase);
      what = `glob ${JSON.stringify(String(v.glob))} matches no ${noun}`;
    } else if ('regex' in v) {
      test = regexPredicate(String(v.regex), ignoreCase);
      what = `regex ${JSON.stringify(String(v.regex))} matches no ${noun}`;
    } else {
      return [];
    }
  } catch (err) {
    if (err instanceof MatcherError) return []; // reported where matchers are compiled
    throw err;
  }
  return known.some((k) => test([k])) ? [] : miss(what);
}

/** Readable list: "a, b or c". */
const orList = (values: readonly string[]): string => (values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`);

/**
 * Why `match` can match no alert tocsin produces, or [] when it can match one. Only the
 * closed-set fields are looked at (node, service, tags ... are open).
 */
export function vocabularyIssues(match: MatchSpec | undefined, known: KnownSets = {}): VocabularyIssue[] {
  if (!match) return [];
  const vocabularies = known.vocabularies ?? ALERT_VOCABULARIES;
  const issues: VocabularyIssue[] = [];
  for (const field of VOCABULARY_FIELDS) {
    const spec = match[field];
    if (spec !== undefined) issues.push(...partIssues(spec, [field], produced(field), knownValues(field, vocabularies)));
  }
  if (known.clusters && match.cluster !== undefined) issues.push(...partIssues(match.cluster, ['cluster'], 'cluster listed under clusters', [...known.clusters]));
  // Only a FLAPPING notice carries `flapping` (rules/flapping.ts); "not flapping" is `flapping: { not: true }`.
  if (match.flapping !== undefined) issues.push(...partIssues(match.flapping, ['flapping'], 'flapping value tocsin produces (for "not flapping" use { not: true })', FLAPPING_VALUES));
  if (issues.length > 0) return issues;

  // Together: some kind of alert must satisfy every closed-set field at once.
  const tests = new Map<VocabularyField, Predicate>();
  try {
    for (const field of VOCABULARY_FIELDS) {
      const spec = match[field];
      if (spec !== undefined) tests.set(field, compileMatcher(spec));
    }
  } catch (err) {
    if (err instanceof MatcherError) return []; // reported where matchers are compiled
    throw err;
  }
  if (tests.size === 0) return [];
  const holds = (field: VocabularyField, values: string[]): boolean => tests.get(field)?.(values) ?? true;
  /** The first field that rules this kind of alert out, or undefined when it fits. */
  const misfit = (v: AlertVocabulary): VocabularyField | undefined => {
    if (!holds('source', [v.source])) return 'source';
    if (!holds('kind', [v.kind])) return 'kind';
    if (!v.severity.some((s) => holds('severity', [s]))) return 'severity';
    if (!v.to.some((t) => holds('status', [t]) && holds('to', [t]))) return tests.has('status') ? 'status' : 'to';
    if (!(v.from.some((f) => holds('from', [f])) || (v.fromMayBeAbsent && holds('from', [])))) return 'from';
    return undefined;
  };
  const misfits = vocabularies.map((v) => ({ v, field: misfit(v) }));
  if (misfits.some((m) => m.field === undefined)) return [];
  const relevant = misfits.filter((m) => m.field !== 'source' && m.field !== 'kind');
  if (relevant.length === 0) {
    const bySource = [...new Set(vocabularies.map((v) => v.source))].map((s) => `${s}: ${knownValues('kind', vocabularies.filter((v) => v.source === s)).join(', ')}`);
    return [{ path: [], reason: `matches no alert tocsin produces: no kind of alert has this source and kind (kinds by source: ${bySource.join('; ')})` }];
  }
  const why = relevant.map(({ v, field }) => {
    const values = field === 'from' ? [...v.from, ...(v.fromMayBeAbsent ? ['none'] : [])] : [...valuesIn(v, field!)];
    return `${article(v.kind)} ${v.kind} alert has ${field === 'to' || field === 'status' ? 'status' : NOUN[field!]} ${orList(values)}`;
  });
  return [{ path: [], reason: `matches no alert tocsin produces: ${why.join('; ')}` }];
}
