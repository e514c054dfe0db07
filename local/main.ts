/**
 * `npm start`: the tocsin pipeline on one machine, no AWS account needed. The same
 * application as the Lambdas (lambdas/app/application.ts), on dynalite (or any DynamoDB
 * endpoint) standing in for DynamoDB and a durable in-process bus (local/bus, LevelDB in the
 * data dir) for SNS and SQS; each channel kind delivers through its local worker (channels/local.ts).
 */
import { DynamoSlackThreads } from '../lambdas/adapters/dynamo-slack-threads';
import { localSlackApps } from '../channels/slack/interactivity';
import './quiet-aws-sdk'; // first: before any AWS SDK client is created
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_DEFAULTS, LOCAL_NAMES } from './names';
import { CONSUL_HTTP, LIMITS, ROUTES } from '../lambdas/domain/protocol';
import { createApplication, type Application } from '../lambdas/app/application';
import { httpApi } from '../lambdas/app/application-http';
import { sweeper } from '../lambdas/app/application-sweeper';
import { PROCESSING_BUDGET, SWEEPER, TIMERS_QUEUE } from '../lambdas/commons/deployment';
import { awsPorts } from '../lambdas/adapters/aws-ports';
import { StaticClusterKeys } from '../lambdas/adapters/cluster-keys';
import { loadOrCreateLocalConsulTokens } from '../lambdas/adapters/consul-tokens';
import { jsonLogger } from '../lambdas/commons/logger';
import { loadConfigFile, resolveConfigPath, type FileConfig } from '../lambdas/commons/config-file';
import { channelsOfType, CHANNEL_KINDS, type ChannelType } from '../channels';
import { LOCAL_CHANNELS, type LocalChannelContext, type LocalDelivery } from '../channels/local';
import { dynamoClients, ensureStateTable, startDynalite } from './dynamodb';
import { openLocalBus, orphanedQueueLines } from './bus/local-bus';
import { BusAlertPublisher, BusAlertsProbe, BusTimerQueue } from './bus/ports';
import { systemClock } from '../lambdas/app/runtime';
import { ingestRequestListener } from './http-server';
import { listenIngest } from './ingest-listener';
import { SERVE_ARGS, SERVE_USAGE, serveOptions, type ServeOptions } from './serve-options';
import { loadOrCreateKeys } from './keys';
import { acquireDataDirLock } from './data-dir-lock';
import type { QueueWorker } from './queue-worker';
import { startTimersWorker } from './timers';
import { startLocalSweeper } from './sweeper';
import { tryBuildWebPage } from '../ui/build';

/** Local knobs (environment), mostly for tests. */
export const LOCAL_ENV = {
  /** How long the dispatcher reuses a cluster's silence list (ms); default 1000. */
  silenceCacheMs: 'TOCSIN_LOCAL_SILENCE_CACHE_MS',
  /** Seconds between two sweeps (heartbeats ...); default SWEEPER.periodSeconds (60). */
  sweepSeconds: 'TOCSIN_LOCAL_SWEEP_SECONDS',
  /** Seconds a pending timer step is overdue before the sweeper fires it; default TIMERS_QUEUE.sweepGraceSeconds (30). */
  timerGraceSeconds: 'TOCSIN_LOCAL_TIMER_GRACE_SECONDS',
  /** How long a request (or a continuation run) may start subjects, ms; default PROCESSING_BUDGET.stopStartingAfterMs. Tests force continuations with it. */
  processingBudgetMs: 'TOCSIN_LOCAL_PROCESSING_BUDGET_MS',
  /** The --dynamodb-endpoint of a unit file or container that sets the environment; the flag wins. */
  dynamodbEndpoint: 'TOCSIN_DYNAMODB_ENDPOINT',
} as const;

function budgetOption(env: NodeJS.ProcessEnv): { processingBudgetMs?: number } {
  const ms = processingBudgetMs(env);
  return ms === undefined ? {} : { processingBudgetMs: ms };
}

/** TOCSIN_LOCAL_PROCESSING_BUDGET_MS, checked: 0 or more ms, at most the default (never past API Gateway's limit). */
function processingBudgetMs(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[LOCAL_ENV.processingBudgetMs];
  if (raw === undefined || raw === '') return undefined;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > PROCESSING_BUDGET.stopStartingAfterMs) throw new Error(`${LOCAL_ENV.processingBudgetMs}=${raw} is not a whole number of ms between 0 and ${PROCESSING_BUDGET.stopStartingAfterMs}`);
  return ms;
}

/** TOCSIN_LOCAL_SWEEP_SECONDS, checked: a positive number of seconds. */
function sweepPeriodMs(env: NodeJS.ProcessEnv): number {
  const raw = env[LOCAL_ENV.sweepSeconds];
  if (raw === undefined || raw === '') return SWEEPER.periodSeconds * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 86400) throw new Error(`${LOCAL_ENV.sweepSeconds}=${raw} is not a number of seconds between 0 and 86400`);
  return Math.round(seconds * 1000);
}

/** TOCSIN_LOCAL_TIMER_GRACE_SECONDS, checked: a number of seconds, 0 or more. */
function timerGraceMs(env: NodeJS.ProcessEnv): number {
  const raw = env[LOCAL_ENV.timerGraceSeconds];
  if (raw === undefined || raw === '') return TIMERS_QUEUE.sweepGraceSeconds * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 86400) throw new Error(`${LOCAL_ENV.timerGraceSeconds}=${raw} is not a number of seconds between 0 and 86400`);
  return Math.round(seconds * 1000);
}

const USAGE = `Usage: npm start -- [options]

Runs the tocsin ingest pipeline locally on ${LOCAL_DEFAULTS.host} (every listener on loopback unless --host).

Options:
  --port N                 HTTP port (default ${LOCAL_DEFAULTS.port}; 0 picks a free one)
  --data-dir DIR           state, message bus, cluster keys and notifications (default ${LOCAL_DEFAULTS.dataDir})
  --dynamodb-endpoint URL  use this DynamoDB-compatible server (e.g. Amazon's DynamoDB Local) instead of embedded dynalite;
                           the state table is created there if missing (also TOCSIN_DYNAMODB_ENDPOINT)
  --cluster NAME           cluster to accept (repeatable; default: the clusters of tocsin.yaml)
${SERVE_USAGE}  --help                   this text

Configuration: tocsin.yaml in the working directory, or the file named by TOCSIN_CONFIG
(clusters, channels, rules, heartbeats; Slack channels are delivered to their webhookUrl,
PagerDuty channels to their url (default: PagerDuty's Events API v2), webhook channels to their
url, signed; email channels are sent through the SMTP server of local.smtp, printed without it).
The sweeper (heartbeats, overdue timers) runs every ${SWEEPER.periodSeconds} s; ${LOCAL_ENV.sweepSeconds} changes it.
Timers (for, repeat, storm digests) and deliveries waiting for a retry are kept in DIR/${LOCAL_NAMES.busDirectory}
and survive a restart or a kill -9; the sweeper also fires a timer step overdue by
${TIMERS_QUEUE.sweepGraceSeconds} s (${LOCAL_ENV.timerGraceSeconds}). Every notification is recorded in
DIR/${LOCAL_NAMES.notificationsFile}.
One tocsin per data directory: a second start on the same --data-dir exits, naming the running
one (the lock file tocsin.lock; a stale one is recovered). As a service: npx tocsin service-unit.
`;

interface Options {
  port: number;
  dataDir: string;
  dynamodbEndpoint?: string;
  clusters?: string[];
  serve: ServeOptions;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(LOCAL_DEFAULTS.port) },
      'data-dir': { type: 'string', default: LOCAL_DEFAULTS.dataDir },
      'dynamodb-endpoint': { type: 'string' },
      cluster: { type: 'string', multiple: true },
      ...SERVE_ARGS,
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return undefined;
  }
  const endpoint = values['dynamodb-endpoint'] || process.env[LOCAL_ENV.dynamodbEndpoint];
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint)) throw new Error(`--dynamodb-endpoint ${endpoint} is not an http(s) URL`);
  // npm start signs with an emulator's placeholder credentials: AWS itself would refuse them.
  if (endpoint && /^https?:\/\/[^/]*\.amazonaws\.com(\.cn)?(:\d+)?(\/|$)/i.test(endpoint)) {
    throw new Error(`--dynamodb-endpoint ${endpoint} is an AWS endpoint: npm start talks to DynamoDB-compatible emulators (e.g. Amazon's DynamoDB Local) only; on AWS, deploy the stack (README "Deploying to AWS")`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port number`);
  return {
    port,
    dataDir: resolve(values['data-dir']),
    ...(endpoint ? { dynamodbEndpoint: endpoint } : {}),
    ...(values.cluster?.length ? { clusters: values.cluster } : {}),
    serve: serveOptions(values),
  };
}

/** DynamoDB (embedded dynalite unless an endpoint is given) with the state table. */
async function startStandIns(dataDir: string, dynamodbEndpoint: string | undefined) {
  const dynalite = dynamodbEndpoint ? undefined : await startDynalite(resolve(dataDir, 'dynamodb'));
  const dynamoEndpoint = dynamodbEndpoint ?? (dynalite?.endpoint as string);
  // Embedded dynalite is reached through its worker's message channel, not loopback HTTP (dynalite-worker.ts).
  const { client, doc } = dynamoClients(dynamoEndpoint, undefined, dynalite?.requestHandler);
  await ensureStateTable(client, LOCAL_NAMES.stateTable);
  return {
    dynamoEndpoint,
    doc,
    stop: async () => {
      await dynalite?.stop();
    },
  };
}

function startKind<T extends ChannelType>(type: T, ctx: LocalChannelContext, config: FileConfig): Promise<LocalDelivery> {
  return LOCAL_CHANNELS[type].start(ctx, channelsOfType(config.runtime.channels, type));
}

/** Every channel kind's local delivery, in registry order. */
async function startChannels(ctx: LocalChannelContext, config: FileConfig): Promise<LocalDelivery[]> {
  const started: LocalDelivery[] = [];
  for (const type of Object.keys(CHANNEL_KINDS) as ChannelType[]) started.push(await startKind(type, ctx, config));
  return started;
}

async function listen(app: Application, port: number, serve: ServeOptions) {
  // The web page is built from ui/ in memory now (esbuild, well under a second), served at / and /ui.
  const page = tryBuildWebPage();
  if (page instanceof Error) process.stderr.write(`tocsin: ${page.message}\n`);
  const handle = httpApi(app, { files: () => page, atRoot: true });
  const listener = await listenIngest(ingestRequestListener(handle, LIMITS.maxWireBytes, app.ports.clock), { port, host: serve.host, ...(serve.tls ? { tls: serve.tls } : {}) });
  for (const warning of listener.warnings) process.stderr.write(`${warning}\n`);
  return listener;
}

async function main(): Promise<void> {
  const startedAt = Date.now();
  const options = parseOptions();
  if (!options) return;
  const config = loadConfigFile(resolveConfigPath());
  const sweepMs = sweepPeriodMs(process.env);
  const clusters = options.clusters ?? config.runtime.clusters;
  const { dataDir } = options;
  mkdirSync(dataDir, { recursive: true });
  const lock = await acquireDataDirLock(dataDir, (line) => process.stderr.write(`${line}\n`));
  process.on('exit', () => lock.release());
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const logger = jsonLogger((line) => process.stderr.write(`${line}\n`));

  const standIns = await startStandIns(dataDir, options.dynamodbEndpoint);
  const local = await openLocalBus(dataDir, logger, process.env);
  const { bus } = local;
  const keys = loadOrCreateKeys(resolve(dataDir, 'cluster-keys.json'), clusters);
  const adminKeys = loadOrCreateKeys(resolve(dataDir, 'admin-keys.json'), clusters);
  const viewerKeys = loadOrCreateKeys(resolve(dataDir, LOCAL_NAMES.viewerKeysFile), clusters);
  // Only the digests are kept: a token is shown once, when it is created.
  const consulTokens = loadOrCreateLocalConsulTokens(resolve(dataDir, LOCAL_NAMES.consulTokensFile), clusters);
  const slackApps = localSlackApps(config.runtime.channels, process.env, () => new DynamoSlackThreads(standIns.doc, LOCAL_NAMES.stateTable));
  const app = createApplication(
    // Watchers are judged on their silence since this runner started, not while it was stopped.
    { config: config.runtime, heartbeatGraceFromMs: startedAt, timerGraceMs: timerGraceMs(process.env), ...budgetOption(process.env) },
    awsPorts({
      clients: () => ({ doc: standIns.doc }),
      tableName: LOCAL_NAMES.stateTable,
      alertsTopicArn: local.alertsTopic,
      timersQueueUrl: local.timersQueue,
      config: config.runtime,
      logger,
      keys: { clusterKeys: new StaticClusterKeys(keys), adminKeys: new StaticClusterKeys(adminKeys), viewerKeys: new StaticClusterKeys(viewerKeys), consulTokens: consulTokens.tokens },
      silenceCacheMs: Number(process.env[LOCAL_ENV.silenceCacheMs] ?? 1000),
      overrides: {
        slackApps,
        channels: new BusAlertPublisher(bus, local.alertsTopic),
        timers: new BusTimerQueue(bus, local.timersQueue, systemClock),
        alertsProbe: new BusAlertsProbe(bus),
      },
    }),
  );
  // Every subscription exists before anything can publish (a timer due at start, a request).
  const workers: QueueWorker[] = [...local.workers];
  const channels = await startChannels(
    { config, bus, alertsTopic: local.alertsTopic, notificationsQueue: local.notificationsQueue, dataDir, state: { doc: standIns.doc, tableName: LOCAL_NAMES.stateTable }, logger, env: process.env, print: options.serve.quiet ? () => undefined : (text) => process.stdout.write(text) },
    config,
  );
  for (const c of channels) workers.push(...c.workers);
  workers.push(startTimersWorker({ bus, queue: local.timersQueue, app, logger }));
  const { server, origin } = await listen(app, options.port, options.serve);
  const url = `${origin}${ROUTES.ingest.path}`;
  // deployment.watchdog.url is the deployed sweeper's: a local runner pinging it would hide that one's death.
  const localSweeper = startLocalSweeper({ sweep: sweeper(app, { clusters }), periodMs: sweepMs, logger });

  say(`tocsin local pipeline ready: ${url}`);
  say(`# DynamoDB: ${standIns.dynamoEndpoint}  table ${LOCAL_NAMES.stateTable}`);
  say(`# message bus: ${bus.location}  topic ${local.alertsTopic}, timers queue ${local.timersQueue}`);
  say(`# notifications are recorded in ${local.notificationsFile}`);
  say(`# config: ${config.file}`);
  say(`# sweeper: every ${sweepMs / 1000} s (${LOCAL_ENV.sweepSeconds}); heartbeats and overdue timers of ${clusters.join(', ')}`);
  for (const c of channels) for (const line of c.banner) say(line);
  for (const line of await orphanedQueueLines(bus)) say(line);
  if (slackApps) say(`# slack actions: the Slack app's Interactivity Request URL is ${origin}${ROUTES.slackInteractions.path} (reachable by Slack: a tunnel)`);
  if (options.serve.quiet) say('# --quiet: notification bodies are not printed');
  if (options.serve.tls) say(`# HTTPS with ${options.serve.tls.certFile}; agents with a private CA: NODE_EXTRA_CA_CERTS=<ca.pem>`);
  say('# silences (npx tocsin silence ...) are signed with the admin key of the cluster:');
  say(`export TOCSIN_ADMIN_KEY=${adminKeys[clusters[0] as string]}`);
  say('# what is firing (npx tocsin alerts, history): the read-only viewer key, or the admin key:');
  say(`export TOCSIN_VIEWER_KEY=${viewerKeys[clusters[0] as string]}`);
  say(`# the web page (sign in with the viewer key; it asks for the admin key when an action needs it): ${origin}/`);
  say('# shim environment:');
  say(`export TOCSIN_URL=${url}`);
  say(`export TOCSIN_CLUSTER=${clusters[0]}`);
  say(`export TOCSIN_KEY=${keys[clusters[0] as string]}`);
  say(`# consul http handler: ${ROUTES.consulHttp.method} ${origin}${ROUTES.consulHttp.path}?${CONSUL_HTTP.clusterParam}=<cluster>`);
  for (const [cluster, token] of Object.entries(consulTokens.created)) {
    say(`# consul http handler token: ${token}  (cluster ${cluster}; shown once, only its SHA-256 is kept in ${LOCAL_NAMES.consulTokensFile})`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping`);
    await new Promise<void>((r) => server.close(() => r()));
    await localSweeper.stop();
    await Promise.all(workers.map((w) => w.stop()));
    await bus.close();
    await standIns.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`tocsin: ${err.message}\n`);
  process.exit(1);
});
