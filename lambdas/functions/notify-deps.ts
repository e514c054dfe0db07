/** What the ingest and timer Lambdas share: the dispatcher over SNS, SQS and DynamoDB. */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Dispatcher } from '../app/dispatcher';
import { type Logger, systemClock } from '../app/runtime';
import { DynamoSilenceStore, DynamoStormGate } from '../adapters/dynamo-notify-store';
import { SnsAlertPublisher } from '../adapters/sns-publisher';
import { SqsTimerQueue } from '../adapters/sqs-timers';
import { LAMBDA_ENV } from '../commons/deployment';
import { requiredEnv } from '../commons/config';
import type { RuleSet } from '../domain/rules/evaluate';
import type { RuntimeConfig } from '../domain/rules/types';
import { alertLink } from '../domain/render';

export function notifyDeps(opts: { doc: DynamoDBDocumentClient; sns: SNSClient; sqs: SQSClient; tableName: string; topicArn: string; config: RuntimeConfig; rules: RuleSet; logger: Logger }) {
  const channels = new SnsAlertPublisher(opts.sns, opts.topicArn, (a) => alertLink(opts.config.links?.alert, a));
  const timers = new SqsTimerQueue(opts.sqs, requiredEnv(LAMBDA_ENV.timersQueueUrl), systemClock);
  const silences = new DynamoSilenceStore(opts.doc, opts.tableName);
  const dispatcher = new Dispatcher({
    rules: opts.rules,
    channels,
    timers,
    clock: systemClock,
    silences,
    storm: new DynamoStormGate(opts.doc, opts.tableName, opts.config.grouping),
    logger: opts.logger,
  });
  return { channels, timers, silences, dispatcher };
}
