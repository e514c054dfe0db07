/**
 * Generic webhook: a versioned JSON payload (render.ts, schema/webhook-payload.v1.json)
 * POSTed to the channel's `url`, signed with HMAC-SHA256 over a timestamp and the body as
 * tocsin's ingest is (sender.ts, docs/webhook.md), by the channel worker from a queue per
 * channel. The signing key is an SSM SecureString parameter (`secretParameter`) or a
 * Secrets Manager secret (`secretName`) when deployed, `signingKeyEnv` (an environment
 * variable) or `signingKey` under `npm start`.
 */
import { systemClock } from '../../lambdas/app/runtime';
import type { Severity } from '../../lambdas/domain/types';
import type { ChannelKind } from '../kind';
import { DeployedChannelSecrets } from '../queue-delivered/secrets';
import { CHANNEL_SECRET_KEYS, channelSecretLocations, secretKeyIssues, secretKeysForLambda, secretKeysSchema } from '../secret-location';
import { queueDeliverySettings, type QueueDeliverySettings } from '../queue-delivered/settings';
import { webhookPayload, type WebhookPayload } from './render';
import { MIN_SIGNING_KEY_CHARS, signingKeysOfSecret, WebhookPayloadSender } from './sender';

export interface WebhookChannel {
  type: 'webhook';
  /** Where the payload is POSTed (https when deployed). */
  url: string;
  /** Deployed: SSM SecureString parameter holding the signing key. */
  secretParameter?: string;
  /** Deployed: Secrets Manager secret holding the signing key (instead of secretParameter). */
  secretName?: string;
  /** `npm start`: the environment variable holding the signing key. */
  signingKeyEnv?: string;
  /** `npm start`: the signing key itself. */
  signingKey?: string;
  minSeverity?: Severity;
}

/** Deployed: each of the (at most 2) pollers of a queue posts at most every second: ≈2 posts/s per URL. */
export const WEBHOOK_MIN_INTERVAL_MS = 1000;

export const webhookChannel: ChannelKind<WebhookChannel, WebhookPayload, QueueDeliverySettings> = {
  type: 'webhook',
  properties: {
    url: { description: 'Where the signed JSON payload is POSTed (https when deployed).', type: 'string', pattern: '^https?://', maxLength: 2048 },
    ...secretKeysSchema(CHANNEL_SECRET_KEYS, 'the signing key (or JSON {"signingKey": ...})', 'required to deploy'),
    signingKeyEnv: { description: 'npm start only: the environment variable holding the signing key.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
    signingKey: { description: `npm start only: the signing key itself (prefer signingKeyEnv); at least ${MIN_SIGNING_KEY_CHARS} characters.`, type: 'string', minLength: MIN_SIGNING_KEY_CHARS },
    minSeverity: { $ref: '#/definitions/severity' },
  },
  settings: queueDeliverySettings('webhook'),
  check: (spec) => [
    ...secretKeyIssues(spec, CHANNEL_SECRET_KEYS),
    ...(spec.url === undefined ? [{ path: [], reason: 'a webhook channel needs url' }] : []),
    ...(spec.signingKey !== undefined && spec.signingKeyEnv !== undefined ? [{ path: ['signingKey'], reason: 'give signingKey or signingKeyEnv, not both' }] : []),
  ],
  forLambda: (spec) => ({
    type: 'webhook',
    url: spec.url,
    ...secretKeysForLambda(spec, CHANNEL_SECRET_KEYS),
    ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}),
  }),
  render: webhookPayload,
  worker: {
    minIntervalMs: WEBHOOK_MIN_INTERVAL_MS,
    sender: (channels, aws) =>
      new WebhookPayloadSender(
        Object.fromEntries(Object.entries(channels).map(([name, ch]) => [name, ch.url])),
        new DeployedChannelSecrets(aws.secrets, channelSecretLocations(channels), signingKeysOfSecret),
        systemClock,
      ),
  },
};
