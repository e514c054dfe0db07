import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { CfnTopic, Subscription, SubscriptionProtocol, Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TocsinFunction } from './tocsin-function';

/**
 * The AWS managed key of SNS. Its key policy lets every principal of the account use it
 * through SNS, so publishers need no KMS permission; but AWS services that publish
 * (CloudWatch alarms) cannot, and queues SNS delivers to cannot use aws/sqs
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html).
 */
export const AWS_MANAGED_SNS_KEY = 'alias/aws/sns';

/** Publishing to the alerts topic (and, under the customer managed key, using that key). */
export function grantPublishToAlerts(alertsTopic: ITopic, publisher: TocsinFunction): void {
  alertsTopic.grantPublish(publisher);
  if (alertsTopic.masterKey) {
    Validations.of(publisher.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'Required to publish to the KMS-encrypted alerts topic (documented SNS SSE publisher permission); scoped to the one topic key.',
    });
  }
}

export interface AlertTopicsProps {
  /** Recipients of operational alarms (no filter). */
  readonly opsEmails: readonly string[];
  /** deployment.customerManagedKey: the stack's own KMS key for both topics and the queues SNS writes to. */
  readonly customerManagedKey: boolean;
}

/**
 * The alerts topic (what tocsin publishes), the operations topic (CloudWatch
 * alarm actions), and the dead-letter queue that catches notifications SNS could not
 * deliver to a subscriber. Encryption at rest, by default at no monthly cost: the alerts
 * topic under the AWS managed key aws/sns, the DLQ with SQS-managed keys (SSE-SQS, which SNS
 * can write to), the operations topic unencrypted (CloudWatch alarms can publish only to a
 * topic without a key or under a customer managed one, and it carries alarm notices, no
 * alert). With deployment.customerManagedKey, one key of the stack ($1 a month) encrypts
 * both topics and the DLQ, as before that setting existed.
 */
export class AlertTopics extends Construct {
  /** Customer managed key for both topics and the delivery DLQ (deployment.customerManagedKey), else undefined. */
  public readonly key?: Key;
  public readonly alertsTopic: Topic;
  public readonly opsTopic: Topic;
  /** Redrive target of every subscription (alerts and ops). */
  public readonly deliveryDeadLetterQueue: Queue;
  /** Email subscriptions of the operations topic, by address. */
  public readonly opsSubscriptions: ReadonlyMap<string, Subscription>;

  constructor(scope: Construct, id: string, props: AlertTopicsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const key = props.customerManagedKey ? this.customerManagedKey() : undefined;
    this.key = key;

    this.deliveryDeadLetterQueue = new Queue(this, 'DeliveryDlq', {
      ...(key ? { encryption: QueueEncryption.KMS, encryptionMasterKey: key } : { encryption: QueueEncryption.SQS_MANAGED }),
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
      ...(key ? { masterKey: key } : {}),
      enforceSSL: true,
    });
    // Set on the resource, not as `masterKey`: an imported alias would grant publishers kms:* on
    // every key of the account by alias; the AWS managed key's own policy already lets them.
    if (!key) (this.alertsTopic.node.defaultChild as CfnTopic).kmsMasterKeyId = AWS_MANAGED_SNS_KEY;

    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'tocsin operations',
      ...(key ? { masterKey: key } : {}),
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

  /** The stack's key for the topics and the queues SNS writes to: SNS and CloudWatch alarms may use it. */
  private customerManagedKey(): Key {
    const stack = Stack.of(this);
    const key = new Key(this, 'Key', {
      description: `tocsin (${stack.stackName}): encrypts the alerts and operations topics and the delivery DLQ`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // SNS encrypts/decrypts topic messages when delivering and writes to the (encrypted) DLQ.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowSnsToUseTheKey',
        principals: [new ServicePrincipal('sns.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
      }),
    );
    // CloudWatch alarm actions publish to the encrypted operations topic.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    return key;
  }
}
