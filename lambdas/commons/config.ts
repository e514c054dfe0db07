/** Lambda configuration, read once at init; a missing value fails the cold start loudly. */
import { LAMBDA_ENV } from './deployment';

export interface IngestConfig {
  tableName: string;
  alertsTopicArn: string;
  clusterSecretPrefix: string;
  /** SSM parameter name prefix of the per-cluster admin keys (silence API). */
  adminSecretPrefix: string;
  /** SSM parameter name prefix of the per-cluster viewer keys (alerts API, read only). */
  viewerSecretPrefix: string;
  clusters: ReadonlySet<string>;
}

export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/**
 * `clusters`: from the bundled config (tocsin.yaml's list), not the environment: 50 names
 * of up to 63 characters would take most of Lambda's 4 KB environment.
 */
export function readIngestConfig(clusters: readonly string[], env: NodeJS.ProcessEnv = process.env): IngestConfig {
  if (clusters.length === 0) throw new Error('the bundled config names no cluster');
  return {
    tableName: requiredEnv(LAMBDA_ENV.tableName, env),
    alertsTopicArn: requiredEnv(LAMBDA_ENV.alertsTopicArn, env),
    clusterSecretPrefix: requiredEnv(LAMBDA_ENV.clusterSecretPrefix, env),
    adminSecretPrefix: requiredEnv(LAMBDA_ENV.adminSecretPrefix, env),
    viewerSecretPrefix: requiredEnv(LAMBDA_ENV.viewerSecretPrefix, env),
    clusters: new Set(clusters),
  };
}
