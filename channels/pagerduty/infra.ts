/** PagerDuty channels at deploy time: queue-delivered (channels/queue-delivered/infra.ts), the routing key in Secrets Manager. */
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { ChannelInfra } from '../kind-infra';
import { buildQueueChannels, type DeployedQueueChannel, type QueueChannelResources } from '../queue-delivered/infra';

export const PAGERDUTY_INFRA: ChannelInfra<'pagerduty', DeployedQueueChannel, QueueChannelResources> = {
  deployment: (name, spec) => {
    const issues: ConfigIssue[] = [];
    if (!spec.secretName) issues.push({ path: ['secretName'], reason: 'a pagerduty channel needs secretName (the Secrets Manager secret holding its routing key) to be deployed' });
    if (spec.url && !spec.url.startsWith('https://')) issues.push({ path: ['url'], reason: 'a deployed pagerduty channel sends over https only' });
    if (issues.length > 0 || !spec.secretName) return { issues };
    return { channel: { name, secretName: spec.secretName, ...(spec.minSeverity && spec.minSeverity !== 'info' ? { minSeverity: spec.minSeverity } : {}) } };
  },
  build: (context) =>
    buildQueueChannels(context, {
      label: 'PagerDuty',
      maxReceiveCount: context.delivery.pagerduty.maxReceiveCount,
      dlqAlarm: 'PagerDuty events failed repeatedly or were refused (invalid event or routing key, PagerDuty down or rate limiting); they are in the PagerDuty dead-letter queue.',
    }),
};
