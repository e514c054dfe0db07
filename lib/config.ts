/**
 * Deployment configuration for tocsin, read from tocsin.yaml (the file `npm start`
 * reads too) and validated before any construct is created. The file is
 * `-c tocsin:config=<file>` if given, else $TOCSIN_CONFIG, else ./tocsin.yaml.
 * Problems are reported as a ConfigFileError naming the file, the path inside it
 * (line, column) and the reason, so `cdk synth` fails with an actionable message.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { deployChannels, type DeployedChannels } from '../channels/infra';
import { CONFIG_FILE } from '../lambdas/commons/deployment';
import { ConfigFileError, loadConfigFile, resolveConfigPath, type FileConfig } from '../lambdas/commons/config-file';
import type { DeliverySettings } from '../channels';
import type { RuntimeConfig } from '../lambdas/domain/rules/types';
import type { DeploymentOptIns } from './deployment-opt-ins';
export type { DeploymentOptIns } from './deployment-opt-ins';

export { ConfigFileError };

/** Each cluster adds secrets and stack outputs (200 outputs per stack). */
export const MAX_CLUSTERS = 50;

export interface TocsinConfig {
  /** The file this came from. */
  readonly file: string;
  readonly clusters: readonly string[];
  /** What the Lambdas evaluate: rules, channels, grouping, links (no secrets, no addresses). */
  readonly runtime: RuntimeConfig;
  /** Every channel as deploying needs it, by type (channels/infra.ts). */
  readonly channels: DeployedChannels;
  readonly delivery: DeliverySettings;
  readonly opsEmails: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly reservedConcurrency?: number;
  readonly logRetention: RetentionDays;
  /** deployment.watchdog.url: pinged by the sweeper after each successful sweep. */
  readonly watchdogUrl?: string;
  /** What the stack adds beyond the lean default, each at a fixed monthly cost (README "What the stack costs"). */
  readonly optIns: DeploymentOptIns;
}

export const DEFAULTS = {
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  logRetentionDays: 90,
} as const;

function dedupe(addresses: string[]): string[] {
  const out: string[] = [];
  for (const a of addresses) if (!out.some((b) => b.toLowerCase() === a.toLowerCase())) out.push(a);
  return out;
}

/** Deployment view of a loaded file; adds the checks only deploying needs. */
export function toTocsinConfig(loaded: FileConfig): TocsinConfig {
  const { runtime, deployment } = loaded;
  const deployed = deployChannels(runtime.channels);
  if ('issues' in deployed) throw new ConfigFileError(loaded.file, deployed.issues);
  const { channels } = deployed;
  // Operational alarms go to the email channels' addresses unless told otherwise.
  const opsEmails = deployment.opsEmails ?? dedupe(channels.email.flatMap((c) => [...c.addresses]));
  return {
    file: loaded.file,
    clusters: runtime.clusters,
    runtime,
    channels,
    delivery: loaded.delivery,
    opsEmails,
    throttle: {
      rateLimit: deployment.throttleRateLimit ?? DEFAULTS.throttleRateLimit,
      burstLimit: deployment.throttleBurstLimit ?? DEFAULTS.throttleBurstLimit,
    },
    reservedConcurrency: deployment.reservedConcurrency,
    logRetention: (deployment.logRetentionDays ?? DEFAULTS.logRetentionDays) as RetentionDays,
    ...(deployment.watchdog ? { watchdogUrl: deployment.watchdog.url } : {}),
    optIns: {
      dashboard: deployment.dashboard ?? false,
      tracing: deployment.tracing ?? false,
      customerManagedKey: deployment.customerManagedKey ?? false,
      detailedAlarms: deployment.detailedAlarms ?? false,
    },
  };
}

/** Read and validate the configuration file named by context/env/default. */
export function readConfig(scope: IConstruct, env: NodeJS.ProcessEnv = process.env): TocsinConfig {
  const fromContext = scope.node.tryGetContext(CONFIG_FILE.contextKey) as unknown;
  const path = resolveConfigPath(typeof fromContext === 'string' ? fromContext : undefined, env);
  return toTocsinConfig(loadConfigFile(path));
}
