/**
 * PagerDuty Events API v2: trigger per alert episode, resolve with the same dedup_key
 * (render.ts), posted by the channel worker from a queue per channel, ≈1 event/s per
 * routing key, 429/5xx retried, other 4xx dead-lettered at once (sender.ts). The routing
 * key is an SSM SecureString parameter (`secretParameter`) or a Secrets Manager secret
 * (`secretName`) when deployed, `routingKeyEnv` (an environment variable) or `routingKey`
 * under `npm start`; `url` sets the endpoint (the EU service region, or a local stand-in).
 */
import type { Severity } from '../../lambdas/domain/types';
import type { ChannelKind } from '../kind';
import { DeployedChannelSecrets } from '../queue-delivered/secrets';
import { CHANNEL_SECRET_KEYS, channelSecretLocations, secretKeyIssues, secretKeysForLambda, secretKeysSchema } from '../secret-location';
import { queueDeliverySettings, type QueueDeliverySettings } from '../queue-delivered/settings';
import { PAGERDUTY_LIMITS, pagerDutyEvent, type PagerDutyEvent } from './render';
import { PagerDutySender, routingKeyOfSecret } from './sender';

export interface PagerDutyChannel {
  type: 'pagerduty';
  /** Deployed: SSM SecureString parameter holding the routing key. */
  secretParameter?: string;
  /** Deployed: Secrets Manager secret holding the routing key (instead of secretParameter). */
  secretName?: string;
  /** `npm start`: the environment variable holding the routing key. */
  routingKeyEnv?: string;
  /** `npm start`: the routing key itself. */
  routingKey?: string;
  /** Events API endpoint; default https://events.pagerduty.com/v2/enqueue. */
  url?: string;
  minSeverity?: Severity;
}

/** Deployed: each of the (at most 2) pollers of a queue sends at most every 2 s: ≈1 event/s per routing key (PagerDuty allows 120/min). */
export const PAGERDUTY_MIN_INTERVAL_MS = 2000;

export const pagerdutyChannel: ChannelKind<PagerDutyChannel, PagerDutyEvent, QueueDeliverySettings> = {
  type: 'pagerduty',
  properties: {
    ...secretKeysSchema(CHANNEL_SECRET_KEYS, 'the routing key (the integration key, or JSON {"routingKey": ...})', 'required to deploy'),
    routingKeyEnv: { description: 'npm start only: the environment variable holding the routing key.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
    routingKey: {
      description: 'npm start only: the routing key itself (prefer routingKeyEnv).',
      type: 'string',
      minLength: PAGERDUTY_LIMITS.routingKey,
      maxLength: PAGERDUTY_LIMITS.routingKey,
      pattern: '^\\S+$',
    },
    url: { description: 'Events API v2 endpoint (default https://events.pagerduty.com/v2/enqueue; https when deployed).', type: 'string', pattern: '^https?://' },
    minSeverity: { $ref: '#/definitions/severity' },
  },
  settings: queueDeliverySettings('PagerDuty'),
  check: (spec) => [
    ...secretKeyIssues(spec, CHANNEL_SECRET_KEYS),
    ...(spec.routingKey !== undefined && spec.routingKeyEnv !== undefined ? [{ path: ['routingKey'], reason: 'give routingKey or routingKeyEnv, not both' }] : []),
  ],
  forLambda: (spec) => ({
    type: 'pagerduty',
    ...secretKeysForLambda(spec, CHANNEL_SECRET_KEYS),
    ...(spec.url ? { url: spec.url } : {}),
    ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}),
  }),
  render: pagerDutyEvent,
  worker: {
    minIntervalMs: PAGERDUTY_MIN_INTERVAL_MS,
    sender: (channels, aws) =>
      new PagerDutySender(
        Object.fromEntries(Object.entries(channels).map(([name, ch]) => [name, ch.url])),
        new DeployedChannelSecrets(aws.secrets, channelSecretLocations(channels), routingKeyOfSecret),
      ),
  },
};
