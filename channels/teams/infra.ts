/** Teams channels at deploy time: queue-delivered (channels/queue-delivered/infra.ts), the workflow URL in a parameter or secret. */
import type { ChannelInfra } from '../kind-infra';
import { buildQueueChannels, queueChannelDeployment, type DeployedQueueChannel, type QueueChannelResources } from '../queue-delivered/infra';

export const TEAMS_INFRA: ChannelInfra<'teams', DeployedQueueChannel, QueueChannelResources> = {
  deployment: (name, spec) => queueChannelDeployment(name, spec, { channel: 'a teams channel', holding: 'its Workflows webhook URL' }),
  build: (context) =>
    buildQueueChannels(context, {
      label: 'Teams',
      maxReceiveCount: context.delivery.teams.maxReceiveCount,
      dlqAlarm: 'Teams messages failed repeatedly or were refused (card refused, workflow deleted or disabled, Teams throttling); they are in the Teams dead-letter queue.',
    }),
};
