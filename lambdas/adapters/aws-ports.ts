/**
 * The application's ports on AWS services: DynamoDB (state, silences, storm grouping,
 * replay guard, heartbeat watchers, the sweeper's record), SNS (channels, the sweeper's
 * reachability check), SQS (timers), HTTPS (the watchdog). The Lambdas use them against AWS, `npm start`
 * and the bench against its stand-ins; the API keys come from the caller.
 * Each adapter is built when first used.
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lazyPorts, type ApplicationPorts } from '../app/application';
import { type Clock, type Logger, type Metrics, systemClock } from '../app/runtime';
import type { ClusterKeys, ConsulTokens } from '../app/credentials';
import { emailTexts } from '../../channels/templates';
import { alertLink } from '../domain/render';
import type { RuntimeConfig } from '../domain/rules/types';
import { DynamoSilenceStore } from './dynamo-silence-store';
import { DynamoDigestStore, DynamoStormGate } from './dynamo-storm-store';
import { DynamoReplayGuard } from './dynamo-replay-guard';
import { DynamoScopeStore, DynamoSubjectStore } from './dynamo-state-store';
import { DynamoSweepLedger } from './dynamo-sweep-ledger';
import { DynamoWatcherStore } from './dynamo-watcher-store';
import { HttpsWatchdog } from './https-watchdog';
import { SnsAlertPublisher, SnsAlertsProbe } from './sns-publisher';
import { SqsTimerQueue } from './sqs-timers';
import { DynamoNodeCatalog } from './dynamo-node-catalog';
import { DynamoFiringSources } from './dynamo-firing-sources';
import { DynamoAlertReadModel } from './dynamo-alert-read-model';
import { DynamoPendingTimers } from './dynamo-pending-timers';
import { DynamoContinuationStore } from './dynamo-continuation-store';
import { BatchedWrites } from './dynamo-batched-writes';
import type { SlackApps } from '../app/slack-interactions';

export interface AwsClients {
  readonly doc: DynamoDBDocumentClient;
  /** Needed unless `channels` is given in `overrides`. */
  readonly sns?: SNSClient;
  /** Needed unless `timers` is given in `overrides`. */
  readonly sqs?: SQSClient;
}

/** The keys of the HTTP API: Secrets Manager (deployed), files or literals (local, bench). */
export interface ApiKeys {
  readonly clusterKeys: ClusterKeys;
  readonly adminKeys: ClusterKeys;
  readonly viewerKeys?: ClusterKeys;
  readonly consulTokens?: ConsulTokens;
}

export interface AwsPortsOptions {
  /** Clients are asked for when an adapter needing them is first built. */
  readonly clients: () => AwsClients;
  readonly tableName: string;
  readonly alertsTopicArn: string;
  readonly timersQueueUrl: string;
  /** grouping and links of tocsin.yaml. */
  readonly config: Pick<RuntimeConfig, 'grouping' | 'links' | 'channels' | 'rules' | 'history'>;
  readonly logger: Logger;
  /** tocsin's own numbers (the Lambdas: Powertools EMF); absent: none. */
  readonly metrics?: Metrics;
  /** Only the HTTP API needs them. */
  readonly keys?: ApiKeys;
  readonly clock?: Clock;
  /** How long the dispatcher reuses a cluster's silence list (ms). */
  readonly silenceCacheMs?: number;
  /** Ports given instead of built (the bench's channel publisher that only counts). */
  readonly overrides?: Partial<ApplicationPorts>;
  /** deployment.watchdog.url (the sweeper); absent: no watchdog port. */
  readonly watchdogUrl?: string;
  /** The Slack apps of app channels (the HTTP API's Slack actions); absent: off. */
  readonly slackApps?: SlackApps;
}

export function awsPorts(opts: AwsPortsOptions): ApplicationPorts {
  const { tableName } = opts;
  const clock = opts.clock ?? systemClock;
  const doc = () => opts.clients().doc;
  // One batcher of unconditional writes for the table: the read model's index entries and
  // history items and the storm's folds made at one moment share BatchWriteItem calls.
  let batched: BatchedWrites | undefined;
  const batchedWrites = (): BatchedWrites => (batched ??= new BatchedWrites(doc(), tableName));
  const client = <K extends 'sns' | 'sqs'>(name: K): NonNullable<AwsClients[K]> => {
    const c = opts.clients()[name];
    if (!c) throw new Error(`no ${name.toUpperCase()} client given`);
    return c as NonNullable<AwsClients[K]>;
  };
  const keys = (): ApiKeys => {
    if (!opts.keys) throw new Error('no API keys configured for this function');
    return opts.keys;
  };
  const built: { readonly [K in keyof ApplicationPorts]-?: () => ApplicationPorts[K] } = {
    clock: () => clock,
    logger: () => opts.logger,
    metrics: () => opts.metrics,
    subjects: () => new DynamoSubjectStore(doc(), tableName),
    scopes: () => new DynamoScopeStore(doc(), tableName),
    channels: () => new SnsAlertPublisher(client('sns'), opts.alertsTopicArn, (a) => alertLink(opts.config.links?.alert, a), emailTexts(opts.config)),
    timers: () => new SqsTimerQueue(client('sqs'), opts.timersQueueUrl, clock),
    pendingTimers: () => new DynamoPendingTimers(doc(), tableName),
    firingSources: () => new DynamoFiringSources(doc(), tableName, batchedWrites()),
    alerts: () => new DynamoAlertReadModel(doc(), tableName, opts.config.history?.retentionDays, batchedWrites()),
    silences: () => new DynamoSilenceStore(doc(), tableName, opts.silenceCacheMs),
    storm: () => new DynamoStormGate(doc(), tableName, opts.config.grouping, batchedWrites()),
    digests: () => new DynamoDigestStore(doc(), tableName),
    continuations: () => new DynamoContinuationStore(doc(), tableName, clock),
    replay: () => new DynamoReplayGuard(doc(), tableName),
    clusterKeys: () => keys().clusterKeys,
    adminKeys: () => keys().adminKeys,
    viewerKeys: () => opts.keys?.viewerKeys,
    consulTokens: () => keys().consulTokens,
    watchers: () => new DynamoWatcherStore(doc(), tableName),
    sweepLedger: () => new DynamoSweepLedger(doc(), tableName),
    alertsProbe: () => new SnsAlertsProbe(client('sns'), opts.alertsTopicArn),
    nodeCatalog: () => new DynamoNodeCatalog(doc(), tableName),
    watchdog: () => (opts.watchdogUrl ? new HttpsWatchdog(opts.watchdogUrl) : undefined),
    slackApps: () => opts.slackApps,
  };
  const given = opts.overrides ?? {};
  return lazyPorts<ApplicationPorts>(
    Object.fromEntries(Object.entries(built).map(([name, make]) => [name, name in given ? () => given[name as keyof ApplicationPorts] : make])) as typeof built,
  );
}
