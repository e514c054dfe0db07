/**
 * Deployment configuration for tocsin, read from CDK context and validated
 * before any construct is created. Every problem is reported as a ConfigError
 * naming the context key, so `cdk synth` fails with an actionable message.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import type { Severity } from '../lambdas/domain/types';

/** CDK context keys understood by the tocsin app (`cdk synth -c key=value` or cdk.json "context"). */
export const CONTEXT_KEYS = {
  /** Clusters that may send events; one HMAC secret each. */
  clusters: 'tocsin:clusters',
  /** Email recipients of alerts, each optionally with a minimum severity. */
  emails: 'tocsin:emails',
  /** Email recipients of operational alarms; defaults to the addresses of tocsin:emails. */
  opsEmails: 'tocsin:opsEmails',
  /** HTTP API default-stage steady-state rate limit (requests/second). */
  throttleRateLimit: 'tocsin:throttleRateLimit',
  /** HTTP API default-stage burst limit (requests). */
  throttleBurstLimit: 'tocsin:throttleBurstLimit',
  /** Reserved concurrency for the ingest Lambda; unset = unreserved. */
  reservedConcurrency: 'tocsin:reservedConcurrency',
  /** Retention of the Lambda and API access log groups, in days. */
  logRetentionDays: 'tocsin:logRetentionDays',
} as const;

export type ContextKey = (typeof CONTEXT_KEYS)[keyof typeof CONTEXT_KEYS];

/** Severity ranks: a subscriber with minimum severity S receives every severity ranked >= S. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 1, warning: 2, critical: 3 };
export const SEVERITIES = Object.keys(SEVERITY_RANK) as Severity[];

/** Cluster names become secret names and env values; keep them boring. */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/**
 * The cluster list travels in one Lambda environment variable (4 KB limit for all
 * variables) and each cluster adds two stack outputs (200 outputs per stack).
 */
export const MAX_CLUSTERS = 50;
/** Deliberately simple: one @, no whitespace/comma/colon, a dot in the domain. */
export const EMAIL_PATTERN = /^[^\s@,:;<>"'()[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export interface EmailRecipient {
  readonly address: string;
  /** Lowest severity delivered; undefined = every alert (no filter policy). */
  readonly minSeverity?: Severity;
}

export interface TocsinConfig {
  readonly clusters: readonly string[];
  readonly alertEmails: readonly EmailRecipient[];
  readonly opsEmails: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly reservedConcurrency?: number;
  readonly logRetention: RetentionDays;
}

export const DEFAULTS = {
  clusters: ['default'],
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  logRetentionDays: 90,
} as const;

export class ConfigError extends Error {
  constructor(
    readonly key: ContextKey,
    detail: string,
  ) {
    super(`Invalid CDK context "${key}": ${detail}`);
    this.name = 'ConfigError';
  }
}

/** Read and validate the configuration from the construct tree's context. */
export function readConfig(scope: IConstruct): TocsinConfig {
  const get = (key: ContextKey): unknown => scope.node.tryGetContext(key);
  return parseConfig(get);
}

/** Pure variant of readConfig, for callers that hold context in a plain object. */
export function parseConfig(get: (key: ContextKey) => unknown): TocsinConfig {
  const clusters = parseClusters(get(CONTEXT_KEYS.clusters));
  const alertEmails = parseAlertEmails(get(CONTEXT_KEYS.emails));
  const opsRaw = get(CONTEXT_KEYS.opsEmails);
  const opsEmails = isUnset(opsRaw) ? dedupe(alertEmails.map((r) => r.address)) : parseOpsEmails(opsRaw);
  const rateLimit = parseNumber(CONTEXT_KEYS.throttleRateLimit, get(CONTEXT_KEYS.throttleRateLimit), DEFAULTS.throttleRateLimit, {
    min: 1,
    max: 10_000,
    integer: false,
  });
  const burstLimit = parseNumber(CONTEXT_KEYS.throttleBurstLimit, get(CONTEXT_KEYS.throttleBurstLimit), DEFAULTS.throttleBurstLimit, {
    min: 1,
    max: 5_000,
    integer: true,
  });
  const reservedRaw = get(CONTEXT_KEYS.reservedConcurrency);
  const reservedConcurrency = isUnset(reservedRaw)
    ? undefined
    : parseNumber(CONTEXT_KEYS.reservedConcurrency, reservedRaw, 0, { min: 1, max: 10_000, integer: true });
  const retentionDays = parseNumber(CONTEXT_KEYS.logRetentionDays, get(CONTEXT_KEYS.logRetentionDays), DEFAULTS.logRetentionDays, {
    min: 1,
    max: 3653,
    integer: true,
  });
  return {
    clusters,
    alertEmails,
    opsEmails,
    throttle: { rateLimit, burstLimit },
    reservedConcurrency,
    logRetention: toRetentionDays(retentionDays),
  };
}

function isUnset(raw: unknown): boolean {
  return raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '');
}

/** A context value may be a comma-separated string, a JSON array in a string, or a real array (cdk.json). */
function toList(key: ContextKey, raw: unknown): unknown[] {
  if (isUnset(raw)) return [];
  if (Array.isArray(raw)) return raw;
  if (typeof raw !== 'string') {
    throw new ConfigError(key, `expected a comma-separated string or a JSON array, got ${typeof raw}`);
  }
  const text = raw.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(key, `looks like a JSON array but does not parse: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed)) throw new ConfigError(key, 'expected a JSON array');
    return parsed;
  }
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function parseClusters(raw: unknown): string[] {
  const key = CONTEXT_KEYS.clusters;
  const items = toList(key, raw);
  if (items.length === 0) return [...DEFAULTS.clusters];
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item !== 'string') throw new ConfigError(key, `cluster names must be strings, got ${JSON.stringify(item)}`);
    if (!CLUSTER_NAME_PATTERN.test(item)) {
      throw new ConfigError(key, `cluster name ${JSON.stringify(item)} must match ${CLUSTER_NAME_PATTERN}`);
    }
    if (seen.has(item)) throw new ConfigError(key, `cluster ${JSON.stringify(item)} is listed twice`);
    seen.add(item);
  }
  if (seen.size > MAX_CLUSTERS) throw new ConfigError(key, `at most ${MAX_CLUSTERS} clusters per deployment, got ${seen.size}`);
  return [...seen];
}

function parseSeverity(key: ContextKey, value: unknown, where: string): Severity {
  if (typeof value === 'string' && (SEVERITIES as string[]).includes(value.toLowerCase())) {
    return value.toLowerCase() as Severity;
  }
  throw new ConfigError(key, `${where}: minimum severity ${JSON.stringify(value)} must be one of ${SEVERITIES.join('|')}`);
}

function checkEmail(key: ContextKey, address: unknown): string {
  if (typeof address !== 'string' || !EMAIL_PATTERN.test(address)) {
    throw new ConfigError(key, `${JSON.stringify(address)} is not a valid email address`);
  }
  return address;
}

function parseAlertEmails(raw: unknown): EmailRecipient[] {
  const key = CONTEXT_KEYS.emails;
  const out: EmailRecipient[] = [];
  for (const item of toList(key, raw)) {
    let address: string;
    let minSeverity: Severity | undefined;
    if (typeof item === 'string') {
      // `addr` or `addr:severity`; an email address itself never contains ':'.
      const idx = item.lastIndexOf(':');
      address = checkEmail(key, idx === -1 ? item.trim() : item.slice(0, idx).trim());
      if (idx !== -1) minSeverity = parseSeverity(key, item.slice(idx + 1).trim(), address);
    } else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const obj = item as Record<string, unknown>;
      address = checkEmail(key, obj.email ?? obj.address);
      const sev = obj.minSeverity ?? obj.severity;
      if (sev !== undefined) minSeverity = parseSeverity(key, sev, address);
    } else {
      throw new ConfigError(key, `entries must be "address[:severity]" strings or {"email","minSeverity"} objects, got ${JSON.stringify(item)}`);
    }
    if (out.some((r) => r.address.toLowerCase() === address.toLowerCase())) {
      throw new ConfigError(key, `${address} is listed twice`);
    }
    // "info" is the lowest severity: the same as no filter.
    out.push({ address, minSeverity: minSeverity === 'info' ? undefined : minSeverity });
  }
  return out;
}

function parseOpsEmails(raw: unknown): string[] {
  const key = CONTEXT_KEYS.opsEmails;
  const out: string[] = [];
  for (const item of toList(key, raw)) {
    const address = checkEmail(key, typeof item === 'string' ? item.trim() : item);
    if (out.some((a) => a.toLowerCase() === address.toLowerCase())) throw new ConfigError(key, `${address} is listed twice`);
    out.push(address);
  }
  return out;
}

function dedupe(addresses: string[]): string[] {
  const out: string[] = [];
  for (const a of addresses) if (!out.some((b) => b.toLowerCase() === a.toLowerCase())) out.push(a);
  return out;
}

function parseNumber(
  key: ContextKey,
  raw: unknown,
  fallback: number,
  opts: { min: number; max: number; integer: boolean },
): number {
  if (isUnset(raw)) return fallback;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < opts.min || n > opts.max) {
    throw new ConfigError(
      key,
      `${JSON.stringify(raw)} must be ${opts.integer ? 'an integer' : 'a number'} between ${opts.min} and ${opts.max}`,
    );
  }
  return n;
}

function toRetentionDays(days: number): RetentionDays {
  const allowed = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE);
  if (!allowed.includes(days)) {
    throw new ConfigError(
      CONTEXT_KEYS.logRetentionDays,
      `${days} is not a CloudWatch Logs retention period; use one of ${[...allowed].sort((a, b) => a - b).join(', ')}`,
    );
  }
  return days as RetentionDays;
}
