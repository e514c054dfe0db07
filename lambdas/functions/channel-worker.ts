/**
 * Slack notifier Lambda: one SQS event source per Slack channel queue (each subscribed
 * to the alerts topic with the filter { channels: [<channel>] }), maxConcurrency 2.
 * Same delivery code as `npm start` (app/slack-notifier.ts). Failed messages are
 * reported as batchItemFailures after their visibility is set to the retry delay (a
 * 429's Retry-After); the redrive policy moves repeat failures to the Slack DLQ.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { sleep } from '../app/concurrency';
import { systemClock } from '../app/runtime';
import { deliverBatch } from '../app/slack-notifier';
import { FetchWebhookPoster, SecretsManagerWebhookUrls } from '../adapters/slack-webhook';
import { bundledConfig } from '../commons/bundled-config';
import { jsonLogger } from '../commons/logger';
import { LAMBDA_ENV } from '../commons/deployment';
import { requiredEnv } from '../commons/config';

/** Each of the (at most 2) concurrent pollers of a queue posts at most every 2 s: ≈1 msg/s per webhook. */
export const MIN_INTERVAL_MS = 2000;
const RETRY_BASE_SECONDS = 30;

const { config } = bundledConfig();
const logger = jsonLogger();
const queues = JSON.parse(requiredEnv(LAMBDA_ENV.slackQueues)) as Record<string, string>;
const secretNames = Object.fromEntries(
  Object.entries(config.channels).flatMap(([name, ch]) => (ch.type === 'slack' && ch.secretName ? [[name, ch.secretName]] : [])),
);
const sqs = new SQSClient({});
const deps = {
  poster: new FetchWebhookPoster(),
  urls: new SecretsManagerWebhookUrls(new SecretsManagerClient({}), secretNames),
  clock: systemClock,
  sleep,
  minIntervalMs: MIN_INTERVAL_MS,
  retryBaseSeconds: RETRY_BASE_SECONDS,
  ...(config.links?.alert ? { linkTemplate: config.links.alert } : {}),
  logger,
};

/** Queue URL from its ARN (arn:aws:sqs:region:account:name). */
export function queueUrlOf(arn: string): string {
  const [, partition, , region, account, name] = arn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const byQueue = new Map<string, SQSEvent['Records']>();
  for (const r of event.Records) byQueue.set(r.eventSourceARN, [...(byQueue.get(r.eventSourceARN) ?? []), r]);
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const [arn, records] of byQueue) {
    const channel = queues[arn];
    if (!channel) {
      logger.error('records from an unknown queue', { arn });
      batchItemFailures.push(...records.map((r) => ({ itemIdentifier: r.messageId })));
      continue;
    }
    const results = await deliverBatch(
      deps,
      channel,
      records.map((r) => ({ id: r.messageId, body: r.body, receiveCount: Number(r.attributes.ApproximateReceiveCount ?? 1) })),
    );
    for (const result of results) {
      if (result.ok) continue;
      const record = records.find((r) => r.messageId === result.id);
      try {
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrlOf(arn), ReceiptHandle: record?.receiptHandle, VisibilityTimeout: result.retryAfterSeconds }));
      } catch (err) {
        logger.error('could not set the retry delay', { error: (err as Error).message }); // the queue's own visibility timeout applies
      }
      batchItemFailures.push({ itemIdentifier: result.id });
    }
  }
  return { batchItemFailures };
}
