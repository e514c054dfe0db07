/** Lambda configuration, read once at init; a missing value fails the cold start loudly. */
import { LAMBDA_ENV } from './topology';

export interface IngestConfig {
  tableName: string;
  alertsTopicArn: string;
  clusterSecretPrefix: string;
  clusters: ReadonlySet<string>;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function readIngestConfig(env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const clusters = required(env, LAMBDA_ENV.clusters)
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (clusters.length === 0) throw new Error(`${LAMBDA_ENV.clusters} names no cluster`);
  return {
    tableName: required(env, LAMBDA_ENV.tableName),
    alertsTopicArn: required(env, LAMBDA_ENV.alertsTopicArn),
    clusterSecretPrefix: required(env, LAMBDA_ENV.clusterSecretPrefix),
    clusters: new Set(clusters),
  };
}
