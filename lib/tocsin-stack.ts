import { Aws, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { KEY_PARAMETERS } from '../lambdas/commons/deployment';
import { ROUTES } from '../lambdas/domain/protocol';
import { AlertTopics } from './alert-topics';
import type { SecretLocation } from '../channels/secret-location';
import { Channels } from './channels';
import { ClusterSecrets } from './cluster-secrets';
import { readConfig, type TocsinConfig } from './config';
import { IngestApi } from './ingest-api';
import { configBundle } from './lambda-bundling';
import { OperationsAlarms } from './operations-alarms';
import { TocsinDashboard } from './dashboard';
import { StateTable } from './state-table';
import { Sweeper } from './sweeper';
import { Timers } from './timers';

export interface TocsinStackProps extends StackProps {
  /** @default - read from tocsin.yaml (see lib/config.ts: -c tocsin:config, $TOCSIN_CONFIG, ./tocsin.yaml) */
  readonly config?: TocsinConfig;
  /** Override the ingest handler entry (tests). @default INGEST_ENTRY */
  readonly ingestEntry?: string;
}

/** Output names, for tests and for tooling that reads `cdk deploy --outputs-file`. */
export const OUTPUTS = {
  ingestUrl: 'IngestUrl',
  consulHttpUrl: 'ConsulHttpUrl',
  /** The web page (README "The web page"). */
  webPageUrl: 'WebPageUrl',
  alertsTopicArn: 'AlertsTopicArn',
  opsTopicArn: 'OpsTopicArn',
  tableName: 'TableName',
  /** SSM parameter name prefix of the HMAC keys (the output names are from when the keys were secrets). */
  clusterSecretPrefix: 'ClusterSecretPrefix',
  clusterSecretNames: 'ClusterSecretNames',
  clusterSecretArns: 'ClusterSecretArns',
  /** Per cluster, suffixed with the cluster name reduced to [A-Za-z0-9]. */
  clusterKeyCommandPrefix: 'ClusterKeyCommand',
  shimEnvPrefix: 'ShimEnv',
  /** SSM parameter name prefix of the per-cluster admin keys (tocsin silence). */
  adminSecretPrefix: 'ClusterAdminSecretPrefix',
  timersQueueUrl: 'TimersQueueUrl',
  /** Per cluster: the `tocsin silence` environment (admin key). */
  adminEnvPrefix: 'SilenceEnv',
  /**
   * SSM parameter name prefix of the read-only viewer keys (`tocsin alerts`, the web page).
   * Not a per-cluster output: 4 a cluster and the 11 above would pass CloudFormation's 200
   * outputs a stack at MAX_CLUSTERS (lib/config.ts).
   */
  viewerKeyPrefix: 'ViewerKeyParameterPrefix',
} as const;

export class TocsinStack extends Stack {
  public readonly config: TocsinConfig;
  public readonly stateTable: StateTable;
  public readonly alertTopics: AlertTopics;
  public readonly clusterSecrets: ClusterSecrets;
  public readonly timers: Timers;
  public readonly ingestApi: IngestApi;
  public readonly channels: Channels;
  public readonly alarms: OperationsAlarms;
  public readonly sweeper: Sweeper;
  /** deployment.dashboard only. */
  public readonly dashboard?: TocsinDashboard;

  constructor(scope: Construct, id: string, props: TocsinStackProps = {}) {
    super(scope, id, {
      description: 'tocsin: alerting pipeline for Consul and Serf clusters',
      ...props,
    });
    this.config = props.config ?? readConfig(this);
    const { config } = this;
    const { optIns } = config;

    // Bundled into every function.
    const functionConfig = configBundle(config.runtime);

    this.stateTable = new StateTable(this, 'State');
    this.alertTopics = new AlertTopics(this, 'Topics', { opsEmails: config.opsEmails, customerManagedKey: optIns.customerManagedKey });
    const keyPrefixes = KEY_PARAMETERS.prefixes(this.stackName);
    this.clusterSecrets = new ClusterSecrets(this, 'ClusterSecrets', {
      clusters: config.clusters,
      prefix: keyPrefixes.cluster,
      adminPrefix: keyPrefixes.admin,
      viewerPrefix: keyPrefixes.viewer,
      logRetention: config.logRetention,
      config: functionConfig,
      optIns,
    });
    // Before the ingest API, which schedules timers.
    this.timers = new Timers(this, 'Timers', {
      table: this.stateTable.table,
      alertsTopic: this.alertTopics.alertsTopic,
      opsTopic: this.alertTopics.opsTopic,
      logRetention: config.logRetention,
      config: functionConfig,
      optIns,
    });
    this.ingestApi = new IngestApi(this, 'Ingest', {
      table: this.stateTable.table,
      alertsTopic: this.alertTopics.alertsTopic,
      clusterSecrets: this.clusterSecrets,
      timersQueue: this.timers.queue,
      throttle: config.throttle,
      logRetention: config.logRetention,
      reservedConcurrency: config.reservedConcurrency,
      entry: props.ingestEntry,
      config: functionConfig,
      optIns,
      // Slack app channels' bot token parameters or secrets also hold the app's signing secret (Slack actions).
      slackAppSecrets: uniqueLocations(config.channels.slack.filter((c) => c.app).map((c) => c.secret)),
    });
    this.channels = new Channels(this, 'Channels', {
      channels: config.channels,
      delivery: config.delivery,
      alertsTopic: this.alertTopics.alertsTopic,
      topicKey: this.alertTopics.key,
      deliveryDeadLetterQueue: this.alertTopics.deliveryDeadLetterQueue,
      opsTopic: this.alertTopics.opsTopic,
      logRetention: config.logRetention,
      config: functionConfig,
      stateTable: this.stateTable.table,
      optIns,
    });
    this.sweeper = new Sweeper(this, 'Sweeper', {
      table: this.stateTable.table,
      alertsTopic: this.alertTopics.alertsTopic,
      timersQueue: this.timers.queue,
      opsTopic: this.alertTopics.opsTopic,
      logRetention: config.logRetention,
      config: functionConfig,
      optIns,
      ...(config.watchdogUrl ? { watchdogUrl: config.watchdogUrl } : {}),
    });
    this.alarms = new OperationsAlarms(this, 'Alarms', {
      ingestFunction: this.ingestApi.ingestFunction,
      httpApi: this.ingestApi.httpApi,
      deliveryDeadLetterQueue: this.alertTopics.deliveryDeadLetterQueue,
      opsTopic: this.alertTopics.opsTopic,
      ingestLogGroup: this.ingestApi.ingestFunction.logGroup,
      detailed: optIns.detailedAlarms,
    });
    if (optIns.dashboard) this.dashboard = this.addDashboard();

    this.addOutputs();
  }

  /** deployment.dashboard: the dashboard (its EMF metrics are written only then: TocsinFunction). */
  private addDashboard(): TocsinDashboard {
    const worker = this.channels.worker;
    return new TocsinDashboard(this, 'Dashboard', {
      functions: {
        ingest: this.ingestApi.ingestFunction,
        timers: this.timers.worker,
        sweeper: this.sweeper.function,
        ...(worker ? { 'channel worker': worker.function } : {}),
      },
      timersQueue: this.timers.queue,
      deadLetterQueues: {
        delivery: this.alertTopics.deliveryDeadLetterQueue,
        timers: this.timers.deadLetterQueue,
        sweeper: this.sweeper.deadLetterQueue,
      },
      alarms: [
        this.alarms.lambdaErrors,
        this.alarms.lambdaThrottles,
        this.alarms.api5xx,
        this.alarms.undeliveredNotifications,
        this.alarms.authenticationFailures,
        this.alarms.rejectedInput,
        this.sweeper.notRunning,
        this.sweeper.late,
      ].filter((a): a is NonNullable<typeof a> => a !== undefined),
    });
  }

  private addOutputs(): void {
    const ingestUrl = this.ingestApi.urlFor('ingest');
    new CfnOutput(this, OUTPUTS.ingestUrl, {
      value: ingestUrl,
      description: `agent-shim TOCSIN_URL (${ROUTES.ingest.method} signed envelopes)`,
    });
    new CfnOutput(this, OUTPUTS.consulHttpUrl, {
      value: this.ingestApi.urlFor('consulHttp'),
      description: `Consul http watch handler URL (${ROUTES.consulHttp.method}); replace {watchType} with the watch type`,
    });
    new CfnOutput(this, OUTPUTS.webPageUrl, {
      value: this.ingestApi.urlFor('webPage'),
      description: "The web page: what is firing, timelines, acknowledgements, silences (sign in with a cluster's viewer key)",
    });
    new CfnOutput(this, OUTPUTS.alertsTopicArn, { value: this.alertTopics.alertsTopic.topicArn, description: 'SNS topic every alert is published to' });
    new CfnOutput(this, OUTPUTS.opsTopicArn, { value: this.alertTopics.opsTopic.topicArn, description: 'SNS topic of tocsin operational alarms' });
    new CfnOutput(this, OUTPUTS.tableName, { value: this.stateTable.table.tableName, description: 'DynamoDB state table' });
    new CfnOutput(this, OUTPUTS.adminSecretPrefix, {
      value: this.clusterSecrets.adminPrefix,
      description: 'SSM parameter name prefix; the admin key of cluster c (TOCSIN_ADMIN_KEY for tocsin silence) is the SecureString parameter <prefix><c>',
    });
    new CfnOutput(this, OUTPUTS.viewerKeyPrefix, {
      value: this.clusterSecrets.viewerPrefix,
      // A description is a literal string (no token): the command is spelled out in README "What is firing".
      description: 'SSM parameter name prefix; the read-only viewer key of cluster c (TOCSIN_VIEWER_KEY for tocsin alerts and the web page) is the SecureString parameter <prefix><c>',
    });
    new CfnOutput(this, OUTPUTS.timersQueueUrl, { value: this.timers.queue.queueUrl, description: 'Delay queue of for/repeat/digest timers' });
    new CfnOutput(this, OUTPUTS.clusterSecretPrefix, {
      value: this.clusterSecrets.prefix,
      description: 'SSM parameter name prefix; the HMAC key of cluster c is the SecureString parameter <prefix><c>',
    });

    const hmac = this.clusterSecrets.ofRole('hmac');
    new CfnOutput(this, OUTPUTS.clusterSecretNames, {
      value: hmac.map((p) => p.name).join(','),
      description: 'SSM parameter names of the cluster HMAC keys (comma-separated, in tocsin:clusters order)',
    });
    new CfnOutput(this, OUTPUTS.clusterSecretArns, {
      value: Fn.join(',', hmac.map((p) => this.clusterSecrets.parameterArn(p.name))),
      description: 'SSM parameter ARNs of the cluster HMAC keys (comma-separated, in tocsin:clusters order)',
    });
    const entries = hmac.map((p) => [p.cluster] as const);

    const usedIds = new Set<string>();
    entries.forEach(([cluster], i) => {
      const alnum = cluster.replace(/[^A-Za-z0-9]/g, '');
      const base = alnum.charAt(0).toUpperCase() + alnum.slice(1);
      // Distinct names can reduce to the same id ("eu-1" / "eu.1"); disambiguate by position.
      let suffix = base;
      for (let n = i + 1; usedIds.has(suffix.toLowerCase()); n++) suffix = `${base}X${n}`;
      usedIds.add(suffix.toLowerCase());
      const keyCommand = getParameterCommand(this.clusterSecrets.parameterName(cluster));
      new CfnOutput(this, `${OUTPUTS.clusterKeyCommandPrefix}${suffix}`, {
        value: keyCommand,
        description: `Prints TOCSIN_KEY (HMAC key) of cluster "${cluster}"`,
      });
      // Plain NAME=value pairs, no shell: valid as a systemd Environment= line and, one pair a
      // line, as an environment file. The key is a secret: ClusterKeyCommand prints it.
      new CfnOutput(this, `${OUTPUTS.shimEnvPrefix}${suffix}`, {
        value: `TOCSIN_URL=${ingestUrl} TOCSIN_CLUSTER=${cluster}`,
        description: `agent-shim environment for cluster "${cluster}" without its key (add TOCSIN_KEY=<what ClusterKeyCommand${suffix} prints>); README "Deploying to AWS"`,
      });
      const adminCommand = getParameterCommand(this.clusterSecrets.adminParameterName(cluster));
      new CfnOutput(this, `${OUTPUTS.adminEnvPrefix}${suffix}`, {
        value: `TOCSIN_URL=${ingestUrl} TOCSIN_CLUSTER=${cluster} TOCSIN_ADMIN_KEY="$(${adminCommand})"`,
        description: `environment of "npx tocsin silence ..." for cluster "${cluster}" (its admin key, not the shim key)`,
      });
    });
  }
}

/** Prints a key parameter's value; the same with AWS CLI v1 and v2. */
function getParameterCommand(name: string): string {
  return `aws ssm get-parameter --name ${name} --with-decryption --region ${Aws.REGION} --query Parameter.Value --output text`;
}

/** Each parameter or secret once (two app channels of one Slack app share theirs). */
function uniqueLocations(locations: readonly SecretLocation[]): SecretLocation[] {
  return [...new Map(locations.map((l) => [`${l.store}:${l.name}`, l])).values()];
}
