/**
 * Configuration: command-line flags > TOCSIN_* environment > --config JSON file > defaults.
 * Env beats the file so one shared file can be overridden per watch/handler.
 */
import { accessSync, constants, lstatSync, mkdirSync, readFileSync, type Stats } from 'node:fs';
import type * as os from 'node:os';
import { CLUSTER_NAME_PATTERN } from '../../lambdas/domain/protocol';
import { keyList } from '../../lambdas/domain/signing';
import type { CliArgs } from './args';

export class ConfigError extends Error {}

export interface Config {
  url: URL;
  cluster: string;
  /** The signing key: the first of TOCSIN_KEY's white-space separated keys (domain/signing keyList). */
  key: string;
  /** Explicit reporting node name; the envelope builder falls back per source. */
  node?: string;
  scope?: string;
  timeoutMs: number;
  spoolDir: string;
  spoolMaxBytes: number;
  spoolMaxFiles: number;
  /** `checks` watches: a whole list at least every N sends (1: never a delta). */
  fullEvery: number;
  /** `checks` watches: a whole list at least every this many seconds. */
  fullIntervalS: number;
}

/** config-file key -> environment variable. */
export const SETTINGS = {
  url: 'TOCSIN_URL',
  cluster: 'TOCSIN_CLUSTER',
  key: 'TOCSIN_KEY',
  node: 'TOCSIN_NODE',
  scope: 'TOCSIN_SCOPE',
  timeoutMs: 'TOCSIN_TIMEOUT_MS',
  spoolDir: 'TOCSIN_SPOOL_DIR',
  spoolMaxBytes: 'TOCSIN_SPOOL_MAX_BYTES',
  spoolMaxFiles: 'TOCSIN_SPOOL_MAX_FILES',
  fullEvery: 'TOCSIN_FULL_EVERY',
  fullIntervalS: 'TOCSIN_FULL_INTERVAL_S',
} as const;
type Setting = keyof typeof SETTINGS;

export const DEFAULTS = {
  timeoutMs: 5000,
  spoolMaxBytes: 100 * 1024 * 1024,
  spoolMaxFiles: 10000,
  spoolDir: '/var/spool/tocsin',
  fullEvery: 100,
  fullIntervalS: 3600,
} as const;

type Raw = Partial<Record<Setting, { value: string; from: string }>>;

function readFile(path: string): Raw {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ConfigError(`config file ${path} must hold a JSON object`);
  const raw: Raw = {};
  for (const [k, v] of Object.entries(data)) {
    // Unknown keys are errors: a typo ("timeout") must not silently fall back to a default.
    if (!(k in SETTINGS)) throw new ConfigError(`config file ${path}: unknown key "${k}" (known: ${Object.keys(SETTINGS).join(', ')})`);
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`config file ${path}: "${k}" must be a string or number`);
    raw[k as Setting] = { value: String(v), from: `"${k}" in ${path}` };
  }
  return raw;
}

function positiveInt(raw: { value: string; from: string } | undefined, dflt: number): number {
  if (!raw) return dflt;
  if (!/^\d{1,15}$/.test(raw.value) || Number(raw.value) <= 0) throw new ConfigError(`${raw.from} must be a positive integer, got "${raw.value}"`);
  return Number(raw.value);
}

export function loadConfig(args: CliArgs, env: NodeJS.ProcessEnv): Config {
  const raw: Raw = args.config ? readFile(args.config) : {};
  for (const [k, name] of Object.entries(SETTINGS) as Array<[Setting, string]>) {
    const v = env[name];
    if (v !== undefined && v !== '') raw[k] = { value: v, from: name };
  }
  if (args.timeoutMs !== undefined) raw.timeoutMs = { value: args.timeoutMs, from: '--timeout-ms' };
  if (args.scope !== undefined) raw.scope = { value: args.scope, from: '--scope' };

  const missing = (['url', 'cluster', 'key'] as const).filter((k) => !raw[k]).map((k) => SETTINGS[k]);
  if (missing.length > 0) {
    throw new ConfigError(`missing ${missing.join(', ')} (set the environment variable${missing.length > 1 ? 's' : ''} or the matching key in a --config file)`);
  }
  const urlRaw = raw.url!;
  let url: URL;
  try {
    url = new URL(urlRaw.value);
  } catch {
    throw new ConfigError(`${urlRaw.from} is not a valid URL: "${urlRaw.value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`${urlRaw.from} must be an http:// or https:// URL`);
  if (url.username || url.password) throw new ConfigError(`${urlRaw.from} must not contain credentials`);

  const cluster = raw.cluster!;
  if (!CLUSTER_NAME_PATTERN.test(cluster.value)) throw new ConfigError(`${cluster.from} must be 1-63 letters, digits, ".", "_" or "-" (got "${cluster.value}")`);
  if (raw.scope && !CLUSTER_NAME_PATTERN.test(raw.scope.value)) throw new ConfigError(`${raw.scope.from} must be 1-63 letters, digits, ".", "_" or "-" (got "${raw.scope.value}")`);
  if (raw.node && raw.node.value.length > 256) throw new ConfigError(`${raw.node.from} must be at most 256 characters`);
  // The cluster's secret as stored: during a key rotation it lists the new key first.
  const key = keyList(raw.key!.value)[0];
  if (key === undefined) throw new ConfigError(`${raw.key!.from} is blank`);

  return {
    url,
    cluster: cluster.value,
    key,
    node: raw.node?.value,
    scope: raw.scope?.value,
    timeoutMs: positiveInt(raw.timeoutMs, DEFAULTS.timeoutMs),
    spoolDir: raw.spoolDir?.value ?? defaultSpoolDir(),
    spoolMaxBytes: positiveInt(raw.spoolMaxBytes, DEFAULTS.spoolMaxBytes),
    spoolMaxFiles: positiveInt(raw.spoolMaxFiles, DEFAULTS.spoolMaxFiles),
    fullEvery: positiveInt(raw.fullEvery, DEFAULTS.fullEvery),
    fullIntervalS: positiveInt(raw.fullIntervalS, DEFAULTS.fullIntervalS),
  };
}

/**
 * /var/spool/tocsin when this user can write there (created if /var/spool allows),
 * else a private per-user directory under the temp dir. The per-user name and the
 * ownership check matter: spooled envelopes are signed with our key at send time,
 * so nobody else may be able to drop files into the spool.
 */
export function defaultSpoolDir(): string {
  const primary = DEFAULTS.spoolDir;
  try {
    mkdirSync(primary, { mode: 0o700 });
  } catch {
    /* exists already, or /var/spool is not writable for us */
  }
  try {
    accessSync(primary, constants.W_OK | constants.X_OK);
    return primary;
  } catch {
    /* fall back */
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
  const fallback = `${(require('node:os') as typeof os).tmpdir()}/tocsin-spool${uid === undefined ? '' : `-${uid}`}`;
  try {
    mkdirSync(fallback, { mode: 0o700 });
  } catch {
    /* exists */
  }
  let st: Stats;
  try {
    st = lstatSync(fallback);
  } catch (e) {
    throw new ConfigError(`cannot create spool directory ${fallback}: ${(e as Error).message}; set TOCSIN_SPOOL_DIR`);
  }
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o022) !== 0) {
    throw new ConfigError(`refusing to use ${fallback} as spool: not a private directory owned by this user; set TOCSIN_SPOOL_DIR`);
  }
  return fallback;
}
