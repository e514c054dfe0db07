/**
 * Channel worker Lambda: one SQS event source per channel queue of every kind tocsin
 * delivers itself (Slack, PagerDuty, webhooks, Teams; each queue, named CHANNEL_QUEUES, subscribed to the alerts topic with the filter
 * { channels: [<channel>] }), maxConcurrency 2. The same delivery code as `npm start`
 * (app/channel-delivery.ts) with the channel kind's renderer and sender, and the templates of tocsin.yaml (channels/templates.ts). Failed messages
 * are reported as batchItemFailures after their visibility is set to the retry delay (a
 * 429's Retry-After); the redrive policy moves repeat failures to the kind's DLQ. A message
 * refused for good (`deadLetter`) is sent to the DLQ of its queue's redrive policy at once,
 * with its reason as a message attribute, and deleted; if that send fails, it is retried
 * like any failure (the redrive still takes it).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { channelKind } from '../../channels';
import { channelTexts } from '../../channels/templates';
import { deliverBatch, type ChannelDeliveryDeps } from '../app/channel-delivery';
import { sleep } from '../app/concurrency';
import { systemClock } from '../app/runtime';
import { bundledConfig } from '../commons/bundled-config';
import { requiredEnv } from '../commons/config';
import { jsonLogger } from '../commons/logger';
import { CHANNEL_QUEUES, LAMBDA_ENV } from '../commons/deployment';
import { SqsDeadLetters } from '../adapters/sqs-dead-letters';
import type { SecretClients } from '../../channels/queue-delivered/secrets';

const RETRY_BASE_SECONDS = 30;

const { config } = bundledConfig();
const logger = jsonLogger();
const queuePrefix = requiredEnv(LAMBDA_ENV.channelQueuePrefix);
const sqs = new SQSClient({});
/**
 * The channels' secrets: SSM SecureString parameters or Secrets Manager secrets
 * (channels/secret-location.ts). The SSM client is loaded and made when a channel first
 * needs it (a cold start with only Secrets Manager secrets does not load it).
 */
let ssm: SSMClient | undefined;
let secretsManager: SecretsManagerClient | undefined;
const secrets: SecretClients = {
  parameters: () => {
    if (!ssm) {
      const { SSMClient: Client } = require('@aws-sdk/client-ssm') as typeof import('@aws-sdk/client-ssm');
      const { PARAMETER_STORE_CLIENT } = require('../adapters/parameter-values') as typeof import('../adapters/parameter-values');
      ssm = new Client(PARAMETER_STORE_CLIENT);
    }
    return ssm;
  },
  secrets: () => (secretsManager ??= new SecretsManagerClient({})),
};
/** The state table, for kinds that remember what they sent (Slack app threads); its name is set only when one is deployed. */
const state = () => ({
  doc: DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } }),
  tableName: requiredEnv(LAMBDA_ENV.tableName),
});

/** Delivery dependencies per channel kind, built on first use. */
const byKind = new Map<string, ChannelDeliveryDeps<unknown>>();
const texts = channelTexts(config);
function deliveryFor(channel: string): ChannelDeliveryDeps<unknown> | undefined {
  const type = config.channels[channel]?.type;
  const kind = type ? channelKind(type) : undefined;
  if (!type || !kind?.worker) return undefined;
  let deps = byKind.get(type);
  if (!deps) {
    const ofKind = Object.fromEntries(Object.entries(config.channels).filter(([, ch]) => ch.type === type));
    deps = {
      render: (alert, link, text) => kind.render(alert, link, text),
      texts,
      sender: kind.worker.sender(ofKind, { secrets, state }),
      clock: systemClock,
      sleep,
      minIntervalMs: kind.worker.minIntervalMs,
      retryBaseSeconds: RETRY_BASE_SECONDS,
      ...(config.links?.alert ? { linkTemplate: config.links.alert } : {}),
      logger,
    };
    byKind.set(type, deps);
  }
  return deps;
}

/** Queue URL from its ARN (arn:aws:sqs:region:account:name). */
export function queueUrlOf(arn: string): string {
  const [, partition, , region, account, name] = arn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

const deadLetters = new SqsDeadLetters(sqs, queueUrlOf);

/** Sends a refused notification to its queue's DLQ with the reason; false when it could not. */
async function deadLetter(queueArn: string, body: string, reason: string): Promise<boolean> {
  try {
    await deadLetters.send(queueArn, body, reason);
    logger.error('notification moved to the dead-letter queue', { queue: queueArn, reason });
    return true;
  } catch (err) {
    logger.error('could not move a refused notification to the dead-letter queue; retried instead', { queue: queueArn, error: (err as Error).message });
    return false;
  }
}

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const byQueue = new Map<string, SQSEvent['Records']>();
  for (const r of event.Records) byQueue.set(r.eventSourceARN, [...(byQueue.get(r.eventSourceARN) ?? []), r]);
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const [arn, records] of byQueue) {
    const channel = CHANNEL_QUEUES.channelOf(queuePrefix, arn);
    const deps = channel ? deliveryFor(channel) : undefined;
    if (!channel || !deps) {
      logger.error('records from an unknown queue or channel', { arn, channel });
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
      if (result.deadLetter && record && (await deadLetter(arn, record.body, result.reason))) continue;
      try {
        await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrlOf(arn), ReceiptHandle: record?.receiptHandle, VisibilityTimeout: result.deadLetter ? 30 : result.retryAfterSeconds }));
      } catch (err) {
        logger.error('could not set the retry delay', { error: (err as Error).message }); // the queue's own visibility timeout applies
      }
      batchItemFailures.push({ itemIdentifier: result.id });
    }
  }
  return { batchItemFailures };
}
