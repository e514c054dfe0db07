/** Ingest Lambda behind the HTTP API: adapt the event, call the transport-neutral handler. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readIngestConfig } from '../commons/config';
import { jsonLogger } from '../commons/logger';
import { createIngestHandler } from '../app/ingest-http';
import type { HttpRequest } from '../app/http';
import { DynamoScopeStore, DynamoSubjectStore } from '../adapters/dynamo-state-store';
import { DynamoReplayGuard } from '../adapters/dynamo-replay-guard';
import { SecretsManagerClusterKeys } from '../adapters/cluster-keys';
import { SecretsManagerConsulTokens } from '../adapters/consul-tokens';
import { defaultCheckPolicy } from '../domain/check-transitions';
import { systemClock } from '../app/runtime';
import { createSilenceApi, withSilenceRoutes } from '../app/silence-api';
import { bundledConfig } from '../commons/bundled-config';
import { notifyDeps } from './notify-deps';

const config = readIngestConfig();
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

const secrets = new SecretsManagerClient({});
const replay = new DynamoReplayGuard(doc, config.tableName);
const logger = jsonLogger();
// Rules, channels and grouping from tocsin.yaml, bundled at synth time; read once.
const rules = bundledConfig();
const notify = notifyDeps({ doc, sns: new SNSClient({}), sqs: new SQSClient({}), tableName: config.tableName, topicArn: config.alertsTopicArn, ...rules, logger });
const ingest = createIngestHandler({
  keys: new SecretsManagerClusterKeys(secrets, config.clusterSecretPrefix, config.clusters),
  consulTokens: new SecretsManagerConsulTokens(secrets, config.clusterSecretPrefix, config.clusters),
  replay,
  sources: {
    subjects: new DynamoSubjectStore(doc, config.tableName),
    scopes: new DynamoScopeStore(doc, config.tableName),
    publisher: notify.dispatcher,
    rules: rules.rules,
    checkPolicy: defaultCheckPolicy,
    clock: systemClock,
  },
  logger,
});
const silences = createSilenceApi({
  adminKeys: new SecretsManagerClusterKeys(secrets, config.adminSecretPrefix, config.clusters),
  replay,
  silences: notify.silences,
  clock: systemClock,
  logger,
});
const handle = withSilenceRoutes(silences, ingest);

export function toHttpRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
  const raw = event.body ?? '';
  return {
    method: event.requestContext.http.method,
    path: event.rawPath,
    headers,
    query: event.queryStringParameters ?? {},
    body: Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'),
  };
}

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  const res = await handle(toHttpRequest(event));
  return {
    statusCode: res.status,
    headers: { 'content-type': 'application/json', ...res.headers },
    body: JSON.stringify(res.body),
  };
}
