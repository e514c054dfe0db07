/**
 * Deployment configuration for tocsin, read from tocsin.yaml (the file `npm start`
 * reads too) and validated before any construct is created. The file is
 * `-c tocsin:config=<file>` if given, else $TOCSIN_CONFIG, else ./tocsin.yaml.
 * Problems are reported as a ConfigFileError naming the file, the path inside it
 * (line, column) and the reason, so `cdk synth` fails with an actionable message.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { CONFIG_FILE } from '../lambdas/commons/topology';
import { ConfigFileError, loadConfigFile, resolveConfigPath, type FileConfig } from '../lambdas/commons/config-file';
import { channelDeployIssues, channelsOfType, type DeliverySettings } from '../channels';
import type { RuntimeConfig } from '../lambdas/domain/rules/types';
import type { Severity } from '../lambdas/domain/types';

export { ConfigFileError };

/** Severity ranks: a subscriber with minimum severity S receives every severity ranked >= S. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 1, warning: 2, critical: 3 };
export const SEVERITIES = Object.keys(SEVERITY_RANK) as Severity[];

/** Cluster names become secret names and env values; keep them boring (also enforced by the schema). */
export const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
/** Each cluster adds secrets and stack outputs (200 outputs per stack). */
export const MAX_CLUSTERS = 50;

/** An email channel: every address is an SNS email subscription filtered on the channel. */
export interface EmailChannelConfig {
  readonly name: string;
  readonly addresses: readonly string[];
  /** Lowest severity delivered; undefined = every severity. */
  readonly minSeverity?: Severity;
}

export interface SlackChannelConfig {
  readonly name: string;
  /** Secrets Manager secret holding the webhook URL. */
  readonly secretName: string;
}

export interface TocsinConfig {
  /** The file this came from. */
  readonly file: string;
  readonly clusters: readonly string[];
  /** What the Lambdas evaluate: rules, channels, grouping, links (no secrets, no addresses). */
  readonly runtime: RuntimeConfig;
  readonly emailChannels: readonly EmailChannelConfig[];
  readonly slackChannels: readonly SlackChannelConfig[];
  readonly delivery: DeliverySettings;
  readonly opsEmails: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly reservedConcurrency?: number;
  readonly logRetention: RetentionDays;
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
  const deployIssues = channelDeployIssues(runtime.channels);
  if (deployIssues.length > 0) throw new ConfigFileError(loaded.file, deployIssues);
  const emailChannels: EmailChannelConfig[] = Object.entries(channelsOfType(runtime.channels, 'email')).map(([name, ch]) => ({
    name,
    addresses: ch.addresses ?? [],
    ...(ch.minSeverity && ch.minSeverity !== 'info' ? { minSeverity: ch.minSeverity } : {}),
  }));
  const slackChannels: SlackChannelConfig[] = Object.entries(channelsOfType(runtime.channels, 'slack')).map(([name, ch]) => ({ name, secretName: ch.secretName as string }));
  const opsEmails = deployment.opsEmails ?? dedupe(emailChannels.flatMap((c) => [...c.addresses]));
  return {
    file: loaded.file,
    clusters: runtime.clusters,
    runtime,
    emailChannels,
    slackChannels,
    delivery: loaded.delivery,
    opsEmails,
    throttle: {
      rateLimit: deployment.throttleRateLimit ?? DEFAULTS.throttleRateLimit,
      burstLimit: deployment.throttleBurstLimit ?? DEFAULTS.throttleBurstLimit,
    },
    reservedConcurrency: deployment.reservedConcurrency,
    logRetention: (deployment.logRetentionDays ?? DEFAULTS.logRetentionDays) as RetentionDays,
  };
}

/** Read and validate the configuration file named by context/env/default. */
export function readConfig(scope: IConstruct, env: NodeJS.ProcessEnv = process.env): TocsinConfig {
  const fromContext = scope.node.tryGetContext(CONFIG_FILE.contextKey) as unknown;
  const path = resolveConfigPath(typeof fromContext === 'string' ? fromContext : undefined, env);
  return toTocsinConfig(loadConfigFile(path));
}
