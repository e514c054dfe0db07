/**
 * The parts of schema/tocsin.schema.json that describe matchers on the closed-set fields
 * (source, kind, severity, status/to, from), built from the alert vocabularies
 * (domain/rules/vocabulary.ts): editors complete and flag their exact values. `npm run
 * schema` writes them; test/unit/alert-vocabulary.test.ts fails while the file differs.
 * Globs, regexes and `equals` with ignoreCase are checked by the semantic checks
 * (domain/rules/config.ts), which a schema cannot express.
 */
import { knownValues, type VocabularyField } from '../domain/rules/vocabulary';
import { NUMERIC_FIELDS, type NumericField } from '../domain/rules/types';

/** One definition per group of fields sharing their values: `status` and `to` are the same value. */
const GROUPS: Array<{ name: string; fields: VocabularyField[]; plural: string }> = [
  { name: 'source', fields: ['source'], plural: 'sources' },
  { name: 'kind', fields: ['kind'], plural: 'kinds' },
  { name: 'severity', fields: ['severity'], plural: 'severities' },
  { name: 'status', fields: ['status', 'to'], plural: 'statuses' },
  { name: 'from', fields: ['from'], plural: 'previous statuses (from)' },
];

const MATCH_DESCRIPTIONS: Record<VocabularyField, string> = {
  source: 'consul or serf',
  kind: 'What the alert is about',
  severity: 'Severity proposed by the source',
  status: 'New status (same as `to`)',
  to: 'New status (same as `status`)',
  from: 'Previous status; absent for a subject seen first',
};

const objectBranch = (key: 'equals' | 'glob' | 'regex') => ({
  type: 'object',
  required: [key],
  additionalProperties: false,
  properties: { [key]: { type: 'string' }, ignoreCase: { type: 'boolean' } },
});

export interface MatchSchemas {
  /** Added to `definitions`. */
  definitions: Record<string, unknown>;
  /** `definitions.match.properties` entries of the closed-set fields. */
  properties: Record<string, unknown>;
}

/** Numeric fields (rules/types.ts NUMERIC_FIELDS): a number, bounds, or not. */
const NUMERIC_DESCRIPTIONS: Record<NumericField, string> = {
  healthyInstances: "Healthy instances of the alert's service now (service impact), e.g. { lte: 0 }",
  healthyFraction: "Healthy share of the alert's service's instances, 0 to 1, e.g. { lt: 0.5 }",
};

function numericDefinitions(): Record<string, unknown> {
  const bound = { type: 'number' };
  return {
    numericMatcher: {
      description: 'A number (equal to it), {lt|lte|gt|gte|eq: number, ...} (all given must hold), or {not: <numeric matcher>}. An alert without the value matches only a `not`.',
      anyOf: [
        { type: 'number' },
        { type: 'object', minProperties: 1, additionalProperties: false, properties: { lt: bound, lte: bound, gt: bound, gte: bound, eq: bound } },
        { type: 'object', required: ['not'], additionalProperties: false, properties: { not: { $ref: '#/definitions/numericMatcher' } } },
      ],
    },
  };
}

export function matchSchemas(): MatchSchemas {
  const definitions: Record<string, unknown> = { ...numericDefinitions() };
  const properties: Record<string, unknown> = {};
  for (const field of NUMERIC_FIELDS) properties[field] = { $ref: '#/definitions/numericMatcher', description: NUMERIC_DESCRIPTIONS[field] };
  for (const { name, fields, plural } of GROUPS) {
    const values = knownValues(fields[0]!);
    const list = values.join(', ');
    const ref = (suffix: string) => ({ $ref: `#/definitions/${name}${suffix}` });
    definitions[`${name}Matcher`] = {
      description: `One of the ${plural} tocsin produces (${list}) as an exact string or a list, or {equals|glob|regex: ..., ignoreCase} or {not: <matcher>} that can match one of them.`,
      anyOf: [{ enum: values }, { type: 'array', minItems: 1, items: ref('Value') }, ref('MatcherObject')],
    };
    definitions[`${name}Value`] = {
      description: `One of the ${plural} tocsin produces (${list}), or {equals|glob|regex: ..., ignoreCase} or {not: <matcher>} that can match one of them.`,
      anyOf: [{ enum: values }, ref('MatcherObject')],
    };
    definitions[`${name}MatcherObject`] = {
      description: `Exactly one of {equals: ...}, {glob: ...}, {regex: ...} (each with optional ignoreCase) or {not: <matcher>}, able to match one of the ${plural} tocsin produces (${list}).`,
      oneOf: [objectBranch('equals'), objectBranch('glob'), objectBranch('regex'), { type: 'object', required: ['not'], additionalProperties: false, properties: { not: ref('Matcher') } }],
    };
    for (const field of fields) properties[field] = { ...ref('Matcher'), description: MATCH_DESCRIPTIONS[field] };
  }
  return { definitions, properties };
}
