/**
 * Slack, in one of two modes per channel:
 *   incoming webhook (`webhookUrl` locally, `secretName` deployed): Block Kit messages
 *     (render.ts) posted as is (webhook.ts);
 *   app (`channel`, a channel ID, with a bot token: `botTokenSecret` deployed,
 *     `botTokenEnv` or `botToken` locally; `apiUrl` for a local stand-in): the Web API, one
 *     thread per alert episode (app.ts), its parent updated on resolution.
 * Both are posted by the channel worker from a queue per channel, ≈1 message/s per
 * destination, 429-aware.
 */
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { Severity } from '../../lambdas/domain/types';
import type { DynamoSlackThreads } from '../../lambdas/adapters/dynamo-slack-threads';
import type { ChannelKind, ChannelStateTable } from '../kind';
import { plainOrJsonField, SecretsManagerChannelSecrets } from '../queue-delivered/secrets';
import { SlackAppSender } from './app';
import { slackPayload, type SlackPayload } from './payload';
import { SlackSender } from './sender';
import { checkBotToken } from './web-api';
import { SecretsManagerWebhookUrls, WebhookSender } from './webhook';

export interface SlackChannel {
  type: 'slack';
  /** Webhook mode: Secrets Manager secret holding the incoming-webhook URL (deployed). */
  secretName?: string;
  /** Webhook mode: the webhook URL used by `npm start` only. */
  webhookUrl?: string;
  /** App mode: the Slack channel ID (C..., G...) the bot posts to. */
  channel?: string;
  /** App mode: Secrets Manager secret holding the bot token (deployed). */
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

/** App mode: the channel names an ID (what `channel` is), not a #name. */
export function isSlackApp(spec: SlackChannel): boolean {
  return spec.channel !== undefined;
}

/** chat.postMessage is special-tier: ≈1 message per second per channel. */
export const SLACK_POST_INTERVAL_MS = 1000;

const APP_KEYS = ['botTokenSecret', 'botTokenEnv', 'botToken', 'apiUrl', 'signingSecretEnv'] as const;
const WEBHOOK_KEYS = ['secretName', 'webhookUrl'] as const;

function checkSlack(spec: SlackChannel): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (isSlackApp(spec)) {
    for (const key of WEBHOOK_KEYS) {
      if (spec[key] !== undefined) issues.push({ path: [key], reason: `${key} is for incoming webhooks; an app channel (channel) takes botTokenSecret, botTokenEnv or botToken` });
    }
    if (spec.botToken !== undefined && spec.botTokenEnv !== undefined) issues.push({ path: ['botToken'], reason: 'give botToken or botTokenEnv, not both' });
  } else {
    for (const key of APP_KEYS) {
      if (spec[key] !== undefined) issues.push({ path: [key], reason: `${key} is for Slack app channels: give channel (the channel ID) too` });
    }
  }
  return issues;
}

export const slackChannel: ChannelKind<SlackChannel, SlackPayload, SlackSettings> = {
  type: 'slack',
  properties: {
    secretName: {
      description: 'Incoming webhook: Secrets Manager secret holding the webhook URL (required to deploy a webhook channel).',
      type: 'string',
      pattern: '^[A-Za-z0-9/_+=.@-]{1,512}$',
    },
    webhookUrl: { description: 'Incoming webhook: the webhook URL, used by npm start only.', type: 'string', pattern: '^https?://' },
    channel: {
      description: 'Slack app: the ID of the channel the bot posts to (C..., G...; in Slack, the channel\'s details). Makes this an app channel.',
      type: 'string',
      pattern: '^[CGD][A-Z0-9]{2,20}$',
    },
    botTokenSecret: {
      description: 'Slack app: Secrets Manager secret holding the bot token (xoxb-..., or JSON {"botToken": ...}); required to deploy an app channel.',
      type: 'string',
      pattern: '^[A-Za-z0-9/_+=.@-]{1,512}$',
    },
    botTokenEnv: { description: 'Slack app, npm start only: the environment variable holding the bot token.', type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 },
    botToken: { description: 'Slack app, npm start only: the bot token itself (prefer botTokenEnv).', type: 'string', pattern: '^(xoxe\\.)?xox[a-z]-\\S+$' },
    signingSecretEnv: {
      description: 'Slack app, npm start only: the environment variable holding the app\'s signing secret, for the buttons (Slack actions). Deployed, it is kept in botTokenSecret as JSON {"botToken": ..., "signingSecret": ...}.',
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
    ...(spec.secretName ? { secretName: spec.secretName } : {}),
    ...(spec.channel ? { channel: spec.channel } : {}),
    ...(spec.botTokenSecret ? { botTokenSecret: spec.botTokenSecret } : {}),
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
        new WebhookSender(new SecretsManagerWebhookUrls(aws.secrets, Object.fromEntries(entries.flatMap(([name, ch]) => (ch.secretName ? [[name, ch.secretName]] : []))))),
        apps.length === 0
          ? undefined
          : new SlackAppSender({
              channels: Object.fromEntries(apps.map(([name, ch]) => [name, { channel: ch.channel as string, ...(ch.apiUrl ? { apiUrl: ch.apiUrl } : {}) }])),
              tokens: new SecretsManagerChannelSecrets(
                aws.secrets,
                Object.fromEntries(apps.flatMap(([name, ch]) => (ch.botTokenSecret ? [[name, ch.botTokenSecret]] : []))),
                botTokenOfSecret,
              ),
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

/** Secrets Manager: the bot token itself, or JSON {"botToken": "..."}. */
export function botTokenOfSecret(secretString: string, secretName: string): string {
  return checkBotToken(plainOrJsonField(secretString, 'botToken', secretName), `secret ${secretName}`);
}
