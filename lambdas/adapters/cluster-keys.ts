/** ClusterKeys adapters: Secrets Manager in AWS, a JSON file locally. */
import { readFileSync } from 'node:fs';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall } from './aws-errors';
import type { ClusterKeys } from '../app/credentials';

const CACHE_MS = 5 * 60 * 1000;
/**
 * A request naming a key the cached secret lacks (a key rotation: nodes got the new key
 * right after put-secret-value) reads the secret again, at most this often per cluster:
 * anybody can send such a request.
 */
export const FRESH_READ_INTERVAL_MS = 30 * 1000;

export class SecretsManagerClusterKeys implements ClusterKeys {
  private readonly cache = new Map<string, { key: string; until: number; readAt: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretPrefix: string,
    private readonly clusters: ReadonlySet<string>,
  ) {}

  async keyFor(cluster: string, opts?: { fresh?: boolean }): Promise<string | undefined> {
    // Unknown clusters never reach Secrets Manager: no lookups driven by callers.
    if (!this.clusters.has(cluster)) return undefined;
    const cached = this.cache.get(cluster);
    const now = Date.now();
    const stale = !cached || cached.until <= now || (opts?.fresh === true && now - cached.readAt >= FRESH_READ_INTERVAL_MS);
    if (!stale) return cached.key;
    const out = await awsCall(this.client.send(new GetSecretValueCommand({ SecretId: `${this.secretPrefix}${cluster}` })));
    if (!out.SecretString) throw new Error(`secret for cluster ${cluster} has no string value`);
    this.cache.set(cluster, { key: out.SecretString, until: Date.now() + CACHE_MS, readAt: Date.now() });
    return out.SecretString;
  }
}

/** `{ "<cluster>": "<key>" }`, read once. */
export class StaticClusterKeys implements ClusterKeys {
  constructor(private readonly keysByCluster: Readonly<Record<string, string>>) {}

  static fromFile(path: string): StaticClusterKeys {
    return new StaticClusterKeys(JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>);
  }

  async keyFor(cluster: string): Promise<string | undefined> {
    return Object.prototype.hasOwnProperty.call(this.keysByCluster, cluster) ? this.keysByCluster[cluster] : undefined;
  }
}
