/**
 * Delayed worker Lambda: SQS event source on the timers queue (ReportBatchItemFailures).
 * `for` and `repeat` timers re-check the stored episode; digest timers send the storm digest.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { systemClock } from '../app/runtime';
import { handleTimer, parseTimer } from '../app/timer-worker';
import { DynamoDigestStore } from '../adapters/dynamo-notify-store';
import { DynamoSubjectStore } from '../adapters/dynamo-state-store';
import { bundledConfig } from '../commons/bundled-config';
import { jsonLogger } from '../commons/logger';
import { LAMBDA_ENV } from '../commons/deployment';
import { notifyDeps } from './notify-deps';
import { requiredEnv } from '../commons/config';

const tableName = requiredEnv(LAMBDA_ENV.tableName);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
const logger = jsonLogger();
const rules = bundledConfig();
const notify = notifyDeps({ doc, sns: new SNSClient({}), sqs: new SQSClient({}), tableName, topicArn: requiredEnv(LAMBDA_ENV.alertsTopicArn), ...rules, logger });
const deps = {
  subjects: new DynamoSubjectStore(doc, tableName),
  publisher: notify.dispatcher,
  channels: notify.channels,
  timers: notify.timers,
  digests: new DynamoDigestStore(doc, tableName),
  grouping: rules.config.grouping,
  clock: systemClock,
};

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      const outcome = await handleTimer(deps, parseTimer(record.body));
      logger.info('timer', { outcome, messageId: record.messageId });
    } catch (err) {
      logger.error('timer failed', { messageId: record.messageId, error: (err as Error).message });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
