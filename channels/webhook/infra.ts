/** Webhook channels at deploy time: queue-delivered (channels/queue-delivered/infra.ts), the signing key in a parameter or secret. */
import type { ChannelInfra } from '../kind-infra';
import { buildQueueChannels, queueChannelDeployment, type DeployedQueueChannel, type QueueChannelResources } from '../queue-delivered/infra';

export const WEBHOOK_INFRA: ChannelInfra<'webhook', DeployedQueueChannel, QueueChannelResources> = {
  deployment: (name, spec) =>
    queueChannelDeployment(
      name,
      spec,
      { channel: 'a webhook channel', holding: 'its signing key' },
      spec.url?.startsWith('https://') ? [] : [{ path: ['url'], reason: 'a deployed webhook channel posts over https only' }],
    ),
  build: (context) =>
    buildQueueChannels(context, {
      label: 'webhook',
      maxReceiveCount: context.delivery.webhook.maxReceiveCount,
      dlqAlarm: 'Webhook notifications failed repeatedly or were refused (4xx, redirect, receiver down); they are in the webhook dead-letter queue.',
    }),
};
