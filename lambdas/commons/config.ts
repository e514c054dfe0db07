/** Lambda configuration, read once at init; a missing value fails the cold start loudly. */
import { LAMBDA_ENV } from './deployment';

export interface IngestConfig {
  tableName: string;
  alertsTopicArn: string;
  clusterSecretPrefix: string;
  /** Secrets Manager prefix of the per-cluster admin keys (silence API). */
  adminSecretPrefix: string;
  clusters: ReadonlySet<string>;
}

export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const clusters = requiredEnv(LAMBDA_ENV.clusters, env)
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (clusters.length === 0) throw new Error(`${LAMBDA_ENV.clusters} names no cluster`);
  return {
    tableName: requiredEnv(LAMBDA_ENV.tableName, env),
    alertsTopicArn: requiredEnv(LAMBDA_ENV.alertsTopicArn, env),
    clusterSecretPrefix: requiredEnv(LAMBDA_ENV.clusterSecretPrefix, env),
    adminSecretPrefix: requiredEnv(LAMBDA_ENV.adminSecretPrefix, env),
    clusters: new Set(clusters),
  };
}
