/** What callers of the APIs prove, per cluster. Secrets Manager (AWS) or files (local) hold them. */

/** HMAC key per cluster (the shim's, or the admin key of the silence API); undefined for an unknown cluster. */
export interface ClusterKeys {
  keyFor(cluster: string): Promise<string | undefined>;
}

/**
 * Bearer tokens of Consul's HTTP watch handler, per cluster (stored hashed).
 * False for a wrong token and for an unknown cluster alike.
 */
export interface ConsulTokens {
  verify(cluster: string, token: string): Promise<boolean>;
}
