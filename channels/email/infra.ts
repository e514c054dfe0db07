/**
 * Email channels at deploy time: SNS delivers them itself, one email subscription of the
 * alerts topic per address, filtered on the channel (and its minimum severity).
 */
import { Subscription, SubscriptionFilter, SubscriptionProtocol } from 'aws-cdk-lib/aws-sns';
import { ALERT_ATTRIBUTE_NAMES, type AlertAttributeName } from '../../lambdas/domain/render';
import { channelFilterPolicy } from '../../lambdas/commons/deployment';
import { SEVERITY_RANK, type Severity } from '../../lambdas/domain/types';
import { keepLogicalId } from '../../lib/logical-ids';
import type { ChannelInfra, DeployedChannel } from '../kind-infra';

/**
 * Message attribute the ingest Lambda sets to the alert's severity. Typed as
 * AlertAttributeName so a rename in domain/render.ts breaks compilation here.
 */
export const SEVERITY_ATTRIBUTE: AlertAttributeName = 'severity';
if (!ALERT_ATTRIBUTE_NAMES.includes(SEVERITY_ATTRIBUTE)) {
  throw new Error(`domain/render.ts ALERT_ATTRIBUTE_NAMES no longer contains "${SEVERITY_ATTRIBUTE}"`);
}

const SEVERITIES = Object.keys(SEVERITY_RANK) as Severity[];

/** Severities delivered to a subscriber whose minimum is `min`, highest first. */
export function severitiesAtOrAbove(min: Severity): Severity[] {
  return SEVERITIES.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[min]).sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a]);
}

export interface DeployedEmailChannel extends DeployedChannel {
  readonly addresses: readonly string[];
  /** Lowest severity delivered; undefined = every severity. */
  readonly minSeverity?: Severity;
}

export interface EmailResources {
  /** By `<channel>/<address>`. */
  readonly subscriptions: ReadonlyMap<string, Subscription>;
}

/** The construct the subscriptions were created in before channel kinds had their own: their logical ids stay. */
const LEGACY_SCOPE = 'Topics';

function filterPolicy(channel: DeployedEmailChannel): Record<string, SubscriptionFilter> {
  const raw = channelFilterPolicy(channel.name, channel.minSeverity ? severitiesAtOrAbove(channel.minSeverity) : undefined);
  return Object.fromEntries(Object.entries(raw).map(([k, allowlist]) => [k, SubscriptionFilter.stringFilter({ allowlist })]));
}

export const EMAIL_INFRA: ChannelInfra<'email', DeployedEmailChannel, EmailResources> = {
  deployment: (name, spec) => ({
    channel: { name, addresses: spec.addresses ?? [], ...(spec.minSeverity && spec.minSeverity !== 'info' ? { minSeverity: spec.minSeverity } : {}) },
  }),

  build({ scope, alertsTopic, deliveryDeadLetterQueue, channels }) {
    const subscriptions = new Map<string, Subscription>();
    for (const channel of channels) {
      for (const address of channel.addresses) {
        // Channel and address are the construct id: reordering the lists does not replace subscriptions.
        const subscription = new Subscription(scope, `${channel.name}-${address}`, {
          topic: alertsTopic,
          protocol: SubscriptionProtocol.EMAIL,
          endpoint: address,
          deadLetterQueue: deliveryDeadLetterQueue,
          filterPolicy: filterPolicy(channel),
        });
        keepLogicalId(subscription, `${LEGACY_SCOPE}/Email-${channel.name}-${address}`);
        subscriptions.set(`${channel.name}/${address}`, subscription);
      }
    }
    return { subscriptions };
  },
};
