/**
 * `local.smtp` of tocsin.yaml: the SMTP server `npm start` sends email channels through
 * (absent: they are printed). Its JSON Schema (generated into schema/tocsin.schema.json by
 * `npm run schema`), the checks the schema cannot express, and the settings with defaults.
 * The password is never in the file: `passwordEnv` names the environment variable holding
 * it, read when the runner starts (smtpSecrets).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, isAbsolute, resolve } from 'node:path';
import addressparser from 'nodemailer/lib/addressparser';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { JsonSchema } from '../kind';

export const SMTP_TLS_MODES = ['none', 'starttls', 'implicit'] as const;
export type SmtpTls = (typeof SMTP_TLS_MODES)[number];

/** The usual port of each mode: 25 (relay), 587 (submission), 465 (submissions). */
export const SMTP_DEFAULT_PORT: Readonly<Record<SmtpTls, number>> = { none: 25, starttls: 587, implicit: 465 };

/** Retry defaults: 10 s, 20 s, 40 s ... capped at 10 min; the 8th failure dead-letters (≈ 21 min of trying). */
export const SMTP_RETRY_DEFAULTS = { maxAttempts: 8, retryBaseSeconds: 10, retryMaxSeconds: 600 } as const;

export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  readonly tls: SmtpTls;
  /** "ops@example.com" or "Tocsin <ops@example.com>". */
  readonly from: string;
  readonly username?: string;
  /** Name of the environment variable holding the password. */
  readonly passwordEnv?: string;
  /** PEM bundle of the CA(s) to trust besides the system's (absolute path). */
  readonly caFile?: string;
  /** Sends of one email (to one address) before it goes to the dead-letter file. */
  readonly maxAttempts: number;
  /** Wait before the first retry; doubles on each failure. */
  readonly retryBaseSeconds: number;
  /** Longest wait between two attempts. */
  readonly retryMaxSeconds: number;
}

const ENV_NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

export const SMTP_SCHEMA: JsonSchema = {
  description: 'npm start only: send email channels through this SMTP server (absent: notifications are printed).',
  type: 'object',
  additionalProperties: false,
  required: ['host', 'tls', 'from'],
  properties: {
    host: { description: 'SMTP server name or address.', type: 'string', minLength: 1, maxLength: 253, pattern: '^\\S+$' },
    port: { description: 'Default: 25 (tls none), 587 (starttls), 465 (implicit).', type: 'integer', minimum: 1, maximum: 65535 },
    tls: {
      description: 'none: plain SMTP (a relay on this machine); starttls: upgrade required, refused without it; implicit: TLS from the first byte (SMTPS).',
      enum: [...SMTP_TLS_MODES],
    },
    from: { description: 'Sender: "ops@example.com" or "Tocsin <ops@example.com>".', type: 'string', minLength: 3, maxLength: 320 },
    username: { description: 'SMTP AUTH user; needs passwordEnv.', type: 'string', minLength: 1, maxLength: 320 },
    passwordEnv: { description: 'Environment variable holding the SMTP AUTH password (never the password itself).', type: 'string', pattern: ENV_NAME, maxLength: 128 },
    caFile: { description: 'PEM file of a private CA to trust (relative to this file); the system CAs stay trusted.', type: 'string', minLength: 1, maxLength: 4096 },
    maxAttempts: { description: 'Sends of one email before it is written to the dead-letter file.', type: 'integer', minimum: 1, maximum: 100, default: SMTP_RETRY_DEFAULTS.maxAttempts },
    retryBaseSeconds: { description: 'Wait before the first retry; doubles on each failure.', type: 'integer', minimum: 1, maximum: 3600, default: SMTP_RETRY_DEFAULTS.retryBaseSeconds },
    retryMaxSeconds: { description: 'Longest wait between two attempts.', type: 'integer', minimum: 1, maximum: 43200, default: SMTP_RETRY_DEFAULTS.retryMaxSeconds },
  },
  dependencies: { username: ['passwordEnv'], passwordEnv: ['username'] },
};

function isLoopback(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}

/** The address of one mailbox, with or without a display name; undefined if it is not one. */
export function mailboxAddress(value: string): string | undefined {
  const parsed = addressparser(value);
  const [one] = parsed;
  if (parsed.length !== 1 || !one || !('address' in one) || typeof one.address !== 'string') return undefined;
  return /^[^@\s]+@[^@\s]+$/.test(one.address) ? one.address : undefined;
}

/** What the schema cannot check; paths relative to `local.smtp` (raw: already schema-valid). */
export function smtpIssues(raw: Readonly<Record<string, unknown>>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (typeof raw.from === 'string' && mailboxAddress(raw.from) === undefined) {
    issues.push({ path: ['from'], reason: 'must be one address ("ops@example.com") or a name and one address ("Tocsin <ops@example.com>")' });
  }
  if (raw.username !== undefined && raw.tls === 'none' && typeof raw.host === 'string' && !isLoopback(raw.host)) {
    issues.push({ path: ['tls'], reason: `tls none would send the password in clear to ${raw.host}: use starttls or implicit (none is for a relay on this machine)` });
  }
  const base = (raw.retryBaseSeconds as number | undefined) ?? SMTP_RETRY_DEFAULTS.retryBaseSeconds;
  const max = (raw.retryMaxSeconds as number | undefined) ?? SMTP_RETRY_DEFAULTS.retryMaxSeconds;
  if (max < base) issues.push({ path: ['retryMaxSeconds'], reason: `must be at least retryBaseSeconds (${base})` });
  return issues;
}

/** The settings with defaults applied; `caFile` resolved against the directory of the config file. */
export function readSmtpSettings(raw: Readonly<Record<string, unknown>>, configFile: string): SmtpSettings {
  const tls = raw.tls as SmtpTls;
  const caFile = raw.caFile as string | undefined;
  return {
    host: raw.host as string,
    port: (raw.port as number | undefined) ?? SMTP_DEFAULT_PORT[tls],
    tls,
    from: raw.from as string,
    ...(raw.username !== undefined ? { username: raw.username as string, passwordEnv: raw.passwordEnv as string } : {}),
    ...(caFile !== undefined ? { caFile: isAbsolute(caFile) ? caFile : resolve(dirname(configFile), caFile) } : {}),
    maxAttempts: (raw.maxAttempts as number | undefined) ?? SMTP_RETRY_DEFAULTS.maxAttempts,
    retryBaseSeconds: (raw.retryBaseSeconds as number | undefined) ?? SMTP_RETRY_DEFAULTS.retryBaseSeconds,
    retryMaxSeconds: (raw.retryMaxSeconds as number | undefined) ?? SMTP_RETRY_DEFAULTS.retryMaxSeconds,
  };
}

export interface SmtpSecrets {
  readonly auth?: { user: string; pass: string };
  readonly ca?: string;
}

/**
 * What the runner reads when it starts: the password from the environment and the CA
 * bundle from its file. Each problem is a config issue (path relative to `local.smtp`).
 */
export function smtpSecrets(settings: SmtpSettings, env: NodeJS.ProcessEnv): { secrets: SmtpSecrets; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  let auth: SmtpSecrets['auth'];
  let ca: string | undefined;
  if (settings.username !== undefined && settings.passwordEnv !== undefined) {
    const pass = env[settings.passwordEnv];
    if (pass === undefined || pass === '') issues.push({ path: ['passwordEnv'], reason: `the environment variable ${settings.passwordEnv} (the SMTP password) is not set` });
    else auth = { user: settings.username, pass };
  }
  if (settings.caFile !== undefined) {
    try {
      ca = readFileSync(settings.caFile, 'utf8');
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) issues.push({ path: ['caFile'], reason: `${settings.caFile} holds no PEM certificate` });
    } catch (err) {
      issues.push({ path: ['caFile'], reason: `cannot read ${settings.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  return { secrets: { ...(auth ? { auth } : {}), ...(ca !== undefined ? { ca } : {}) }, issues };
}
