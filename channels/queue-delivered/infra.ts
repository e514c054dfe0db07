/**
 * The CDK resources of a queue-delivered kind (PagerDuty, webhook), as Slack's: per channel
 * a KMS-encrypted queue named for the channel worker, subscribed to the alerts topic with
 * the filter { channels: [<name>] } (plus the severities of its minSeverity), drained by
 * the channel worker, which may read the channel's parameter or secret; one dead-letter queue per kind,
 * alarmed on, which the worker may also send to (a notification refused for good goes
 * there at once, app/channel-delivery.ts).
 */
import { Duration } from 'aws-cdk-lib';
import { SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { channelFilterPolicy } from '../../lambdas/commons/deployment';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { Severity } from '../../lambdas/domain/types';
import type { QueueEventSource } from '../../lib/channel-worker';
import { grantChannelSecretRead } from '../../lib/channel-secrets';
import { acknowledgeDeadLetterQueue } from '../../lib/nag';
import { ALARM_PERIOD } from '../../lib/operations-alarms';
import { severitiesAtOrAbove } from '../email/infra';
import { snsQueueEncryption, type ChannelDeployment, type ChannelInfraContext, type DeployedChannel } from '../kind-infra';
import { CHANNEL_SECRET_KEYS, missingSecretIssue, secretLocationOf, type SecretLocation } from '../secret-location';

/** At most 2 concurrent pollers per queue (SQS's minimum), 5 messages each. */
export const QUEUE_EVENT_SOURCE: QueueEventSource = { maxConcurrency: 2, batchSize: 5 };

export interface DeployedQueueChannel extends DeployedChannel {
  /** The parameter or secret the worker reads for this channel. */
  readonly secret: SecretLocation;
  /** Lowest severity delivered; undefined = every severity. */
  readonly minSeverity?: Severity;
}

export interface QueueChannelResources {
  /** By channel name. */
  readonly queues: ReadonlyMap<string, Queue>;
  /** Only when the kind has channels. */
  readonly deadLetterQueue?: Queue;
}

export function buildQueueChannels(
  { scope, alertsTopic, topicKey, deliveryDeadLetterQueue, alarm, channelWorker, channels }: ChannelInfraContext<DeployedQueueChannel>,
  opts: { readonly label: string; readonly maxReceiveCount: number; readonly dlqAlarm: string },
): QueueChannelResources {
  const queues = new Map<string, Queue>();
  if (channels.length === 0) return { queues };

  const deadLetterQueue = new Queue(scope, 'Dlq', { ...snsQueueEncryption(topicKey), enforceSSL: true, retentionPeriod: Duration.days(14) });
  acknowledgeDeadLetterQueue(deadLetterQueue, `the ${opts.label} channel queues`);
  alarm('DlqDepth', deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }), opts.dlqAlarm);

  const worker = channelWorker();
  // What SendMessage to a KMS-encrypted queue needs, named (grantSendMessages adds kms:ReEncrypt* and GenerateDataKey* wildcards).
  deadLetterQueue.grant(worker, 'sqs:SendMessage');
  topicKey?.grant(worker, 'kms:GenerateDataKey', 'kms:Decrypt');
  for (const channel of channels) {
    const queue = new Queue(scope, `Queue-${channel.name}`, {
      // The worker knows a record's channel by its queue's name (CHANNEL_QUEUES).
      queueName: worker.queueName(channel.name),
      ...snsQueueEncryption(topicKey),
      enforceSSL: true,
      visibilityTimeout: worker.queueVisibilityTimeout,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: opts.maxReceiveCount },
    });
    const policy = channelFilterPolicy(channel.name, channel.minSeverity ? severitiesAtOrAbove(channel.minSeverity) : undefined);
    alertsTopic.addSubscription(
      new SqsSubscription(queue, {
        filterPolicy: Object.fromEntries(Object.entries(policy).map(([k, allowlist]) => [k, SubscriptionFilter.stringFilter({ allowlist })])),
        deadLetterQueue: deliveryDeadLetterQueue,
      }),
    );
    worker.drain(channel.name, queue, QUEUE_EVENT_SOURCE);
    grantChannelSecretRead(scope, `Secret-${channel.name}`, channel.secret, worker);
    queues.set(channel.name, queue);
  }
  return { queues, deadLetterQueue };
}

/**
 * A queue-delivered channel's deployment view: where its secret is (secretParameter or
 * secretName, `holding` what), its minSeverity; or what it lacks. `more`: the kind's own issues.
 */
export function queueChannelDeployment(
  name: string,
  spec: { readonly minSeverity?: Severity },
  what: { readonly channel: string; readonly holding: string },
  more: readonly ConfigIssue[] = [],
): ChannelDeployment<DeployedQueueChannel> {
  const secret = secretLocationOf(spec, CHANNEL_SECRET_KEYS);
  const issues = [...(secret ? [] : [missingSecretIssue(CHANNEL_SECRET_KEYS, what.channel, what.holding)]), ...more];
  if (issues.length > 0 || !secret) return { issues };
  return { channel: { name, secret, ...(spec.minSeverity && spec.minSeverity !== 'info' ? { minSeverity: spec.minSeverity } : {}) } };
}
