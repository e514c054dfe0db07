/**
 * `tocsin config check [FILE]`: validates a tocsin.yaml as `npm start` and `cdk synth` load it
 * (YAML, the JSON Schema, the checks of domain/rules/config.ts and of the channel kinds), one
 * line per problem with file, line, column and path; exit 1 when there is any.
 * `tocsin config routes --alert FILE [--at TIME]`: what tocsin would do with one alert, like
 * amtool's `config routes test`: the rules that match, each route's channels and settings,
 * whether a time interval mutes it at that time (and until when), and the inhibit rules that
 * could hold it back or that it could hold others back by. Reads files only.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { FileConfig, LocatedIssue } from '../../lambdas/commons/config-file';
import { formatPath } from '../../lambdas/domain/rules/config';
import { formatDuration } from '../../lambdas/domain/rules/duration';
import { alertFacts } from '../../lambdas/domain/rules/episodes';
import { compileRules, evaluateRules, type Route } from '../../lambdas/domain/rules/evaluate';
import type { InhibitRule } from '../../lambdas/domain/rules/inhibit';
import { describeMatchers } from '../../lambdas/domain/rules/silences';
import { muteAt } from '../../lambdas/domain/rules/time-intervals';
import { NUMERIC_FIELDS, type MatchFacts } from '../../lambdas/domain/rules/types';
import type { Alert, Severity } from '../../lambdas/domain/types';
import { emit, UsageError, type CliOutput } from './admin-client';
import { text } from 'node:stream/consumers';

export const CONFIG_USAGE = `Usage: tocsin config check [FILE]
       tocsin config routes --alert FILE [--config FILE] [--at TIME] [--json]

  tocsin config check [FILE]
      Validate a tocsin.yaml (default: $TOCSIN_CONFIG, else ./tocsin.yaml) as npm start and
      cdk synth load it: YAML, the JSON Schema, then rule names, channel and time interval
      references, matchers, durations, inhibit rules. One line per problem:
      FILE:LINE:COLUMN: PATH: REASON. Exit 0 when valid, 1 when not, 64 on usage errors.
  tocsin config routes --alert FILE
      Which rules an alert matches, the channels each route sends to (severity, for, repeat,
      resolved), whether a time interval mutes the route at --at and until when, and the
      inhibit rules that would hold the alert back while a matching source fires (or that
      it, firing, would hold others back by). FILE holds one alert as JSON (lambdas/domain/
      types.ts Alert: cluster, source, kind, severity, state, node, service, check, from,
      to ...), with optional "facts" for what an alert does not carry (tags, checkName,
      nodeMeta, serviceMeta, event, payload, flapping, and the service impact
      healthyInstances, healthyFraction as numbers). "-" reads it from stdin.

Options:
  --config FILE   the tocsin.yaml (default: $TOCSIN_CONFIG, else ./tocsin.yaml)
  --at TIME       ISO-8601 time for mute intervals (default: now)
  --json          print the result as JSON
`;

type ConfigFileModule = typeof import('../../lambdas/commons/config-file');

/** The loader (yaml, ajv, the channel registry) only when a config command runs. */
function configFile(): ConfigFileModule {
  return require('../../lambdas/commons/config-file') as ConfigFileModule;
}

/** `FILE:LINE:COLUMN: PATH: REASON`, as compilers print it. */
export function issueLine(file: string, issue: LocatedIssue): string {
  return `${file}${issue.line ? `:${issue.line}:${issue.column}` : ''}: ${formatPath(issue.path)}: ${issue.reason}`;
}

function load(file: string | undefined, env: NodeJS.ProcessEnv): { config?: FileConfig; out?: CliOutput } {
  const { ConfigFileError, loadConfigFile, resolveConfigPath } = configFile();
  const path = resolveConfigPath(file, env);
  try {
    return { config: loadConfigFile(path) };
  } catch (err) {
    if (!(err instanceof ConfigFileError)) throw err;
    const lines = err.issues.map((i) => issueLine(err.file, i));
    return { out: { code: 1, stdout: '', stderr: `${lines.join('\n')}\n${err.file}: ${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}\n` } };
  }
}

function check(file: string | undefined, env: NodeJS.ProcessEnv): CliOutput {
  const { config, out } = load(file, env);
  if (out) return out;
  const r = config!.runtime;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
  const parts = [
    count(r.clusters.length, 'cluster'),
    count(Object.keys(r.channels).length, 'channel'),
    count(r.rules.length, 'rule'),
    count(r.inhibit?.length ?? 0, 'inhibit rule'),
    count(Object.keys(r.timeIntervals ?? {}).length, 'time interval'),
  ];
  return { code: 0, stdout: `${config!.file}: valid (${parts.join(', ')})\n`, stderr: '' };
}

const ALERT_STATES = ['firing', 'resolved'] as const;
const SEVERITIES: readonly Severity[] = ['critical', 'warning', 'info'];

/** The alert file: an Alert with the fields rules need, plus optional facts. */
export function parseAlertFile(text: string, name: string): { alert: Alert; facts: Partial<MatchFacts> } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${name}: not JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${name}: must hold one alert, a JSON object`);
  const a = raw as Record<string, unknown>;
  const missing = ['cluster', 'source', 'kind'].filter((k) => typeof a[k] !== 'string' || a[k] === '');
  if (missing.length > 0) throw new UsageError(`${name}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} required (strings)`);
  const severity = a.severity ?? 'warning';
  if (!(SEVERITIES as readonly unknown[]).includes(severity)) throw new UsageError(`${name}: severity must be one of ${SEVERITIES.join(', ')}`);
  const state = a.state ?? 'firing';
  if (!(ALERT_STATES as readonly unknown[]).includes(state)) throw new UsageError(`${name}: state must be firing or resolved`);
  const { facts, ...rest } = a;
  if (facts !== undefined && (typeof facts !== 'object' || facts === null || Array.isArray(facts))) throw new UsageError(`${name}: facts must be an object (tags, checkName, nodeMeta ...)`);
  for (const field of NUMERIC_FIELDS) {
    const v = (facts as Record<string, unknown> | undefined)?.[field];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new UsageError(`${name}: facts.${field} must be a number`);
  }
  const alert = { id: 'config-routes', title: '', at: new Date(0).toISOString(), details: [], ...rest, severity, state, to: rest.to ?? rest.status } as unknown as Alert;
  return { alert, facts: (facts ?? {}) as Partial<MatchFacts> };
}

interface RouteReport {
  rule: string;
  channels: string[];
  severity: string;
  for: string;
  repeat: string | null;
  resolved: boolean;
  mute: { mutedBy: string; until: string | null } | null;
  timeIntervals: { mute: readonly string[]; active: readonly string[] };
}

interface InhibitReport {
  rule: string;
  source: string;
  target: string;
  equal: Array<{ field: string; value: string | null }>;
}

export interface RoutesReport {
  at: string;
  facts: MatchFacts;
  matched: string[];
  suppressedBy: string | null;
  routes: RouteReport[];
  /** Rules whose target this alert matches: held back while a matching source fires. */
  inhibitedWhile: InhibitReport[];
  /** Rules whose source this alert matches: while firing, it holds back matching targets. */
  inhibits: InhibitReport[];
  warnings: string[];
}

const matchers = (m: object) => describeMatchers(m) || '(everything)';

function equalValues(rule: InhibitRule, facts: MatchFacts): InhibitReport['equal'] {
  return rule.spec.equal.map((field) => {
    const dot = field.indexOf('.');
    const value = dot > 0 ? facts[field.slice(0, dot) as 'nodeMeta' | 'serviceMeta']?.[field.slice(dot + 1)] : (facts as unknown as Record<string, unknown>)[field];
    return { field, value: value === undefined || value === '' ? null : Array.isArray(value) ? value.join(',') : String(value) };
  });
}

export function routesReport(config: FileConfig, alert: Alert, extra: Partial<MatchFacts>, atMs: number): RoutesReport {
  const set = compileRules(config.runtime);
  const facts = alertFacts(alert, extra);
  const decision = evaluateRules(set, facts);
  const warnings: string[] = [];
  if (!config.runtime.clusters.includes(facts.cluster)) warnings.push(`cluster "${facts.cluster}" is not listed under clusters (${config.runtime.clusters.join(', ')}): tocsin would refuse its events`);
  const routeReport = (r: Route): RouteReport => {
    const mute = muteAt(r.times, set.intervals, atMs);
    return {
      rule: r.rule,
      channels: r.channels,
      severity: r.severity,
      for: formatDuration(r.for),
      repeat: r.repeat > 0 ? formatDuration(r.repeat) : null,
      resolved: r.resolved,
      mute: mute ? { mutedBy: mute.reason, until: mute.until !== undefined ? new Date(mute.until).toISOString() : null } : null,
      timeIntervals: { mute: r.times?.mute ?? [], active: r.times?.active ?? [] },
    };
  };
  const inhibitReport = (rule: InhibitRule): InhibitReport =>
    rule.builtin
      ? { rule: `${rule.builtin} (built in)`, source: 'kind=node (the node is down as one incident)', target: "the node's own checks, instances and member while it is down", equal: equalValues(rule, facts) }
      : { rule: `inhibit[${rule.index}]`, source: matchers(rule.spec.source), target: matchers(rule.spec.target), equal: equalValues(rule, facts) };
  return {
    at: new Date(atMs).toISOString(),
    facts,
    matched: decision.matched,
    suppressedBy: decision.suppressedBy ?? null,
    routes: decision.routes.map(routeReport),
    inhibitedWhile: set.inhibit.filter((r) => r.target(facts)).map(inhibitReport),
    inhibits: alert.state === 'firing' ? set.inhibit.filter((r) => r.source(facts)).map(inhibitReport) : [],
    warnings,
  };
}

export function routesText(r: RoutesReport): string {
  const f = r.facts;
  const about = [f.node && `node ${f.node}`, f.service && `service ${f.service}`, f.check && `check ${f.check}`, f.event && `event ${f.event}`].filter(Boolean).join(', ');
  const lines = [`alert: ${f.source} ${f.kind} ${f.status ?? ''} (${f.severity ?? '-'}) in cluster ${f.cluster}${about ? `, ${about}` : ''}`.replace('  ', ' ')];
  if (f.healthyInstances !== undefined || f.healthyFraction !== undefined) {
    lines.push(`service impact: healthyInstances ${f.healthyInstances ?? '(unknown)'}, healthyFraction ${f.healthyFraction ?? '(unknown)'}`);
  }
  lines.push(`matched rules: ${r.matched.length > 0 ? r.matched.join(', ') : '(none: the defaults route)'}`);
  if (r.suppressedBy) lines.push(`suppressed by rule ${r.suppressedBy}: delivered nowhere`);
  if (!r.suppressedBy) lines.push(r.routes.length > 0 ? 'routes:' : 'routes: (none: no channel left)');
  for (const route of r.routes) {
    lines.push(`  ${route.rule} -> ${route.channels.join(', ')}  (severity ${route.severity}, for ${route.for}, repeat ${route.repeat ?? 'never'}, resolved ${route.resolved ? 'yes' : 'no'})`);
    const named = [...route.timeIntervals.mute.map((n) => `mute in ${n}`), ...route.timeIntervals.active.map((n) => `active in ${n}`)];
    if (route.mute) lines.push(`    MUTED at ${r.at} (${route.mute.mutedBy}) until ${route.mute.until ?? 'no end within 400 days'}: a firing notice waits until then`);
    else if (named.length > 0) lines.push(`    not muted at ${r.at} (${named.join('; ')})`);
  }
  const inhibit = (i: InhibitReport) => `  ${i.rule}: source ${i.source}; target ${i.target}${i.equal.length ? `; equal ${i.equal.map((e) => `${e.field}=${e.value ?? '(missing)'}`).join(' ')}` : ''}`;
  lines.push(r.inhibitedWhile.length > 0 ? 'inhibited (not delivered) while a firing alert of the cluster matches:' : 'inhibited: never (no inhibit rule targets it)');
  lines.push(...r.inhibitedWhile.map(inhibit));
  if (r.inhibits.length > 0) lines.push('while firing, it inhibits alerts of the cluster that match:', ...r.inhibits.map(inhibit));
  lines.push(...r.warnings.map((w) => `warning: ${w}`));
  return `${lines.join('\n')}\n`;
}

async function routes(values: { alert?: string; config?: string; at?: string; json?: boolean }, env: NodeJS.ProcessEnv, stdin: () => Promise<string>): Promise<CliOutput> {
  if (!values.alert) throw new UsageError('config routes needs --alert FILE (one alert as JSON; - for stdin)');
  let atMs = Date.now();
  if (values.at !== undefined) {
    atMs = Date.parse(values.at);
    if (Number.isNaN(atMs)) throw new UsageError(`--at "${values.at}" is not an ISO-8601 time (e.g. 2026-12-02T21:00:00Z)`);
  }
  let text: string;
  try {
    text = values.alert === '-' ? await stdin() : readFileSync(values.alert, 'utf8');
  } catch (err) {
    throw new UsageError(`--alert ${values.alert}: ${(err as Error).message}`);
  }
  const { alert, facts } = parseAlertFile(text, values.alert);
  const { config, out } = load(values.config, env);
  if (out) return out;
  const report = routesReport(config!, alert, facts, atMs);
  return { code: 0, stdout: values.json ? `${JSON.stringify(report, null, 2)}\n` : routesText(report), stderr: '' };
}

/** `--alert -`: the alert from stdin (node's own stream consumer). */
const readStdin = (): Promise<string> => text(process.stdin);

export async function runConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, stdin: () => Promise<string> = readStdin): Promise<CliOutput> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { alert: { type: 'string' }, config: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
    const [sub, ...rest] = positionals;
    if (values.help || sub === undefined) return { code: values.help ? 0 : 64, stdout: values.help ? CONFIG_USAGE : '', stderr: values.help ? '' : CONFIG_USAGE };
    if (sub === 'check') {
      if (rest.length > 1) throw new UsageError(`unexpected argument "${rest[1]}"`);
      if (values.alert !== undefined || values.at !== undefined) throw new UsageError('--alert and --at belong to config routes');
      return check(rest[0] ?? values.config, env);
    }
    if (sub === 'routes') {
      if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
      return await routes(values, env, stdin);
    }
    throw new UsageError(`unknown config command "${sub}"; use check or routes`);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return { code: 64, stdout: '', stderr: `tocsin config: ${(err as Error).message}\n\n${CONFIG_USAGE}` };
    throw err;
  }
}

export function configMain(argv: string[]): void {
  emit(runConfig(argv));
}
