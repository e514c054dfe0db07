/**
 * Slack, in one of two modes per channel:
 *   incoming webhook (`webhookUrl` locally, `secretParameter` or `secretName` deployed):
 *     Block Kit messages (render.ts) posted as is (webhook.ts);
 *   app (`channel`, a channel ID, with a bot token: `botTokenParameter` or `botTokenSecret`
 *     deployed, `botTokenEnv` or `botToken` locally; `apiUrl` for a local stand-in): the Web
 *     API, one thread per alert episode (app.ts), its parent updated on resolution.
 * Deployed secrets: an SSM SecureString parameter (no charge) or a Secrets Manager secret
 * (channels/secret-location.ts).
 * Both are posted by the channel worker from a queue per channel, ≈1 message/s per
 * destination, 429-aware.
 */
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { Severity } from '../../lambdas/domain/types';
import type { DynamoSlackThreads } from '../../lambdas/adapters/dynamo-slack-threads';
import type { ChannelKind, ChannelStateTable } from '../kind';
import { DeployedChannelSecrets } from '../queue-delivered/secrets';
import { CHANNEL_SECRET_KEYS, channelSecretLocations, secretKeyIssues, secretKeysForLambda, secretKeysSchema, SLACK_BOT_TOKEN_KEYS } from '../secret-location';
import { SlackAppSender } from './app';
import { slackPayload, type SlackPayload } from './payload';
import { SlackSender } from './sender';
import { botTokenOfSecret, isSlackApp } from './app-channel';

export { botTokenOfSecret, isSlackApp };
import { SecretWebhookUrls, WebhookSender, webhookUrlOfSecret } from './webhook';

export interface SlackChannel {
  type: 'slack';
  /** Webhook mode, deployed: SSM SecureString parameter holding the incoming-webhook URL. */
  secretParameter?: string;
  /** Webhook mode, deployed: Secrets Manager secret holding the incoming-webhook URL (instead of secretParameter). */
  secretName?: string;
  /** Webhook mode: the webhook URL used by `npm start` only. */
  webhookUrl?: string;
  /** App mode: the Slack channel ID (C..., G...) the bot posts to. */
  channel?: string;
  /** App mode, deployed: SSM SecureString parameter holding the bot token (and the signing secret). */
  botTokenParameter?: string;
  /** App mode, deployed: Secrets Manager secret holding the bot token (instead of botTokenParameter). */
  botTokenSecret?: string;
  /** App mode, `npm start`: the environment variable holding the bot token. */
  botTokenEnv?: string;
  /** App mode, `npm start`: the bot token itself (prefer botTokenEnv). */
  botToken?: string;
  /** App mode: the Web API's base URL (default https://slack.com/api). */
  apiUrl?: string;
  /** App mode, `npm start`: the environment variable holding the Slack app's signing secret (Slack actions). */
  signingSecretEnv?: string;
  minSeverity?: Severity;
}

export interface SlackSettings {
  /** Delivery attempts per message before the dead-letter queue. */
  maxReceiveCount: number;
  /** `npm start`: pacing per webhook (default 1 s). */
  minIntervalMs?: number;
}


/** chat.postMessage is special-tier: ≈1 message per second per channel. */
export const SLACK_POST_INTERVAL_MS = 1000;

const APP_KEYS = ['botTokenParameter', 'botTokenSecret', 'botTokenEnv', 'botToken', 'apiUrl', 'signingSecretEnv'] as const;
const WEBHOOK_KEYS = ['secretParameter', 'secretName', 'webhookUrl'] as const;

function checkSlack(spec: SlackChannel): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (isSlackApp(spec)) {
    for (const key of WEBHOOK_KEYS) {
      if (spec[key] !== undefined) issues.push({ path: [key], reason: `${key} is for incoming webhooks; an app channel (channel) takes botTokenParameter, botTokenSecret, botTokenEnv or botToken` });
    }
    issues.push(...secretKeyIssues(spec, SLACK_BOT_TOKEN_KEYS));
    if (spec.botToken !== undefined && spec.botTokenEnv !== undefined) issues.push({ path: ['botToken'], reason: 'give botToken or botTokenEnv, not both' });
  } else {
    issues.push(...secretKeyIssues(spec, CHANNEL_SECRET_KEYS));
    for (const key of APP_KEYS) {
      if (spec[key] !== undefined) issues.push({ path: [key], reason: `${key} is for Slack app channels: give channel (the channel ID) too` });
    }
  }
  return issues;
}

export const slackChannel: ChannelKind<SlackChannel, SlackPayload, SlackSettings> = {
  type: 'slack',
  properties: {
    ...secretKeysSchema(CHANNEL_SECRET_KEYS, 'the incoming webhook\'s URL (or JSON {"url": ...})', 'required to deploy a webhook channel'),
    webhookUrl: { description: 'Incoming webhook: the webhook URL, used by npm start only.', type: 'string', pattern: '^https?://' },
    channel: {
      description: 'Slack app: the ID of the channel the bot posts to (C..., G...; in Slack, the channel\'s details). Makes this an app channel.',
      type: 'string',
      pattern: '^[CGD][A-Z0-9]{2,20}$',
    },
    ...secretKeysSchema(SLACK_BOT_TOKEN_KEYS, 'the Slack app\'s bot token (xoxb-..., or JSON {"botToken": ..., "signingSecret": ...})', 'required to deploy an app channel'),
    botTokenEnv: { description: 'Slack app, npm start only: the environment variable holding the bot token.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
    botToken: { description: 'Slack app, npm start only: the bot token itself (prefer botTokenEnv).', type: 'string', pattern: '^(xoxe\\.)?xox[a-z]-\\S+$' },
    signingSecretEnv: {
      description: 'Slack app, npm start only: the environment variable holding the app\'s signing secret, for the buttons (Slack actions). Deployed, it is kept with the bot token (botTokenParameter or botTokenSecret) as JSON {"botToken": ..., "signingSecret": ...}.',
      type: 'string',
      pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
      maxLength: 128,
    },
    apiUrl: { description: 'Slack app: the Web API base URL (default https://slack.com/api; https when deployed).', type: 'string', pattern: '^https?://' },
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
  check: checkSlack,
  forLambda: (spec) => ({
    type: 'slack',
    ...secretKeysForLambda(spec, CHANNEL_SECRET_KEYS),
    ...(spec.channel ? { channel: spec.channel } : {}),
    ...secretKeysForLambda(spec, SLACK_BOT_TOKEN_KEYS),
    ...(spec.apiUrl ? { apiUrl: spec.apiUrl } : {}),
    ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}),
  }),
  render: slackPayload,
  worker: {
    // Each of the (at most 2) concurrent pollers of a queue posts at most every 2 s: ≈1 msg/s per webhook or app channel.
    minIntervalMs: 2000,
    sender: (channels, aws) => {
      const entries = Object.entries(channels);
      const apps = entries.filter(([, ch]) => isSlackApp(ch));
      return new SlackSender(
        new WebhookSender(new SecretWebhookUrls(new DeployedChannelSecrets(aws.secrets, channelSecretLocations(Object.fromEntries(entries.filter(([, ch]) => !isSlackApp(ch)))), webhookUrlOfSecret))),
        apps.length === 0
          ? undefined
          : new SlackAppSender({
              channels: Object.fromEntries(apps.map(([name, ch]) => [name, { channel: ch.channel as string, ...(ch.apiUrl ? { apiUrl: ch.apiUrl } : {}) }])),
              tokens: new DeployedChannelSecrets(aws.secrets, channelSecretLocations(Object.fromEntries(apps), SLACK_BOT_TOKEN_KEYS), botTokenOfSecret),
              threads: dynamoThreads(aws.state()),
              nowMs: () => Date.now(),
              sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
              postIntervalMs: SLACK_POST_INTERVAL_MS,
            }),
        new Set(apps.map(([name]) => name)),
      );
    },
  },
};

function dynamoThreads(state: ChannelStateTable): DynamoSlackThreads {
  // Required here, not at the top: reading tocsin.yaml (the CLI) loads this module but never the SDK.
  const { DynamoSlackThreads: Threads } = require('../../lambdas/adapters/dynamo-slack-threads') as typeof import('../../lambdas/adapters/dynamo-slack-threads');
  return new Threads(state.doc, state.tableName);
}

