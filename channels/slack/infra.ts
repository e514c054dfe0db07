/**
 * Slack channels at deploy time: per channel a KMS-encrypted queue subscribed to the
 * alerts topic with the filter { channels: [<name>] }, drained by the channel worker
 * (≈1 msg/s per webhook), which may read the channel's parameter or secret; one dead-letter
 * queue for all of them, alarmed on.
 */
import { Duration } from 'aws-cdk-lib';
import { SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { channelFilterPolicy, SLACK_STATE_PARTITION_PREFIX } from '../../lambdas/commons/deployment';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { Severity } from '../../lambdas/domain/types';
import type { QueueEventSource } from '../../lib/channel-worker';
import { keepLogicalId, keepQueueLogicalIds } from '../../lib/logical-ids';
import { grantChannelSecretRead } from '../../lib/channel-secrets';
import { acknowledgeDeadLetterQueue } from '../../lib/nag';
import { ALARM_PERIOD } from '../../lib/operations-alarms';
import { severitiesAtOrAbove } from '../email/infra';
import { snsQueueEncryption, type ChannelInfra, type DeployedChannel } from '../kind-infra';
import { CHANNEL_SECRET_KEYS, missingSecretIssue, secretLocationOf, SLACK_BOT_TOKEN_KEYS, type SecretLocation } from '../secret-location';

/** SQS event source of each Slack queue: at most 2 concurrent pollers (the minimum), 5 messages each. */
export const SLACK_EVENT_SOURCE: QueueEventSource = { maxConcurrency: 2, batchSize: 5 };

export interface DeployedSlackChannel extends DeployedChannel {
  /** The parameter or secret holding the webhook URL, or an app channel's bot token (and signing secret). */
  readonly secret: SecretLocation;
  /** An app channel (bot token, Web API): its threads are kept in the state table. */
  readonly app?: true;
  /** Lowest severity delivered; undefined = every severity. */
  readonly minSeverity?: Severity;
}

export interface SlackResources {
  /** By channel name. */
  readonly queues: ReadonlyMap<string, Queue>;
  /** Only when there are Slack channels. */
  readonly deadLetterQueue?: Queue;
}

function minSeverityOf(minSeverity: Severity | undefined): { minSeverity?: Severity } {
  return minSeverity && minSeverity !== 'info' ? { minSeverity } : {};
}

/** The construct these resources were created in before channel kinds had their own: their logical ids stay. */
const LEGACY_SCOPE = 'Notifications';

export const SLACK_INFRA: ChannelInfra<'slack', DeployedSlackChannel, SlackResources> = {
  deployment: (name, spec) => {
    if (spec.channel === undefined) {
      const secret = secretLocationOf(spec, CHANNEL_SECRET_KEYS);
      return secret
        ? { channel: { name, secret, ...minSeverityOf(spec.minSeverity) } }
        : { issues: [{ ...missingSecretIssue(CHANNEL_SECRET_KEYS, 'a slack channel', 'its webhook URL'), path: [] }] };
    }
    const secret = secretLocationOf(spec, SLACK_BOT_TOKEN_KEYS);
    const issues: ConfigIssue[] = [];
    if (!secret) issues.push(missingSecretIssue(SLACK_BOT_TOKEN_KEYS, 'a slack app channel', 'its bot token'));
    if (spec.apiUrl && !spec.apiUrl.startsWith('https://')) issues.push({ path: ['apiUrl'], reason: 'a deployed slack app channel calls the Web API over https only' });
    if (issues.length > 0 || !secret) return { issues };
    return { channel: { name, secret, app: true, ...minSeverityOf(spec.minSeverity) } };
  },

  build({ scope, alertsTopic, topicKey, deliveryDeadLetterQueue, alarm, channelWorker, delivery, stateTable, channels }) {
    const queues = new Map<string, Queue>();
    if (channels.length === 0) return { queues };

    const deadLetterQueue = new Queue(scope, 'Dlq', { ...snsQueueEncryption(topicKey), enforceSSL: true, retentionPeriod: Duration.days(14) });
    keepQueueLogicalIds(deadLetterQueue, `${LEGACY_SCOPE}/SlackDlq`);
    acknowledgeDeadLetterQueue(deadLetterQueue, 'the Slack channel queues');
    alarm(
      'DlqDepth',
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: 'Maximum' }),
      'Slack notifications failed repeatedly (webhook down, revoked or rate limited); they are in the Slack dead-letter queue.',
    );

    const worker = channelWorker();
    if (channels.some((c) => c.app)) {
      // An app channel's refused message (channel_not_found ...) goes to the DLQ at once, as PagerDuty's (queue-delivered/infra.ts).
      deadLetterQueue.grant(worker, 'sqs:SendMessage');
      topicKey?.grant(worker, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    for (const channel of channels) {
      const queue = new Queue(scope, `Queue-${channel.name}`, {
        // The worker knows a record's channel by its queue's name (CHANNEL_QUEUES).
        queueName: worker.queueName(channel.name),
        ...snsQueueEncryption(topicKey),
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
      grantChannelSecretRead(scope, `${channel.app ? 'BotToken' : 'Webhook'}-${channel.name}`, channel.secret, worker);
      if (channel.app) worker.useStateItems(stateTable, SLACK_STATE_PARTITION_PREFIX);
      queues.set(channel.name, queue);
    }
    return { queues, deadLetterQueue };
  },
};
