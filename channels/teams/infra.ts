/** Teams channels at deploy time: queue-delivered (channels/queue-delivered/infra.ts), the workflow URL in Secrets Manager. */
import type { ChannelInfra } from '../kind-infra';
import { buildQueueChannels, type DeployedQueueChannel, type QueueChannelResources } from '../queue-delivered/infra';

export const TEAMS_INFRA: ChannelInfra<'teams', DeployedQueueChannel, QueueChannelResources> = {
  deployment: (name, spec) => {
    if (!spec.secretName) return { issues: [{ path: ['secretName'], reason: 'a teams channel needs secretName (the Secrets Manager secret holding its Workflows webhook URL) to be deployed' }] };
    return { channel: { name, secretName: spec.secretName, ...(spec.minSeverity && spec.minSeverity !== 'info' ? { minSeverity: spec.minSeverity } : {}) } };
  },
  build: (context) =>
    buildQueueChannels(context, {
      label: 'Teams',
      maxReceiveCount: context.delivery.teams.maxReceiveCount,
      dlqAlarm: 'Teams messages failed repeatedly or were refused (card refused, workflow deleted or disabled, Teams throttling); they are in the Teams dead-letter queue.',
    }),
};
