import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Subscription, SubscriptionProtocol, Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TocsinFunction } from './tocsin-function';

/** Publishing to the alerts topic, which its customer managed key encrypts. */
export function grantPublishToAlerts(alertsTopic: ITopic, publisher: TocsinFunction): void {
  alertsTopic.grantPublish(publisher);
  Validations.of(publisher.executionRole).acknowledge({
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason: 'Required to publish to the KMS-encrypted alerts topic (documented SNS SSE publisher permission); scoped to the one topic key.',
  });
}

export interface AlertTopicsProps {
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
  /** Redrive target of every subscription (alerts and ops). */
  public readonly deliveryDeadLetterQueue: Queue;
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
