import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHANNEL_INFRA, CHANNEL_TYPES, type ChannelResourcesOf, type DeployedChannels } from '../channels/infra';
import type { ChannelType } from '../channels/kind-infra';
import type { DeliverySettings } from '../channels';
import { ChannelWorker } from './channel-worker';
import type { DeploymentOptIns } from './deployment-opt-ins';
import type { ConfigBundle } from './lambda-bundling';
import { opsAlarm } from './operations-alarms';

export interface ChannelsProps {
  readonly channels: DeployedChannels;
  readonly delivery: DeliverySettings;
  readonly alertsTopic: ITopic;
  /** The alerts topic's key. */
  readonly topicKey?: IKey;
  /** Redrive target of the alerts-topic subscriptions. */
  readonly deliveryDeadLetterQueue: IQueue;
  /** Alarm and OK actions publish here. */
  readonly opsTopic: ITopic;
  readonly logRetention: RetentionDays;
  readonly config: ConfigBundle;
  /** The state table (Slack app threads). */
  readonly stateTable: ITable;
  /** deployment opt-ins (lib/config.ts): tracing, the dashboard's metrics, detailed alarms. */
  readonly optIns: DeploymentOptIns;
}

export type ChannelResources = { readonly [T in ChannelType]: ChannelResourcesOf<T> };

/**
 * Delivery from the alerts topic to every channel of tocsin.yaml: each kind in the
 * registry (channels/infra.ts) builds its resources in its own scope, and the kinds that
 * tocsin delivers itself share one channel worker, created when the first one asks.
 */
export class Channels extends Construct {
  /** What each kind built, by channel type. */
  public readonly resources: ChannelResources;
  private channelWorker?: ChannelWorker;

  constructor(scope: Construct, id: string, props: ChannelsProps) {
    super(scope, id);
    const workerOnce = (): ChannelWorker =>
      (this.channelWorker ??= new ChannelWorker(this, 'Worker', { logRetention: props.logRetention, config: props.config, opsTopic: props.opsTopic, optIns: props.optIns }));
    const build = <T extends ChannelType>(type: T): ChannelResourcesOf<T> => {
      const kindScope = new Construct(this, type);
      return CHANNEL_INFRA[type].build({
        scope: kindScope,
        alertsTopic: props.alertsTopic,
        topicKey: props.topicKey,
        deliveryDeadLetterQueue: props.deliveryDeadLetterQueue,
        alarm: (alarmId, metric, description) => opsAlarm(kindScope, alarmId, props.opsTopic, { metric, description }),
        channelWorker: workerOnce,
        delivery: props.delivery,
        stateTable: props.stateTable,
        channels: props.channels[type],
      });
    };
    this.resources = Object.fromEntries(CHANNEL_TYPES.map((type) => [type, build(type)])) as unknown as ChannelResources;
  }

  /** The shared worker; undefined when no channel is delivered from a queue. */
  public get worker(): ChannelWorker | undefined {
    return this.channelWorker;
  }
}
