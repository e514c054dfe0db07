/** Webhook channels at deploy time: queue-delivered (channels/queue-delivered/infra.ts), the signing key in Secrets Manager. */
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { ChannelInfra } from '../kind-infra';
import { buildQueueChannels, type DeployedQueueChannel, type QueueChannelResources } from '../queue-delivered/infra';

export const WEBHOOK_INFRA: ChannelInfra<'webhook', DeployedQueueChannel, QueueChannelResources> = {
  deployment: (name, spec) => {
    const issues: ConfigIssue[] = [];
    if (!spec.secretName) issues.push({ path: ['secretName'], reason: 'a webhook channel needs secretName (the Secrets Manager secret holding its signing key) to be deployed' });
    if (!spec.url?.startsWith('https://')) issues.push({ path: ['url'], reason: 'a deployed webhook channel posts over https only' });
    if (issues.length > 0 || !spec.secretName) return { issues };
    return { channel: { name, secretName: spec.secretName, ...(spec.minSeverity && spec.minSeverity !== 'info' ? { minSeverity: spec.minSeverity } : {}) } };
  },
  build: (context) =>
    buildQueueChannels(context, {
      label: 'webhook',
      maxReceiveCount: context.delivery.webhook.maxReceiveCount,
      dlqAlarm: 'Webhook notifications failed repeatedly or were refused (4xx, redirect, receiver down); they are in the webhook dead-letter queue.',
    }),
};
