/**
 * Load tocsin.yaml: YAML syntax, then the JSON Schema (schema/tocsin.schema.json),
 * then the semantic checks of domain/rules/config.ts. Every problem names the file,
 * the path inside it (with line and column) and the reason. Used by the CDK app and
 * by `npm start`; the Lambdas receive the result as JSON and never parse YAML.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { normalizeConfig, formatPath, type ConfigIssue, type ConfigPath } from '../domain/rules/config';
import type { MatchSpec, RuntimeConfig } from '../domain/rules/types';
import { VOCABULARY_FIELDS, vocabularyIssues } from '../domain/rules/vocabulary';
import { templateIssues } from '../../channels/templates';
import { allowedChannelKeys, channelIssues as channelTypeIssues, localSettingsIssues, readDeliverySettings, type DeliverySettings } from '../../channels';
import { CONFIG_FILE } from './deployment';

export const SCHEMA_FILE = join(__dirname, '..', '..', CONFIG_FILE.schemaPath);

export interface DeploymentSettings {
  opsEmails?: string[];
  throttleRateLimit?: number;
  throttleBurstLimit?: number;
  reservedConcurrency?: number;
  logRetentionDays?: number;
  /** External dead-man's switch the sweeper pings after each successful sweep (https). */
  watchdog?: { url: string };
  /** Opt-ins that cost money whatever the traffic (README "Deploying to AWS", "What the stack costs"). */
  dashboard?: boolean;
  tracing?: boolean;
  customerManagedKey?: boolean;
  detailedAlarms?: boolean;
}

export interface FileConfig {
  /** Absolute path of the file read. */
  file: string;
  runtime: RuntimeConfig;
  deployment: DeploymentSettings;
  delivery: DeliverySettings;
  /** `local:` as written (schema-checked): `npm start` only, each kind reads its part (email: smtp). */
  local: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface LocatedIssue extends ConfigIssue {
  line?: number;
  column?: number;
}

export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly issues: LocatedIssue[],
  ) {
    const shown = issues.slice(0, 10).map((i) => `  ${describeIssue(i)}`);
    if (issues.length > 10) shown.push(`  ... and ${issues.length - 10} more`);
    super(`Invalid tocsin configuration ${file}:\n${shown.join('\n')}`);
    this.name = 'ConfigFileError';
  }
}

function describeIssue(i: LocatedIssue): string {
  const where = i.line ? ` (line ${i.line}, column ${i.column})` : '';
  return `${formatPath(i.path)}${where}: ${i.reason}`;
}

/** Which file: explicit (CDK context) > TOCSIN_CONFIG > ./tocsin.yaml. */
export function resolveConfigPath(explicit?: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const chosen = explicit || env[CONFIG_FILE.env] || CONFIG_FILE.defaultPath;
  return isAbsolute(chosen) ? chosen : resolve(cwd, chosen);
}

let validator: ReturnType<Ajv['compile']> | undefined;
function schemaValidator() {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    validator = ajv.compile(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as object);
  }
  return validator;
}

function pointerToPath(pointer: string): ConfigPath {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function schemaReason(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown key "${String(p.additionalProperty)}"`;
    case 'required':
      return `"${String(p.missingProperty)}" is required`;
    case 'enum':
      return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'pattern':
      return `${e.message ?? 'does not match the pattern'}`;
    case 'propertyNames':
      return `key "${String(p.propertyName)}" is not a valid name`;
    default:
      return e.message ?? e.keyword;
  }
}

/**
 * ajv reports every failing branch of a oneOf/anyOf ("must be string", "must be
 * array", "equals is required" ...). Collapse each such group into one issue that
 * says what is accepted (the schema's description), and keep every other error.
 */
function schemaIssues(errors: ErrorObject[]): ConfigIssue[] {
  // ajv reports the outermost alternative last; its description says what is accepted.
  const alternativeAt = new Map<string, ErrorObject>();
  for (const e of errors) if (e.keyword === 'oneOf' || e.keyword === 'anyOf') alternativeAt.set(e.instancePath, e);
  const out = new Map<string, ConfigIssue>();
  for (const e of errors) {
    // "must match the then schema" (channels: a schema per type): the then's own errors say what.
    if (e.keyword === 'if') continue;
    const group = alternativeAt.get(e.instancePath);
    let reason: string;
    if (group) {
      const description = (group.parentSchema as { description?: string } | undefined)?.description;
      reason = description ? `must be ${description.charAt(0).toLowerCase()}${description.slice(1)}` : 'has an unexpected form';
    } else {
      reason = schemaReason(e);
    }
    out.set(`${e.instancePath}|${reason}`, { path: pointerToPath(e.instancePath), reason });
  }
  return [...out.values()];
}

/**
 * A matcher on a closed-set field (kind, status ...) with a value tocsin does not produce
 * fails the schema's enum, and ajv can only say what the field accepts. Say which value is
 * wrong instead (domain/rules/vocabulary.ts), where that is the problem.
 */
function preferVocabularyIssues(doc: Record<string, unknown>, issues: ConfigIssue[]): ConfigIssue[] {
  const rules = Array.isArray(doc.rules) ? (doc.rules as unknown[]) : [];
  const decided = new Map<string, ConfigIssue[] | undefined>();
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    const [top, index, match, field] = issue.path;
    if (top !== 'rules' || typeof index !== 'number' || match !== 'match' || !(VOCABULARY_FIELDS as readonly unknown[]).includes(field)) {
      out.push(issue);
      continue;
    }
    const key = `${index}/${String(field)}`;
    if (!decided.has(key)) {
      const spec = ((rules[index] as { match?: Record<string, unknown> } | undefined)?.match ?? {})[field as string];
      const found = vocabularyIssues({ [field as string]: spec } as MatchSpec).map((i) => ({ path: ['rules', index, 'match', ...i.path], reason: i.reason }));
      decided.set(key, found.length > 0 ? found : undefined);
      if (found.length > 0) out.push(...found);
    }
    if (decided.get(key) === undefined) out.push(issue);
  }
  return out;
}

/** For channels (oneOf by type), ajv reports every branch; say what the chosen type allows instead. */
function channelKeyIssues(doc: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const channels = doc.channels;
  if (!channels || typeof channels !== 'object') return issues;
  for (const [name, ch] of Object.entries(channels as Record<string, unknown>)) {
    if (!ch || typeof ch !== 'object' || Array.isArray(ch)) continue;
    const type = (ch as Record<string, unknown>).type;
    const allowed = typeof type === 'string' ? allowedChannelKeys(type) : undefined;
    if (!allowed) continue;
    for (const key of Object.keys(ch)) {
      if (!allowed.includes(key)) issues.push({ path: ['channels', name, key], reason: `unknown key "${key}" for a ${String(type)} channel (allowed: ${allowed.join(', ')})` });
    }
  }
  return issues;
}

/** The line and column of the deepest node of `issue.path` present in the document. */
function locateIssue(doc: ReturnType<typeof parseDocument>, lineCounter: LineCounter, issue: ConfigIssue): LocatedIssue {
  for (let depth = issue.path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(issue.path.slice(0, depth), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { ...issue, line: pos.line, column: pos.col };
    }
  }
  return issue;
}

/**
 * Problems found after loading, when the runner starts (an environment variable the file
 * names, a file it points to): the error names the file and, if it still reads, the line.
 */
export function configErrorAt(file: string, issues: ConfigIssue[]): ConfigFileError {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter, prettyErrors: false });
    return new ConfigFileError(file, issues.map((i) => locateIssue(doc, lineCounter, i)));
  } catch {
    return new ConfigFileError(file, issues);
  }
}

export function parseConfigText(text: string, file: string): FileConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: [], reason: `YAML syntax: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
      }),
    );
  }
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  const locate = (issue: ConfigIssue): LocatedIssue => locateIssue(doc, lineCounter, issue);
  if (data === null || data === undefined || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigFileError(file, [{ path: [], reason: 'the file must hold a mapping (clusters:, channels:, rules: ...)' }]);
  }
  const validate = schemaValidator();
  if (!validate(data)) {
    const channelSpecific = channelKeyIssues(data as Record<string, unknown>);
    const rest = preferVocabularyIssues(
      data as Record<string, unknown>,
      schemaIssues(validate.errors ?? []).filter((i) => !(i.path[0] === 'channels' && channelSpecific.some((c) => c.path[1] === i.path[1]))),
    );
    throw new ConfigFileError(file, [...channelSpecific, ...rest].map(locate));
  }
  const raw = data as Record<string, unknown>;
  const { config, issues } = normalizeConfig(raw);
  issues.push(...channelTypeIssues(config.channels), ...templateIssues(config), ...localSettingsIssues(raw.local as Record<string, unknown> | undefined));
  if (issues.length > 0) throw new ConfigFileError(file, issues.map(locate));
  return {
    file,
    runtime: config,
    deployment: (raw.deployment as DeploymentSettings | undefined) ?? {},
    delivery: readDeliverySettings(raw.delivery as Record<string, unknown> | undefined),
    local: (raw.local as FileConfig['local'] | undefined) ?? {},
  };
}

export function loadConfigFile(path: string): FileConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigFileError(path, [
      { path: [], reason: code === 'ENOENT' ? `file not found (set ${CONFIG_FILE.env} or create ${CONFIG_FILE.defaultPath}; see the example in the repository)` : (err as Error).message },
    ]);
  }
  return parseConfigText(text, path);
}
