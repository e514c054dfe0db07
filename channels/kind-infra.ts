/**
 * What a channel kind is at deploy time: what deploying one of its channels needs from
 * tocsin.yaml, and the CDK resources that deliver its notifications from the alerts
 * topic. One module per kind, channels/<kind>/infra.ts, registered in channels/infra.ts.
 * CDK code: the Lambda bundles never load it.
 */
import type { Alarm, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { QueueEncryption, type IQueue, type QueueProps } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ConfigIssue } from '../lambdas/domain/rules/config';
import type { ChannelWorker } from '../lib/channel-worker';
import type { ChannelSpecOf, ChannelType, DeliverySettings } from '.';

export type { ChannelSpecOf, ChannelType };

/**
 * Encryption of a queue SNS delivers to (a channel's queue, its dead-letter queue): the
 * topic's customer managed key when there is one, else SQS-managed keys (SSE-SQS, no KMS
 * charge). Never the AWS managed aws/sqs key: SNS cannot use it.
 */
export function snsQueueEncryption(topicKey: IKey | undefined): Pick<QueueProps, 'encryption' | 'encryptionMasterKey'> {
  return topicKey ? { encryption: QueueEncryption.KMS, encryptionMasterKey: topicKey } : { encryption: QueueEncryption.SQS_MANAGED };
}

/** A channel as deploying it needs it: each kind adds what its resources are made of. */
export interface DeployedChannel {
  readonly name: string;
}

/** A channel's deployment view, or what deploying it lacks (paths relative to `channels.<name>`). */
export type ChannelDeployment<Deployed> = { readonly channel: Deployed } | { readonly issues: readonly ConfigIssue[] };

export interface ChannelInfraContext<Deployed> {
  /** This kind's own scope: construct ids need only be unique within the kind. */
  readonly scope: Construct;
  /** Every alert is published here, with the `channels` attribute to filter on. */
  readonly alertsTopic: ITopic;
  /**
   * The customer managed key of the alerts topic (deployment.customerManagedKey): a queue SNS
   * delivers to then uses it too. Undefined by default: those queues use SSE-SQS.
   */
  readonly topicKey?: IKey;
  /** Redrive target of every alerts-topic subscription (what SNS itself could not deliver). */
  readonly deliveryDeadLetterQueue: IQueue;
  /** An alarm in `scope` to the operations topic, on ALARM and on OK (metric >= 1). */
  alarm(id: string, metric: IMetric, description: string): Alarm;
  /** The one Lambda draining the queues of every queue-delivered channel; created on first call. */
  channelWorker(): ChannelWorker;
  readonly delivery: DeliverySettings;
  /** The state table, for kinds that remember what they sent (Slack app threads: ChannelWorker.useStateItems). */
  readonly stateTable: ITable;
  /** The channels of this kind, in tocsin.yaml order (possibly none). */
  readonly channels: readonly Deployed[];
}

export interface ChannelInfra<T extends ChannelType, Deployed extends DeployedChannel, Resources> {
  deployment(name: string, spec: ChannelSpecOf<T>): ChannelDeployment<Deployed>;
  /** The resources delivering this kind's channels. */
  build(context: ChannelInfraContext<Deployed>): Resources;
}
