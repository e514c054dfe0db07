/**
 * Microsoft Teams through a Workflows webhook (a "When a Teams webhook request is
 * received" flow posting to a channel): an Adaptive Card per alert (render.ts), posted by
 * the channel worker from a queue per channel, ≈1 message/s per workflow, 429-aware,
 * refused cards dead-lettered at once (sender.ts). The workflow URL is the secret: a
 * Secrets Manager secret when deployed (`secretName`), `urlEnv` (an environment variable)
 * or `url` under `npm start`. docs/teams.md.
 */
import type { Severity } from '../../lambdas/domain/types';
import type { ChannelKind } from '../kind';
import { SecretsManagerChannelSecrets } from '../queue-delivered/secrets';
import { queueDeliverySettings, type QueueDeliverySettings } from '../queue-delivered/settings';
import { teamsMessage, type TeamsMessage } from './render';
import { TeamsWorkflowSender, workflowUrlOfSecret } from './sender';

export interface TeamsChannel {
  type: 'teams';
  /** Secrets Manager secret holding the workflow URL (deployed). */
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
    secretName: {
      description: 'Secrets Manager secret holding the Workflows webhook URL (or JSON {"url": ...}); required to deploy.',
      type: 'string',
      pattern: '^[A-Za-z0-9/_+=.@-]{1,512}$',
    },
    urlEnv: { description: 'npm start only: the environment variable holding the Workflows webhook URL.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
    url: { description: 'npm start only: the Workflows webhook URL (prefer urlEnv: the URL is a secret), or a local stand-in.', type: 'string', pattern: '^https?://', maxLength: 2048 },
    minSeverity: { $ref: '#/definitions/severity' },
  },
  settings: queueDeliverySettings('Teams'),
  check: (spec) => (spec.url !== undefined && spec.urlEnv !== undefined ? [{ path: ['url'], reason: 'give url or urlEnv, not both' }] : []),
  forLambda: (spec) => ({
    type: 'teams',
    ...(spec.secretName ? { secretName: spec.secretName } : {}),
    ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}),
  }),
  render: teamsMessage,
  worker: {
    minIntervalMs: TEAMS_MIN_INTERVAL_MS,
    sender: (channels, aws) =>
      new TeamsWorkflowSender(
        new SecretsManagerChannelSecrets(
          aws.secrets,
          Object.fromEntries(Object.entries(channels).flatMap(([name, ch]) => (ch.secretName ? [[name, ch.secretName]] : []))),
          workflowUrlOfSecret,
        ),
      ),
  },
};
