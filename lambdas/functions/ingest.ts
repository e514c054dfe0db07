/** Ingest Lambda behind the HTTP API: adapt the event, call the application's HTTP API. */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { httpApi } from '../app/application-http';
import type { HttpRequest } from '../app/http';
import { SecretsManagerClusterKeys } from '../adapters/cluster-keys';
import { SecretsManagerConsulTokens } from '../adapters/consul-tokens';
import { readIngestConfig } from '../commons/config';
import { jsonLogger } from '../commons/logger';
import { powertoolsMetrics } from '../adapters/powertools-metrics';
import { awsApplication } from './aws-application';

const config = readIngestConfig();
const secrets = new SecretsManagerClient({});
// Namespace and service (METRICS.env) from the environment the stack sets.
const metrics = powertoolsMetrics();
const handle = httpApi(
  awsApplication({
    logger: jsonLogger(),
    metrics,
    keys: {
      clusterKeys: new SecretsManagerClusterKeys(secrets, config.clusterSecretPrefix, config.clusters),
      adminKeys: new SecretsManagerClusterKeys(secrets, config.adminSecretPrefix, config.clusters),
      consulTokens: new SecretsManagerConsulTokens(secrets, config.clusterSecretPrefix, config.clusters),
    },
  }),
);

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
  let res;
  try {
    res = await handle(toHttpRequest(event));
  } finally {
    metrics.flush();
  }
  return {
    statusCode: res.status,
    // API Gateway adds its own Date too; both come from AWS's synchronised clocks, the one
    // the signature window is checked with (protocol.ts CLOCK_SKEW).
    headers: { 'content-type': 'application/json', ...res.headers, date: new Date().toUTCString() },
    body: JSON.stringify(res.body),
  };
}
