/**
 * ConsulTokens adapters: SSM Parameter Store in AWS (one SecureString parameter per cluster
 * holding the token's SHA-256), a JSON file of digests locally. Tokens themselves are never stored.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { secureParameterValue } from './parameter-values';
import type { ConsulTokens } from '../app/credentials';
import { SECRET_SUFFIXES } from '../commons/deployment';
import { tokenDigest, tokenMatches } from '../domain/consul/tokens';

const CACHE_MS = 5 * 60 * 1000;

export function consulTokenParameterName(prefix: string, cluster: string): string {
  return `${prefix}${cluster}${SECRET_SUFFIXES.consulHttpToken}`;
}

export class SsmConsulTokens implements ConsulTokens {
  private readonly cache = new Map<string, { digest: string | undefined; until: number }>();

  constructor(
    private readonly client: SSMClient,
    private readonly parameterPrefix: string,
    private readonly clusters: ReadonlySet<string>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  private async digestFor(cluster: string): Promise<string | undefined> {
    const cached = this.cache.get(cluster);
    if (cached && cached.until > this.nowMs()) return cached.digest;
    // No parameter (not set up for this cluster): no token is valid. Anything else is an outage.
    const digest = await secureParameterValue(this.client, consulTokenParameterName(this.parameterPrefix, cluster));
    this.cache.set(cluster, { digest, until: this.nowMs() + CACHE_MS });
    return digest;
  }

  async verify(cluster: string, token: string): Promise<boolean> {
    // Unknown clusters never reach Parameter Store: no lookups driven by callers.
    if (!this.clusters.has(cluster)) return false;
    return tokenMatches(token, await this.digestFor(cluster));
  }
}

/** `{ "<cluster>": "<sha256 hex>" }`. */
export class StaticConsulTokens implements ConsulTokens {
  constructor(private readonly digests: Readonly<Record<string, string>>) {}

  async verify(cluster: string, token: string): Promise<boolean> {
    if (!Object.prototype.hasOwnProperty.call(this.digests, cluster)) return false;
    return tokenMatches(token, this.digests[cluster]);
  }
}

/**
 * The local runner's tokens: digests kept in `path`; a cluster without one gets a new
 * random token, whose digest is saved and which is returned here, once, to be shown.
 */
export function loadOrCreateLocalConsulTokens(path: string, clusters: readonly string[]): { tokens: StaticConsulTokens; created: Record<string, string> } {
  const digests: Record<string, string> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
  const created: Record<string, string> = {};
  for (const cluster of clusters) {
    if (!digests[cluster]) {
      const token = randomBytes(32).toString('base64url');
      created[cluster] = token;
      digests[cluster] = tokenDigest(token);
    }
  }
  if (Object.keys(created).length > 0) writeFileSync(path, `${JSON.stringify(digests, null, 2)}\n`, { mode: 0o600 });
  return { tokens: new StaticConsulTokens(Object.fromEntries(clusters.map((c) => [c, digests[c] as string]))), created };
}
