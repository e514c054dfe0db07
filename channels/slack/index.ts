/**
 * Slack incoming webhooks: Block Kit messages (render.ts), posted by the channel worker
 * from a queue per channel, ≈1 message/s per webhook, 429-aware (webhook.ts). The webhook
 * URL is a Secrets Manager secret when deployed, `webhookUrl` under `npm start`.
 */
import type { Severity } from '../../lambdas/domain/types';
import type { ChannelKind } from '../kind';
import { slackMessage, type SlackMessage } from './render';
import { SecretsManagerWebhookUrls, WebhookSender } from './webhook';

export interface SlackChannel {
  type: 'slack';
  /** Secrets Manager secret holding the incoming-webhook URL (deployed). */
  secretName?: string;
  /** Webhook URL used by `npm start` only. */
  webhookUrl?: string;
  minSeverity?: Severity;
}

export interface SlackSettings {
  /** Delivery attempts per message before the dead-letter queue. */
  maxReceiveCount: number;
  /** `npm start`: pacing per webhook (default 1 s). */
  minIntervalMs?: number;
}

export const slackChannel: ChannelKind<SlackChannel, SlackMessage, SlackSettings> = {
  type: 'slack',
  properties: {
    secretName: {
      description: 'Secrets Manager secret holding the incoming-webhook URL (required to deploy).',
      type: 'string',
      pattern: '^[A-Za-z0-9/_+=.@-]{1,512}$',
    },
    webhookUrl: { description: 'Webhook URL used by npm start only.', type: 'string', pattern: '^https?://' },
    minSeverity: { $ref: '#/definitions/severity' },
  },
  settings: {
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxReceiveCount: {
          description: 'Delivery attempts per Slack message before it goes to the dead-letter queue.',
          type: 'integer',
          minimum: 1,
          maximum: 100,
          default: 5,
        },
        minIntervalMs: {
          description: 'Per-webhook pacing: at least this long between two posts of one poller.',
          type: 'integer',
          minimum: 0,
          maximum: 60000,
        },
      },
    },
    read: (raw) => ({
      maxReceiveCount: (raw?.maxReceiveCount as number | undefined) ?? 5,
      ...(raw?.minIntervalMs !== undefined ? { minIntervalMs: raw.minIntervalMs as number } : {}),
    }),
  },
  forLambda: (spec) => ({ type: 'slack', ...(spec.secretName ? { secretName: spec.secretName } : {}), ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}) }),
  render: slackMessage,
  worker: {
    // Each of the (at most 2) concurrent pollers of a queue posts at most every 2 s: ≈1 msg/s per webhook.
    minIntervalMs: 2000,
    sender: (channels, aws) =>
      new WebhookSender(
        new SecretsManagerWebhookUrls(
          aws.secrets,
          Object.fromEntries(Object.entries(channels).flatMap(([name, ch]) => (ch.secretName ? [[name, ch.secretName]] : []))),
        ),
      ),
  },
};
