/**
 * Slack channels at deploy time: per channel a KMS-encrypted queue subscribed to the
 * alerts topic with the filter { channels: [<name>] }, drained by the channel worker
 * (≈1 msg/s per webhook), which may read the channel's webhook secret; one dead-letter
 * queue for all of them, alarmed on.
 */
import { Duration } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { channelFilterPolicy } from '../../lambdas/commons/deployment';
import type { Severity } from '../../lambdas/domain/types';
import type { QueueEventSource } from '../../lib/channel-worker';
import { keepLogicalId, keepQueueLogicalIds } from '../../lib/logical-ids';
import { acknowledgeDeadLetterQueue } from '../../lib/nag';
import { ALARM_PERIOD } from '../../lib/operations-alarms';
import { severitiesAtOrAbove } from '../email/infra';
import type { ChannelInfra, DeployedChannel } from '../kind-infra';

/** SQS event source of each Slack queue: at most 2 concurrent pollers (the minimum), 5 messages each. */
export const SLACK_EVENT_SOURCE: QueueEventSource = { maxConcurrency: 2, batchSize: 5 };

export interface DeployedSlackChannel extends DeployedChannel {
  /** Secrets Manager secret holding the webhook URL. */
  readonly secretName: string;
  /** Lowest severity delivered; undefined = every severity. */
  readonly minSeverity?: Severity;
}

export interface SlackResources {
  /** By channel name. */
  readonly queues: ReadonlyMap<string, Queue>;
  /** Only when there are Slack channels. */
  readonly deadLetterQueue?: Queue;
}

/** The construct these resources were created in before channel kinds had their own: their logical ids stay. */
const LEGACY_SCOPE = 'Notifications';

export const SLACK_INFRA: ChannelInfra<'slack', DeployedSlackChannel, SlackResources> = {
  deployment: (name, spec) =>
    spec.secretName
      ? { channel: { name, secretName: spec.secretName, ...(spec.minSeverity && spec.minSeverity !== 'info' ? { minSeverity: spec.minSeverity } : {}) } }
      : { issues: [{ path: [], reason: 'a slack channel needs secretName (the Secrets Manager secret holding its webhook URL) to be deployed' }] },

  build({ scope, alertsTopic, topicKey, deliveryDeadLetterQueue, alarm, channelWorker, delivery, channels }) {
    const queues = new Map<string, Queue>();
    if (channels.length === 0) return { queues };

    const deadLetterQueue = new Queue(scope, 'Dlq', { encryption: QueueEncryption.KMS, encryptionMasterKey: topicKey, enforceSSL: true, retentionPeriod: Duration.days(14) });
    keepQueueLogicalIds(deadLetterQueue, `${LEGACY_SCOPE}/SlackDlq`);
    acknowledgeDeadLetterQueue(deadLetterQueue, 'the Slack channel queues');
    alarm(
      'DlqDepth',
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      'Slack notifications failed repeatedly (webhook down, revoked or rate limited); they are in the Slack dead-letter queue.',
    );

    const worker = channelWorker();
    for (const channel of channels) {
      const queue = new Queue(scope, `Queue-${channel.name}`, {
        // The worker knows a record's channel by its queue's name (CHANNEL_QUEUES).
        queueName: worker.queueName(channel.name),
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: topicKey,
        enforceSSL: true,
        visibilityTimeout: worker.queueVisibilityTimeout,
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: delivery.slack.maxReceiveCount },
      });
      const legacyPath = `${LEGACY_SCOPE}/Slack-${channel.name}`;
      keepQueueLogicalIds(queue, legacyPath);
      const subscription = alertsTopic.addSubscription(
        new SqsSubscription(queue, {
          filterPolicy: Object.fromEntries(
            Object.entries(channelFilterPolicy(channel.name, channel.minSeverity ? severitiesAtOrAbove(channel.minSeverity) : undefined)).map(([k, allowlist]) => [
              k,
              SubscriptionFilter.stringFilter({ allowlist }),
            ]),
          ),
          deadLetterQueue: deliveryDeadLetterQueue,
        }),
      );
      keepLogicalId(subscription, `${legacyPath}/${subscription.node.id}`);
      worker.drain(channel.name, queue, SLACK_EVENT_SOURCE);
      Secret.fromSecretNameV2(scope, `Webhook-${channel.name}`, channel.secretName).grantRead(worker);
      queues.set(channel.name, queue);
    }
    return { queues, deadLetterQueue };
  },
};
