/** Ingest Lambda behind the HTTP API: adapt the event, call the application's HTTP API. */
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { httpApi } from '../app/application-http';
import { toApiGatewayResult, toHttpRequest } from '../adapters/api-gateway-request';
import { SsmClusterKeys } from '../adapters/cluster-keys';
import { PARAMETER_STORE_CLIENT } from '../adapters/parameter-values';
import { SsmConsulTokens } from '../adapters/consul-tokens';
import { bundledConfig } from '../commons/bundled-config';
import { readIngestConfig, requiredEnv } from '../commons/config';
import { emittedMetrics, LAMBDA_ENV } from '../commons/deployment';
import { jsonLogger } from '../commons/logger';
import { powertoolsMetrics } from '../adapters/powertools-metrics';
import { awsApplication } from './aws-application';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoSlackThreads } from '../adapters/dynamo-slack-threads';
import { deployedSlackApps } from '../../channels/slack/interactivity';
import type { SlackApps } from '../app/slack-interactions';
import { readWebPageFiles } from '../adapters/web-page-files';
import { WEB_PAGE } from '../app/web-page';

const slackAppsOption = (apps: SlackApps | undefined) => (apps ? { slackApps: apps } : {});
/** The app channels' threads (the state table), for an acknowledgement through the API to be said in Slack. */
let threads: DynamoSlackThreads | undefined;
const slackThreads = () =>
  (threads ??= new DynamoSlackThreads(DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }), requiredEnv(LAMBDA_ENV.tableName)));

const config = readIngestConfig(bundledConfig().config.clusters);
// Cluster keys: SSM SecureString parameters. Slack app channels' secrets (made by the user): a parameter or a Secrets Manager secret.
const parameters = new SSMClient(PARAMETER_STORE_CLIENT);
let secretsManager: SecretsManagerClient | undefined;
const secrets = { parameters: () => parameters, secrets: () => (secretsManager ??= new SecretsManagerClient({})) };
// Namespace and service (METRICS.env) from the environment the stack sets.
const metrics = powertoolsMetrics({ emitted: emittedMetrics() });
const handle = httpApi(
  awsApplication({
    logger: jsonLogger(),
    metrics,
    keys: {
      clusterKeys: new SsmClusterKeys(parameters, config.clusterSecretPrefix, config.clusters),
      adminKeys: new SsmClusterKeys(parameters, config.adminSecretPrefix, config.clusters),
      viewerKeys: new SsmClusterKeys(parameters, config.viewerSecretPrefix, config.clusters),
      consulTokens: new SsmConsulTokens(parameters, config.clusterSecretPrefix, config.clusters),
    },
    ...slackAppsOption(deployedSlackApps(bundledConfig().config.channels, secrets, slackThreads)),
  }),
  // The web page's files, shipped beside the bundle by the CDK app (lib/ingest-api.ts); read on its first request.
  { files: () => readWebPageFiles(join(__dirname, WEB_PAGE.directory)) },
);

export async function handler(event: APIGatewayProxyEventV2, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<APIGatewayProxyStructuredResultV2> {
  let res;
  try {
    // The function's own time limit shortens the processing budget (PROCESSING_BUDGET).
    res = await handle({ ...toHttpRequest(event), ...(context ? { remainingMs: context.getRemainingTimeInMillis() } : {}) });
  } finally {
    metrics.flush();
  }
  return toApiGatewayResult(res, Date.now());
}
