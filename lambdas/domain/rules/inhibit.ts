/**
 * Inhibition (tocsin.yaml `inhibit`), Alertmanager's inhibit_rules: while an alert that
 * matches a rule's `source` is firing, an alert that matches its `target` and agrees with
 * that source on every `equal` field is not delivered. A field missing on both sides counts
 * as equal; an alert never inhibits itself (the same subject), even when it matches both
 * `source` and `target`. Pure: the firing sources come from a port (app/inhibition.ts).
 */
import { compileMatch, valuesOf, type FactsPredicate } from './matchers';
import { MATCH_FIELDS, META_FIELDS, type InhibitSpec, type MatchFacts } from './types';

/** A firing alert that matches some rule's `source`: its subject, episode and facts. */
export interface FiringSource {
  subject: string;
  /** The episode id it was recorded for (the alert that opened or last changed it). */
  episode: string;
  facts: MatchFacts;
  /** Epoch ms it was recorded, just before its episode was written (absent: long ago). */
  recordedAt?: number;
}

export interface InhibitRule {
  /** Position in tocsin.yaml's `inhibit` list; -1 for the built-in rule. */
  index: number;
  /** Set on the built-in rule (NODE_INCIDENT_RULE). */
  builtin?: string;
  spec: InhibitSpec;
  source: FactsPredicate;
  target: FactsPredicate;
}

/**
 * Built in, after the file's rules: a node that is down as one incident (nodes/node-incident.ts)
 * inhibits the alerts of its own checks, instances and member, which the sources mark with
 * `nodeIncident` while they know the node is down. Held notices of those still firing when the
 * node is back are announced then, like any inhibited notice.
 */
export const NODE_INCIDENT_RULE: InhibitRule = {
  index: -1,
  builtin: 'node-incident',
  spec: { source: { kind: 'node' }, target: {}, equal: ['node'] },
  source: (facts) => facts.kind === 'node',
  target: (facts) => facts.nodeIncident !== undefined && facts.kind !== 'node',
};

export function compileInhibitRules(specs: readonly InhibitSpec[] = []): InhibitRule[] {
  return [...specs.map((spec, index) => ({ index, spec, source: compileMatch(spec.source), target: compileMatch(spec.target) })), NODE_INCIDENT_RULE];
}

/** `node`, `tags`, `nodeMeta.rack` ...: a name `equal` may hold, or the reason it may not. */
export function equalFieldIssue(field: string): string | undefined {
  if ((MATCH_FIELDS as readonly string[]).includes(field)) return undefined;
  const [meta, key] = field.split(/\.(.*)/s);
  if ((META_FIELDS as readonly string[]).includes(meta ?? '') && key) return undefined;
  return `unknown field "${field}"; use one of ${MATCH_FIELDS.join(', ')}, or nodeMeta.<key> / serviceMeta.<key>`;
}

/** The values of a field (`nodeMeta.rack` reads the meta key), in a stable order. */
function fieldValues(facts: MatchFacts, field: string): string[] {
  const dot = field.indexOf('.');
  if (dot > 0) {
    const meta = facts[field.slice(0, dot) as 'nodeMeta' | 'serviceMeta'];
    const v = meta && Object.prototype.hasOwnProperty.call(meta, field.slice(dot + 1)) ? meta[field.slice(dot + 1)] : undefined;
    return v === undefined || v === '' ? [] : [v];
  }
  return [...valuesOf(facts, field)].sort();
}

/** Both alerts have the same values on every field (missing on both: equal; a list: the same set). */
export function equalOn(fields: readonly string[], a: MatchFacts, b: MatchFacts): boolean {
  return fields.every((f) => {
    const x = fieldValues(a, f);
    const y = fieldValues(b, f);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  });
}

export interface InhibitCandidate {
  /** The target's subject; absent (a momentary notice, which no source can be): never the source's. */
  subject?: string;
  facts: MatchFacts;
}

/** Does `source`, firing, inhibit `target` under this rule? */
export function inhibits(rule: InhibitRule, source: FiringSource, target: InhibitCandidate): boolean {
  if (source.subject === target.subject) return false; // an alert cannot inhibit itself
  if (source.facts.cluster !== target.facts.cluster) return false;
  return rule.target(target.facts) && rule.source(source.facts) && equalOn(rule.spec.equal, source.facts, target.facts);
}

export interface Inhibition {
  rule: InhibitRule;
  source: FiringSource;
}

/** The first (rule, firing source) pair that inhibits the target, in file order. */
export function inhibitedBy(rules: readonly InhibitRule[], sources: readonly FiringSource[], target: InhibitCandidate): Inhibition | undefined {
  for (const rule of rules) {
    if (!rule.target(target.facts)) continue;
    const source = sources.find((s) => inhibits(rule, s, target));
    if (source) return { rule, source };
  }
  return undefined;
}

/** Could an alert with these facts inhibit others (so its firing episodes are recorded as sources)? */
export const isInhibitSource = (rules: readonly InhibitRule[], facts: MatchFacts): boolean => rules.some((r) => r.source(facts));

/** Could an alert with these facts be inhibited (so the firing sources are read)? */
export const isInhibitTarget = (rules: readonly InhibitRule[], facts: MatchFacts): boolean => rules.some((r) => r.target(facts));

/**
 * An inhibited firing notice is held in its episode like a silenced one (episodes.ts
 * muteEntry), under this pseudo-silence id: the sweeper announces it once the source is no
 * longer firing. `~` never occurs in silence ids (base64url) and the subject is URI-encoded,
 * so the id holds no `#` (the ledger's key separator).
 */
export const INHIBITION_ID_PREFIX = 'inhibit~';

export const inhibitionId = (sourceSubject: string): string => `${INHIBITION_ID_PREFIX}${encodeURIComponent(sourceSubject)}`;

/** The source subject of an inhibition id; undefined for a silence id. */
export function inhibitionSource(id: string): string | undefined {
  return id.startsWith(INHIBITION_ID_PREFIX) ? decodeURIComponent(id.slice(INHIBITION_ID_PREFIX.length)) : undefined;
}

/** What a log line or the CLI says about a rule: `inhibit[0] (source: severity=critical; equal: node)`. */
export function describeInhibition(i: Inhibition): string {
  if (i.rule.builtin) return `${i.rule.builtin} (built in) by ${i.source.subject}`;
  return `inhibit[${i.rule.index}] by ${i.source.subject}${i.rule.spec.equal.length ? ` (equal on ${i.rule.spec.equal.join(', ')})` : ''}`;
}
