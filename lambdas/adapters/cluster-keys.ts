/** ClusterKeys adapters: SSM Parameter Store SecureString parameters in AWS, a JSON file locally. */
import { readFileSync } from 'node:fs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { secureParameterValue } from './parameter-values';
import type { ClusterKeys } from '../app/credentials';

const CACHE_MS = 5 * 60 * 1000;
/**
 * A request naming a key the cached parameter lacks (a key rotation: nodes got the new key
 * right after put-parameter --overwrite) reads the parameter again, at most this often per cluster:
 * anybody can send such a request.
 */
export const FRESH_READ_INTERVAL_MS = 30 * 1000;

/** `${prefix}${cluster}` holds the key, or "NEW OLD" while a rotation is under way (domain/signing.ts keyList). */
export class SsmClusterKeys implements ClusterKeys {
  private readonly cache = new Map<string, { key: string; until: number; readAt: number }>();

  constructor(
    private readonly client: SSMClient,
    private readonly parameterPrefix: string,
    private readonly clusters: ReadonlySet<string>,
  ) {}

  async keyFor(cluster: string, opts?: { fresh?: boolean }): Promise<string | undefined> {
    // Unknown clusters never reach Parameter Store: no lookups driven by callers.
    if (!this.clusters.has(cluster)) return undefined;
    const cached = this.cache.get(cluster);
    const now = Date.now();
    const stale = !cached || cached.until <= now || (opts?.fresh === true && now - cached.readAt >= FRESH_READ_INTERVAL_MS);
    if (!stale) return cached.key;
    const name = `${this.parameterPrefix}${cluster}`;
    const key = await secureParameterValue(this.client, name);
    // The stack creates every cluster's parameter: one missing or empty is a broken deployment, not a bad request.
    if (!key) throw new Error(`parameter ${name} of cluster ${cluster} is missing or empty`);
    this.cache.set(cluster, { key, until: Date.now() + CACHE_MS, readAt: Date.now() });
    return key;
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
