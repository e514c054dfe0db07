/** What callers of the APIs prove, per cluster. SSM Parameter Store SecureString parameters (AWS) or files (local) hold them. */

/**
 * HMAC keys per cluster (the shim's, or the admin keys of the silence API): the stored
 * secret, one key or during a rotation several separated by white space, newest first
 * (domain/signing keyList); undefined for an unknown cluster.
 */
export interface ClusterKeys {
  /**
   * `fresh`: the request named a key the secret lacks; an adapter that caches the secret
   * may read it again now (rate-limited: callers may be anybody).
   */
  keyFor(cluster: string, opts?: { fresh?: boolean }): Promise<string | undefined>;
}

/**
 * Bearer tokens of Consul's HTTP watch handler, per cluster (stored hashed).
 * False for a wrong token and for an unknown cluster alike.
 */
export interface ConsulTokens {
  verify(cluster: string, token: string): Promise<boolean>;
}
