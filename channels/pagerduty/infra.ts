/** PagerDuty channels at deploy time: queue-delivered (channels/queue-delivered/infra.ts), the routing key in a parameter or secret. */
import type { ChannelInfra } from '../kind-infra';
import { buildQueueChannels, queueChannelDeployment, type DeployedQueueChannel, type QueueChannelResources } from '../queue-delivered/infra';

export const PAGERDUTY_INFRA: ChannelInfra<'pagerduty', DeployedQueueChannel, QueueChannelResources> = {
  deployment: (name, spec) =>
    queueChannelDeployment(
      name,
      spec,
      { channel: 'a pagerduty channel', holding: 'its routing key' },
      spec.url && !spec.url.startsWith('https://') ? [{ path: ['url'], reason: 'a deployed pagerduty channel sends over https only' }] : [],
    ),
  build: (context) =>
    buildQueueChannels(context, {
      label: 'PagerDuty',
      maxReceiveCount: context.delivery.pagerduty.maxReceiveCount,
      dlqAlarm: 'PagerDuty events failed repeatedly or were refused (invalid event or routing key, PagerDuty down or rate limiting); they are in the PagerDuty dead-letter queue.',
    }),
};
