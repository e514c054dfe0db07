/**
 * Where a deployed channel's secret (Slack webhook URL or bot token, PagerDuty routing key,
 * webhook signing key, Teams workflow URL) is read: an SSM Parameter Store SecureString
 * parameter (GetParameter WithDecryption) or a Secrets Manager secret (GetSecretValue), as
 * the channel names it (channels/secret-location.ts); each value cached five minutes, so a
 * rotated one is picked up without a deploy. Under `npm start` the environment or
 * tocsin.yaml (read once at start, channels/queue-delivered/local.ts).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { describeSecretLocation, type SecretLocation } from '../secret-location';

export interface ChannelSecrets {
  /** The channel's secret, as the kind reads it (a routing key, a key list ...). */
  secretOf(channel: string): Promise<string>;
}

/** The stored string -> the value, or throws saying what is wrong, naming `from` ("parameter /x", "secret x"), never the value. */
export type ReadSecret = (stored: string, from: string) => string;

export const CHANNEL_SECRET_CACHE_MS = 5 * 60 * 1000;

/** One store's reads, cached per channel. */
abstract class CachedChannelSecrets implements ChannelSecrets {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    /** Channel -> the name in this store. */
    private readonly names: Readonly<Record<string, string>>,
    private readonly read: ReadSecret,
    private readonly cacheMs: number,
    private readonly store: SecretLocation['store'],
  ) {}

  /** The stored string; undefined when there is no such parameter or secret. */
  protected abstract fetch(name: string): Promise<string | undefined>;

  async secretOf(channel: string): Promise<string> {
    const hit = this.cache.get(channel);
    if (hit && hit.until > Date.now()) return hit.value;
    const name = this.names[channel];
    const where = this.store === 'parameterStore' ? 'SSM parameter' : 'Secrets Manager secret';
    if (!name) throw new Error(`no ${where} configured for channel ${channel}`);
    const from = describeSecretLocation({ store: this.store, name });
    const stored = await this.fetch(name);
    if (stored === undefined) throw new Error(`${from} (channel ${channel}) does not exist: create it (README "Deploying to AWS")`);
    const value = this.read(stored.trim(), from);
    this.cache.set(channel, { value, until: Date.now() + this.cacheMs });
    return value;
  }
}

/** Parameter Store: a SecureString parameter, decrypted (aws/ssm); the client with PARAMETER_STORE_CLIENT's retries. */
export class ParameterStoreChannelSecrets extends CachedChannelSecrets {
  constructor(
    private readonly client: SSMClient,
    parameterNames: Readonly<Record<string, string>>,
    read: ReadSecret,
    cacheMs = CHANNEL_SECRET_CACHE_MS,
  ) {
    super(parameterNames, read, cacheMs, 'parameterStore');
  }

  protected fetch(name: string): Promise<string | undefined> {
    // Required here, not at the top: reading tocsin.yaml (the CLI) loads this module but never the SDK.
    const { secureParameterValue } = require('../../lambdas/adapters/parameter-values') as typeof import('../../lambdas/adapters/parameter-values');
    return secureParameterValue(this.client, name);
  }
}

export class SecretsManagerChannelSecrets extends CachedChannelSecrets {
  constructor(
    private readonly client: SecretsManagerClient,
    secretNames: Readonly<Record<string, string>>,
    read: ReadSecret,
    cacheMs = CHANNEL_SECRET_CACHE_MS,
  ) {
    super(secretNames, read, cacheMs, 'secretsManager');
  }

  protected async fetch(name: string): Promise<string | undefined> {
    const { GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    try {
      const out = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      return out.SecretString ?? '';
    } catch (err) {
      if ((err as { name?: string } | null)?.name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }
}

/** The clients a deployed channel's secrets are read with, made on first use. */
export interface SecretClients {
  parameters(): SSMClient;
  secrets(): SecretsManagerClient;
}

/** Each channel's secret from the store its location names. */
export class DeployedChannelSecrets implements ChannelSecrets {
  private readonly parameterStore: ChannelSecrets;
  private readonly secretsManager: ChannelSecrets;
  private readonly stores: Readonly<Record<string, SecretLocation['store']>>;

  constructor(clients: SecretClients, locations: Readonly<Record<string, SecretLocation>>, read: ReadSecret, cacheMs = CHANNEL_SECRET_CACHE_MS) {
    const namesIn = (store: SecretLocation['store']) => Object.fromEntries(Object.entries(locations).flatMap(([channel, l]) => (l.store === store ? [[channel, l.name]] : [])));
    this.stores = Object.fromEntries(Object.entries(locations).map(([channel, l]) => [channel, l.store]));
    // A store no channel uses makes no client.
    this.parameterStore = lazily(() => new ParameterStoreChannelSecrets(clients.parameters(), namesIn('parameterStore'), read, cacheMs));
    this.secretsManager = lazily(() => new SecretsManagerChannelSecrets(clients.secrets(), namesIn('secretsManager'), read, cacheMs));
  }

  secretOf(channel: string): Promise<string> {
    const store = this.stores[channel];
    if (!store) return Promise.reject(new Error(`no secret configured for channel ${channel} (secretParameter or secretName)`));
    return (store === 'parameterStore' ? this.parameterStore : this.secretsManager).secretOf(channel);
  }
}

function lazily(make: () => ChannelSecrets): ChannelSecrets {
  let made: ChannelSecrets | undefined;
  return { secretOf: (channel) => (made ??= make()).secretOf(channel) };
}

export class StaticChannelSecrets implements ChannelSecrets {
  constructor(private readonly secrets: Readonly<Record<string, string>>) {}

  async secretOf(channel: string): Promise<string> {
    const value = this.secrets[channel];
    if (value === undefined) throw new Error(`no secret for channel ${channel}`);
    return value;
  }
}

/** A stored string that is the value itself or JSON holding it under `field`; `from` names where it is ("parameter /x"). */
export function plainOrJsonField(stored: string, field: string, from: string): string {
  if (!stored.startsWith('{')) return stored;
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    throw new Error(`${from} starts with { but is not JSON`);
  }
  const value = (parsed as Record<string, unknown>)[field];
  if (typeof value !== 'string' || value === '') throw new Error(`${from} is JSON without a string "${field}"`);
  return value;
}
