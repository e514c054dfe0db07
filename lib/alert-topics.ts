import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Subscription, SubscriptionFilter, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { channelFilterPolicy } from '../lambdas/commons/deployment';
import { ALERT_ATTRIBUTE_NAMES, type AlertAttributeName } from '../lambdas/domain/render';
import { SEVERITY_RANK, type Severity } from '../lambdas/domain/types';
import { SEVERITIES, type EmailChannelConfig } from './config';

/**
 * Message attribute the ingest Lambda sets to the alert's severity. Typed as
 * AlertAttributeName so a rename in domain/render.ts breaks compilation here.
 */
export const SEVERITY_ATTRIBUTE: AlertAttributeName = 'severity';
if (!ALERT_ATTRIBUTE_NAMES.includes(SEVERITY_ATTRIBUTE)) {
  throw new Error(`domain/render.ts ALERT_ATTRIBUTE_NAMES no longer contains "${SEVERITY_ATTRIBUTE}"`);
}

/** Severities delivered to a subscriber whose minimum is `min`, highest first. */
export function severitiesAtOrAbove(min: Severity): Severity[] {
  return SEVERITIES.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[min]).sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a]);
}

/** The subscription filter policy of an email channel: its name, and the severity floor if any. */
export function emailFilterPolicy(channel: EmailChannelConfig): Record<string, SubscriptionFilter> {
  const raw = channelFilterPolicy(channel.name, channel.minSeverity ? severitiesAtOrAbove(channel.minSeverity) : undefined);
  return Object.fromEntries(Object.entries(raw).map(([k, allowlist]) => [k, SubscriptionFilter.stringFilter({ allowlist })]));
}

export interface AlertTopicsProps {
  /** Email channels: each address subscribes with a filter policy on the channel (and minSeverity). */
  readonly emailChannels: readonly EmailChannelConfig[];
  /** Recipients of operational alarms (no filter). */
  readonly opsEmails: readonly string[];
}

/**
 * The alerts topic (what tocsin publishes), the operations topic (CloudWatch
 * alarm actions), the customer managed key encrypting both, and the dead-letter
 * queue that catches notifications SNS could not deliver to a subscriber.
 */
export class AlertTopics extends Construct {
  /** Customer managed key for both topics and the delivery DLQ. */
  public readonly key: Key;
  public readonly alertsTopic: Topic;
  public readonly opsTopic: Topic;
  /** Redrive target of every email subscription (alerts and ops). */
  public readonly deliveryDeadLetterQueue: Queue;
  /** Email subscriptions of the alerts topic, by `<channel>/<address>`. */
  public readonly alertSubscriptions: ReadonlyMap<string, Subscription>;
  /** Email subscriptions of the operations topic, by address. */
  public readonly opsSubscriptions: ReadonlyMap<string, Subscription>;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new Key(this, 'Key', {
      description: `tocsin (${stack.stackName}): encrypts the alerts and operations topics and the delivery DLQ`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // SNS encrypts/decrypts topic messages when delivering and writes to the (encrypted) DLQ.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowSnsToUseTheKey',
        principals: [new ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );
    // CloudWatch alarm actions publish to the encrypted operations topic.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    this.deliveryDeadLetterQueue = new Queue(this, 'DeliveryDlq', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: this.key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deliveryDeadLetterQueue).acknowledge(
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue IS a dead-letter queue: the redrive target of the SNS email subscriptions (cdk-nag only recognises SQS/Lambda redrive sources).',
      },
      {
        id: 'Serverless-SQSRedrivePolicy',
        reason: 'This queue is itself the dead-letter queue of the SNS subscriptions; a DLQ of a DLQ adds nothing. Its depth is alarmed on.',
      },
    );

    this.alertsTopic = new Topic(this, 'AlertsTopic', {
      displayName: 'tocsin alerts',
      masterKey: this.key,
      enforceSSL: true,
    });

    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'tocsin operations',
      masterKey: this.key,
      enforceSSL: true,
    });
    // enforceSSL replaces the default topic policy, so CloudWatch needs an explicit grant.
    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*` },
        },
      }),
    );

    const alertSubscriptions = new Map<string, Subscription>();
    for (const channel of props.emailChannels) {
      for (const address of channel.addresses) {
        // Channel and address are the construct id: reordering the lists does not replace subscriptions.
        const subscription = new Subscription(this, `Email-${channel.name}-${address}`, {
          topic: this.alertsTopic,
          protocol: SubscriptionProtocol.EMAIL,
          endpoint: address,
          deadLetterQueue: this.deliveryDeadLetterQueue,
          filterPolicy: emailFilterPolicy(channel),
        });
        alertSubscriptions.set(`${channel.name}/${address}`, subscription);
      }
    }
    this.alertSubscriptions = alertSubscriptions;

    const opsSubscriptions = new Map<string, Subscription>();
    for (const address of props.opsEmails) {
      opsSubscriptions.set(
        address,
        new Subscription(this, `Ops-${address}`, {
          topic: this.opsTopic,
          protocol: SubscriptionProtocol.EMAIL,
          endpoint: address,
          deadLetterQueue: this.deliveryDeadLetterQueue,
        }),
      );
    }
    this.opsSubscriptions = opsSubscriptions;
  }
}
