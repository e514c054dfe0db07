/**
 * `npm start`: the ingest pipeline on one machine, no AWS account needed.
 * The same handler as the Lambda, with dynalite (or any DynamoDB endpoint) and
 * fauxqs standing in for DynamoDB, SNS and SQS.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_DEFAULTS, LOCAL_NAMES } from './names';
import { CONSUL_HTTP, LIMITS, ROUTES } from '../lambdas/domain/protocol';
import { createIngestHandler } from '../lambdas/app/ingest-http';
import { systemClock } from '../lambdas/app/runtime';
import { DynamoScopeStore, DynamoSubjectStore } from '../lambdas/adapters/dynamo-state-store';
import { DynamoReplayGuard } from '../lambdas/adapters/dynamo-replay-guard';
import { StaticClusterKeys } from '../lambdas/adapters/cluster-keys';
import { loadOrCreateLocalConsulTokens } from '../lambdas/adapters/consul-tokens';
import { defaultCheckPolicy } from '../lambdas/domain/check-transitions';
import { jsonLogger } from '../lambdas/commons/logger';
import { dynamoClients, ensureStateTable, startDynalite } from './dynamodb';
import { startSnsSqs } from './sns-sqs';
import { createHttpServer } from './http-server';
import { startNotificationPrinter } from './notifications';
import { loadConfigFile, resolveConfigPath } from '../lambdas/commons/config-file';
import { withSilenceRoutes } from '../lambdas/app/silence-api';
import { startLocalNotify } from './notify';

const USAGE = `Usage: npm start -- [options]

Runs the tocsin ingest pipeline locally on ${LOCAL_DEFAULTS.host}.

Options:
  --port N                 HTTP port (default ${LOCAL_DEFAULTS.port}; 0 picks a free one)
  --data-dir DIR           state, cluster keys and notifications (default ${LOCAL_DEFAULTS.dataDir})
  --dynamodb-endpoint URL  use this DynamoDB endpoint (DynamoDB Local, or AWS) instead of embedded dynalite
  --cluster NAME           cluster to accept (repeatable; default: the clusters of tocsin.yaml)

Configuration: tocsin.yaml in the working directory, or the file named by TOCSIN_CONFIG
(clusters, channels, rules; Slack channels are delivered to their webhookUrl).
  --help                   this text
`;

function loadOrCreateKeys(path: string, clusters: string[]): Record<string, string> {
  const keys: Record<string, string> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
  let changed = false;
  for (const cluster of clusters) {
    if (!keys[cluster]) {
      keys[cluster] = randomBytes(32).toString('base64url');
      changed = true;
    }
  }
  if (changed) writeFileSync(path, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return Object.fromEntries(clusters.map((c) => [c, keys[c] as string]));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(LOCAL_DEFAULTS.port) },
      'data-dir': { type: 'string', default: LOCAL_DEFAULTS.dataDir },
      'dynamodb-endpoint': { type: 'string' },
      cluster: { type: 'string', multiple: true },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${values.port} is not a port number`);
  const config = loadConfigFile(resolveConfigPath());
  const clusters = values.cluster?.length ? values.cluster : config.runtime.clusters;
  const dataDir = resolve(values['data-dir']);
  mkdirSync(dataDir, { recursive: true });
  const say = (line: string) => process.stdout.write(`${line}\n`);

  const dynamo = values['dynamodb-endpoint'] ? undefined : await startDynalite(resolve(dataDir, 'dynamodb'));
  const dynamoEndpoint = values['dynamodb-endpoint'] ?? dynamo?.endpoint;
  const { client, doc } = dynamoClients(dynamoEndpoint);
  await ensureStateTable(client, LOCAL_NAMES.stateTable);
  const snsSqs = await startSnsSqs();

  const keys = loadOrCreateKeys(resolve(dataDir, 'cluster-keys.json'), clusters);
  const logger = jsonLogger((line) => process.stderr.write(`${line}\n`));
  const notify = await startLocalNotify({
    config,
    clusters,
    doc,
    sns: snsSqs.sns,
    sqs: snsSqs.sqs,
    alertsTopicArn: snsSqs.alertsTopicArn,
    adminKeysPath: resolve(dataDir, 'admin-keys.json'),
    logger,
  });
  // Only the digests are kept: a token is shown once, when it is created.
  const consulTokens = loadOrCreateLocalConsulTokens(resolve(dataDir, LOCAL_NAMES.consulTokensFile), clusters);
  const handle = createIngestHandler({
    keys: new StaticClusterKeys(keys),
    consulTokens: consulTokens.tokens,
    replay: new DynamoReplayGuard(doc, LOCAL_NAMES.stateTable),
    sources: {
      subjects: new DynamoSubjectStore(doc, LOCAL_NAMES.stateTable),
      scopes: new DynamoScopeStore(doc, LOCAL_NAMES.stateTable),
      publisher: notify.publisher,
      rules: notify.rules,
      checkPolicy: defaultCheckPolicy,
      clock: systemClock,
    },
    logger,
  });
  const server = createHttpServer(withSilenceRoutes(notify.silenceApi, handle), LIMITS.maxBodyBytes);
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, LOCAL_DEFAULTS.host, () => ok());
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${LOCAL_DEFAULTS.host}:${boundPort}${ROUTES.ingest.path}`;

  const jsonlPath = resolve(dataDir, 'notifications.jsonl');
  const printer = startNotificationPrinter({
    sqs: snsSqs.sqs,
    queueUrl: snsSqs.notificationsQueueUrl,
    jsonlPath,
    print: (text) => process.stdout.write(text),
    onError: (err) => process.stderr.write(`notification delivery failed: ${err.message}\n`),
  });

  say(`tocsin local pipeline ready: ${url}`);
  say(`# DynamoDB: ${dynamoEndpoint}  table ${LOCAL_NAMES.stateTable}`);
  say(`# SNS/SQS: ${snsSqs.endpoint}  topic ${snsSqs.alertsTopicArn}`);
  say(`# notifications are appended to ${jsonlPath}`);
  say(`# config: ${config.file}`);
  for (const line of notify.banner) say(line);
  say('# silences (npx tocsin silence ...) are signed with the admin key of the cluster:');
  say(`export TOCSIN_ADMIN_KEY=${notify.adminKeys[clusters[0] as string]}`);
  say('# shim environment:');
  say(`export TOCSIN_URL=${url}`);
  say(`export TOCSIN_CLUSTER=${clusters[0]}`);
  say(`export TOCSIN_KEY=${keys[clusters[0] as string]}`);
  say(`# consul http handler: ${ROUTES.consulHttp.method} http://${LOCAL_DEFAULTS.host}:${boundPort}${ROUTES.consulHttp.path}?${CONSUL_HTTP.clusterParam}=<cluster>`);
  for (const [cluster, token] of Object.entries(consulTokens.created)) {
    say(`# consul http handler token: ${token}  (cluster ${cluster}; shown once, only its SHA-256 is kept in ${LOCAL_NAMES.consulTokensFile})`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\n${signal}: stopping`);
    await new Promise<void>((r) => server.close(() => r()));
    await printer.stop();
    await notify.stop();
    await snsSqs.stop();
    await dynamo?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: Error) => {
  process.stderr.write(`tocsin: ${err.message}\n`);
  process.exit(1);
});
