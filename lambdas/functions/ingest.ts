/** Ingest Lambda behind the HTTP API: adapt the event, call the transport-neutral handler. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { readIngestConfig } from '../commons/config';
import { jsonLogger } from '../commons/logger';
import { createIngestHandler, type HttpRequest } from '../app/ingest-http';
import { DynamoScopeStore, DynamoSubjectStore } from '../adapters/dynamo-state-store';
import { DynamoReplayGuard } from '../adapters/dynamo-replay-guard';
import { SnsAlertPublisher } from '../adapters/sns-publisher';
import { SecretsManagerClusterKeys } from '../adapters/cluster-keys';
import { SecretsManagerConsulTokens } from '../adapters/consul-tokens';
import { defaultCheckPolicy } from '../domain/check-transitions';
import { systemClock } from '../app/ports';

const config = readIngestConfig();
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});

const secrets = new SecretsManagerClient({});
const handle = createIngestHandler({
  keys: new SecretsManagerClusterKeys(secrets, config.clusterSecretPrefix, config.clusters),
  consulTokens: new SecretsManagerConsulTokens(secrets, config.clusterSecretPrefix, config.clusters),
  replay: new DynamoReplayGuard(doc, config.tableName),
  sources: {
    subjects: new DynamoSubjectStore(doc, config.tableName),
    scopes: new DynamoScopeStore(doc, config.tableName),
    publisher: new SnsAlertPublisher(new SNSClient({}), config.alertsTopicArn),
    checkPolicy: defaultCheckPolicy,
    clock: systemClock,
  },
  logger: jsonLogger(),
});

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
