/**
 * Deployment configuration for tocsin, read from tocsin.yaml (the file `npm start`
 * reads too) and validated before any construct is created. The file is
 * `-c tocsin:config=<file>` if given, else $TOCSIN_CONFIG, else ./tocsin.yaml.
 * Problems are reported as a ConfigFileError naming the file, the path inside it
 * (line, column) and the reason, so `cdk synth` fails with an actionable message.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';
import { CONFIG_FILE } from '../lambdas/commons/deployment';
import { ConfigFileError, loadConfigFile, resolveConfigPath, type DeliverySettings, type FileConfig } from '../lambdas/commons/config-file';
import type { RuntimeConfig, SlackChannel } from '../lambdas/domain/rules/types';
import { SEVERITY_RANK, type Severity } from '../lambdas/domain/types';

export { ConfigFileError };

export const SEVERITIES = Object.keys(SEVERITY_RANK) as Severity[];

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
  const emailChannels: EmailChannelConfig[] = [];
  const slackChannels: SlackChannelConfig[] = [];
  const missing: string[] = [];
  for (const [name, ch] of Object.entries(runtime.channels)) {
    if (ch.type === 'email') {
      emailChannels.push({ name, addresses: ch.addresses ?? [], ...(ch.minSeverity && ch.minSeverity !== 'info' ? { minSeverity: ch.minSeverity } : {}) });
    } else {
      const secretName = (ch as SlackChannel).secretName;
      if (!secretName) missing.push(name);
      else slackChannels.push({ name, secretName });
    }
  }
  if (missing.length > 0) {
    throw new ConfigFileError(
      loaded.file,
      missing.map((name) => ({ path: ['channels', name], reason: 'a slack channel needs secretName (the Secrets Manager secret holding its webhook URL) to be deployed' })),
    );
  }
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
