/**
 * Microsoft Teams through a Workflows webhook (a "When a Teams webhook request is
 * received" flow posting to a channel): an Adaptive Card per alert (render.ts), posted by
 * the channel worker from a queue per channel, ≈1 message/s per workflow, 429-aware,
 * refused cards dead-lettered at once (sender.ts). The workflow URL is the secret: an SSM
 * SecureString parameter (`secretParameter`) or a Secrets Manager secret (`secretName`)
 * when deployed, `urlEnv` (an environment variable) or `url` under `npm start`. docs/teams.md.
 */
import type { Severity } from '../../lambdas/domain/types';
import type { ChannelKind } from '../kind';
import { DeployedChannelSecrets } from '../queue-delivered/secrets';
import { CHANNEL_SECRET_KEYS, channelSecretLocations, secretKeyIssues, secretKeysForLambda, secretKeysSchema } from '../secret-location';
import { queueDeliverySettings, type QueueDeliverySettings } from '../queue-delivered/settings';
import { teamsMessage, type TeamsMessage } from './render';
import { TeamsWorkflowSender, workflowUrlOfSecret } from './sender';

export interface TeamsChannel {
  type: 'teams';
  /** Deployed: SSM SecureString parameter holding the workflow URL. */
  secretParameter?: string;
  /** Deployed: Secrets Manager secret holding the workflow URL (instead of secretParameter). */
  secretName?: string;
  /** `npm start`: the environment variable holding the workflow URL. */
  urlEnv?: string;
  /** `npm start`: the workflow URL itself (or a local stand-in). */
  url?: string;
  minSeverity?: Severity;
}

/** Deployed: each of the (at most 2) pollers of a queue posts at most every 2 s: ≈1 message/s per workflow (Teams throttles webhooks past 4/s). */
export const TEAMS_MIN_INTERVAL_MS = 2000;

export const teamsChannel: ChannelKind<TeamsChannel, TeamsMessage, QueueDeliverySettings> = {
  type: 'teams',
  properties: {
    ...secretKeysSchema(CHANNEL_SECRET_KEYS, 'the Workflows webhook URL (or JSON {"url": ...})', 'required to deploy'),
    urlEnv: { description: 'npm start only: the environment variable holding the Workflows webhook URL.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
    url: { description: 'npm start only: the Workflows webhook URL (prefer urlEnv: the URL is a secret), or a local stand-in.', type: 'string', pattern: '^https?://', maxLength: 2048 },
    minSeverity: { $ref: '#/definitions/severity' },
  },
  settings: queueDeliverySettings('Teams'),
  check: (spec) => [
    ...secretKeyIssues(spec, CHANNEL_SECRET_KEYS),
    ...(spec.url !== undefined && spec.urlEnv !== undefined ? [{ path: ['url'], reason: 'give url or urlEnv, not both' }] : []),
  ],
  forLambda: (spec) => ({
    type: 'teams',
    ...secretKeysForLambda(spec, CHANNEL_SECRET_KEYS),
    ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}),
  }),
  render: teamsMessage,
  worker: {
    minIntervalMs: TEAMS_MIN_INTERVAL_MS,
    sender: (channels, aws) =>
      new TeamsWorkflowSender(
        new DeployedChannelSecrets(aws.secrets, channelSecretLocations(channels), workflowUrlOfSecret),
      ),
  },
};
