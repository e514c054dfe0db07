/**
 * The application as every Lambda runs it: AWS clients, names from the environment (read
 * at init, so a missing one fails the cold start loudly), tocsin.yaml's runtime config
 * bundled at synth time, and the composition root. Built once per cold start.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createApplication, type Application } from '../app/application';
import type { Logger, Metrics } from '../app/runtime';
import type { SlackApps } from '../app/slack-interactions';
import { awsPorts, type ApiKeys } from '../adapters/aws-ports';
import { bundledConfig } from '../commons/bundled-config';
import { requiredEnv } from '../commons/config';
import { LAMBDA_ENV } from '../commons/deployment';

export function awsApplication(opts: { logger: Logger; metrics?: Metrics; keys?: ApiKeys; watchdogUrl?: string; slackApps?: SlackApps }): Application {
  const tableName = requiredEnv(LAMBDA_ENV.tableName);
  const alertsTopicArn = requiredEnv(LAMBDA_ENV.alertsTopicArn);
  const timersQueueUrl = requiredEnv(LAMBDA_ENV.timersQueueUrl);
  // Rules, channels and grouping from tocsin.yaml, bundled at synth time; read once.
  const { config, rules } = bundledConfig();
  let clients: { doc: DynamoDBDocumentClient; sns: SNSClient; sqs: SQSClient } | undefined;
  const ports = awsPorts({
    clients: () =>
      (clients ??= {
        doc: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
        sns: new SNSClient({}),
        sqs: new SQSClient({}),
      }),
    tableName,
    alertsTopicArn,
    timersQueueUrl,
    config,
    logger: opts.logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.keys ? { keys: opts.keys } : {}),
    ...(opts.watchdogUrl ? { watchdogUrl: opts.watchdogUrl } : {}),
    ...(opts.slackApps ? { slackApps: opts.slackApps } : {}),
  });
  return createApplication({ config, rules }, ports);
}
