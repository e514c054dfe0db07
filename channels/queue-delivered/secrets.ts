/**
 * Where a queue-delivered channel's secret (PagerDuty routing key, webhook signing key)
 * comes from: Secrets Manager when deployed (the channel's `secretName`, cached five
 * minutes so that a rotated secret is picked up without a deploy), the environment or
 * tocsin.yaml under `npm start` (read once at start, channels/queue-delivered/local.ts).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

export interface ChannelSecrets {
  /** The channel's secret, as the kind reads it (a routing key, a key list ...). */
  secretOf(channel: string): Promise<string>;
}

export class SecretsManagerChannelSecrets implements ChannelSecrets {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    /** Channel -> secret name. */
    private readonly secretNames: Readonly<Record<string, string>>,
    /** The secret string -> the value, or throws saying what is wrong (never the value). */
    private readonly read: (secretString: string, secretName: string) => string,
    private readonly cacheMs = 5 * 60 * 1000,
  ) {}

  async secretOf(channel: string): Promise<string> {
    const hit = this.cache.get(channel);
    if (hit && hit.until > Date.now()) return hit.value;
    const secretName = this.secretNames[channel];
    if (!secretName) throw new Error(`no secretName configured for channel ${channel}`);
    // Required here, not at the top: reading tocsin.yaml (the CLI) loads this module but never the SDK.
    const { GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager') as typeof import('@aws-sdk/client-secrets-manager');
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretName }));
    const value = this.read((out.SecretString ?? '').trim(), secretName);
    this.cache.set(channel, { value, until: Date.now() + this.cacheMs });
    return value;
  }
}

export class StaticChannelSecrets implements ChannelSecrets {
  constructor(private readonly secrets: Readonly<Record<string, string>>) {}

  async secretOf(channel: string): Promise<string> {
    const value = this.secrets[channel];
    if (value === undefined) throw new Error(`no secret for channel ${channel}`);
    return value;
  }
}

/** A secret string that is the value itself or JSON holding it under `field`. */
export function plainOrJsonField(secretString: string, field: string, secretName: string): string {
  if (!secretString.startsWith('{')) return secretString;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new Error(`secret ${secretName} starts with { but is not JSON`);
  }
  const value = (parsed as Record<string, unknown>)[field];
  if (typeof value !== 'string' || value === '') throw new Error(`secret ${secretName} is JSON without a string "${field}"`);
  return value;
}
