/**
 * Where a deployed channel keeps its secret (a Slack webhook URL or bot token, a PagerDuty
 * routing key, a webhook signing key, a Teams workflow URL): an SSM Parameter Store
 * SecureString parameter (`secretParameter`, `botTokenParameter`: standard tier, no charge)
 * or a Secrets Manager secret (`secretName`, `botTokenSecret`: $0.40 a month, as before
 * 2026-12). Exactly one of each pair. The config keys, their schema and checks live here,
 * once for every kind; the reading is channels/queue-delivered/secrets.ts, the grants
 * lib/channel-secrets.ts. No SDK: the CLI loads this module to read tocsin.yaml.
 */
import type { ConfigIssue } from '../lambdas/domain/rules/config';

export type SecretStore = 'parameterStore' | 'secretsManager';

export interface SecretLocation {
  readonly store: SecretStore;
  readonly name: string;
}

/** The two keys of tocsin.yaml that can name one channel secret. */
export interface SecretKeys {
  /** Names an SSM SecureString parameter (secretParameter, botTokenParameter). */
  readonly parameter: string;
  /** Names a Secrets Manager secret (secretName, botTokenSecret). */
  readonly secret: string;
}

export const CHANNEL_SECRET_KEYS: SecretKeys = { parameter: 'secretParameter', secret: 'secretName' };
export const SLACK_BOT_TOKEN_KEYS: SecretKeys = { parameter: 'botTokenParameter', secret: 'botTokenSecret' };

/**
 * The longest parameter name AWS accepts on PutParameter: 1011 characters (the "2048" of the
 * API reference includes 1037 reserved for Systems Manager; docs "Understanding parameter
 * name requirements and constraints"). AWS also counts the ARN's prefix in the 1011; the
 * region is unknown here, so a name just under the limit may still be refused by AWS.
 */
export const PARAMETER_NAME_MAX_CHARS = 1011;
/** Hierarchies are at most fifteen levels deep. */
export const PARAMETER_NAME_MAX_LEVELS = 15;

/** "parameter /tocsin/slack/team" or "secret tocsin/slack/team": how errors name it (never its value). */
export function describeSecretLocation(location: SecretLocation): string {
  return `${location.store === 'parameterStore' ? 'parameter' : 'secret'} ${location.name}`;
}

/**
 * What is wrong with a parameter name, per AWS's rules for names you create: only
 * a-zA-Z0-9_.- and / between levels, fully qualified (a name with a / starts with one),
 * no "aws" or "ssm" prefix (case-insensitive, those are AWS's own), at most 15 levels.
 * Undefined when it is fine.
 */
export function parameterNameIssue(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > PARAMETER_NAME_MAX_CHARS) return `is longer than ${PARAMETER_NAME_MAX_CHARS} characters, the longest SSM parameter name`;
  const bad = [...new Set(name.replace(/[A-Za-z0-9_.\-/]/g, ''))];
  if (bad.length > 0) return `has ${bad.map((c) => JSON.stringify(c)).join(', ')}: an SSM parameter name has only letters, digits, _ . - and / between levels`;
  if (name.includes('/') && !name.startsWith('/')) return `must start with "/" when it has levels (/${name}): SSM names a parameter in a hierarchy by its full path`;
  if (name.split('/').some((level, i) => i > 0 && level === '')) return 'has an empty level (//, or nothing after a /)';
  if (/^\/?(aws|ssm)/i.test(name)) return 'starts with "aws" or "ssm": SSM keeps those prefixes for its own parameters';
  if (name.split('/').filter(Boolean).length > PARAMETER_NAME_MAX_LEVELS) return `has more than ${PARAMETER_NAME_MAX_LEVELS} levels, the deepest SSM hierarchy`;
  return undefined;
}

/** The schema of both keys of a pair; `what` says what the secret holds ("the webhook URL (or JSON {"url": ...})"). */
export function secretKeysSchema(keys: SecretKeys, what: string, required: string): Record<string, Readonly<Record<string, unknown>>> {
  return {
    [keys.parameter]: {
      description: `SSM Parameter Store SecureString parameter holding ${what} (/path/name or name; standard tier, no charge); ${required}, or ${keys.secret}.`,
      type: 'string',
      minLength: 1,
      maxLength: PARAMETER_NAME_MAX_CHARS,
    },
    [keys.secret]: {
      description: `Secrets Manager secret holding ${what} ($0.40 a month: prefer ${keys.parameter}); ${required}, or ${keys.parameter}.`,
      type: 'string',
      pattern: '^[A-Za-z0-9/_+=.@-]{1,512}$',
    },
  };
}

/** A channel spec (its interface has no index signature). */
type WithKeys = object;
const keyOf = (spec: WithKeys, key: string): unknown => (spec as Record<string, unknown>)[key];

/** What the schema cannot say about a pair: both given, a parameter name AWS would refuse. Paths relative to the channel. */
export function secretKeyIssues(spec: WithKeys, keys: SecretKeys): ConfigIssue[] {
  const parameter = keyOf(spec, keys.parameter);
  const issues: ConfigIssue[] = [];
  if (parameter !== undefined && keyOf(spec, keys.secret) !== undefined) {
    issues.push({ path: [keys.parameter], reason: `give ${keys.parameter} (an SSM parameter) or ${keys.secret} (a Secrets Manager secret), not both` });
  }
  if (typeof parameter === 'string') {
    const issue = parameterNameIssue(parameter);
    if (issue) issues.push({ path: [keys.parameter], reason: `the parameter name ${issue}` });
  }
  return issues;
}

/** Where the pair says the secret is; undefined when neither key is given. */
export function secretLocationOf(spec: WithKeys, keys: SecretKeys): SecretLocation | undefined {
  const parameter = keyOf(spec, keys.parameter);
  if (typeof parameter === 'string') return { store: 'parameterStore', name: parameter };
  const secret = keyOf(spec, keys.secret);
  if (typeof secret === 'string') return { store: 'secretsManager', name: secret };
  return undefined;
}

/** The pair as the Lambdas get it (forLambda): whichever key is given. */
export function secretKeysForLambda(spec: WithKeys, keys: SecretKeys): Record<string, string> {
  const location = secretLocationOf(spec, keys);
  if (!location) return {};
  return { [location.store === 'parameterStore' ? keys.parameter : keys.secret]: location.name };
}

/** The deploy-time issue of a channel that names neither key. */
export function missingSecretIssue(keys: SecretKeys, channel: string, holding: string): ConfigIssue {
  return {
    path: [keys.parameter],
    reason: `${channel} needs ${keys.parameter} (the SSM SecureString parameter holding ${holding}) or ${keys.secret} (a Secrets Manager secret) to be deployed`,
  };
}

/** Channel -> where its secret is, for the channels that name one. */
export function channelSecretLocations(channels: Readonly<Record<string, WithKeys>>, keys: SecretKeys = CHANNEL_SECRET_KEYS): Record<string, SecretLocation> {
  return Object.fromEntries(Object.entries(channels).flatMap(([name, spec]) => {
    const location = secretLocationOf(spec, keys);
    return location ? [[name, location]] : [];
  }));
}
