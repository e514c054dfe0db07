/**
 * Slack under `npm start`: per channel with a `webhookUrl`, or an app channel with a bot
 * token (`botToken`, or the variable `botTokenEnv` names), a queue of the local bus
 * subscribed to the alerts topic with the deployed filter policy (`{ channels: [<name>] }`),
 * redriving to one dead-letter queue after delivery.slack.maxReceiveCount, and a worker
 * posting with the Lambda's delivery code. App channels keep their threads in the state
 * table (dynalite), as deployed. A notification refused for good (an app channel's
 * channel_not_found ...) goes to the dead-letter queue at once with its reason. A post
 * waiting for its retry is kept by the bus across restarts.
 */
import { deliverBatch } from '../../lambdas/app/channel-delivery';
import { sleep } from '../../lambdas/app/concurrency';
import { systemClock } from '../../lambdas/app/runtime';
import { DynamoSlackThreads } from '../../lambdas/adapters/dynamo-slack-threads';
import { configErrorAt } from '../../lambdas/commons/config-file';
import { channelFilterPolicy, DEAD_LETTER_REASON_ATTRIBUTE } from '../../lambdas/commons/deployment';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import { startQueueWorker, type QueueWorker } from '../../local/queue-worker';
import { LOCAL_NAMES } from '../../local/names';
import { severitiesAtOrAbove } from '../email/infra';
import type { LocalChannel } from '../local-kind';
import { channelTexts } from '../templates';
import { LOCAL_RETRY_SECONDS_ENV } from '../queue-delivered/local';
import { StaticChannelSecrets } from '../queue-delivered/secrets';
import { isSlackApp, slackChannel, SLACK_POST_INTERVAL_MS } from '.';
import { SlackAppSender, type SlackAppChannel } from './app';
import { SlackSender } from './sender';
import { checkBotToken, SLACK_API_URL } from './web-api';
import { StaticWebhookUrls, WebhookSender } from './webhook';

/** Local knobs (environment), mostly for tests. */
export const LOCAL_SLACK_ENV = {
  /** First retry delay (s) of a failed post other than 429; default 5. */
  retrySeconds: LOCAL_RETRY_SECONDS_ENV,
} as const;

export const slackLocal: LocalChannel<'slack'> = {
  async start(ctx, channels) {
    const banner: string[] = [];
    const webhooks: Record<string, string> = {};
    const apps: Record<string, SlackAppChannel> = {};
    const tokens: Record<string, string> = {};
    const where: Record<string, string> = {};
    const issues: ConfigIssue[] = [];
    for (const [name, ch] of Object.entries(channels)) {
      if (!isSlackApp(ch)) {
        if (!ch.webhookUrl) banner.push(`# slack channel ${name}: no webhookUrl in ${ctx.config.file}, not delivered locally`);
        else {
          webhooks[name] = ch.webhookUrl;
          where[name] = ch.webhookUrl;
        }
        continue;
      }
      let token = ch.botToken;
      if (ch.botTokenEnv !== undefined) {
        token = ctx.env[ch.botTokenEnv];
        try {
          if (!token) throw new Error(`the environment variable ${ch.botTokenEnv} (the bot token) is not set`);
          checkBotToken(token, `the environment variable ${ch.botTokenEnv}`);
        } catch (err) {
          issues.push({ path: ['channels', name, 'botTokenEnv'], reason: (err as Error).message });
          continue;
        }
      }
      if (!token) {
        banner.push(`# slack channel ${name}: no botToken or botTokenEnv in ${ctx.config.file}, not delivered locally`);
        continue;
      }
      tokens[name] = token;
      apps[name] = { channel: ch.channel as string, ...(ch.apiUrl ? { apiUrl: ch.apiUrl } : {}) };
      where[name] = `app, channel ${ch.channel} at ${ch.apiUrl ?? SLACK_API_URL}`;
    }
    if (issues.length > 0) throw configErrorAt(ctx.config.file, issues);
    const names = Object.keys(where);
    if (names.length === 0) return { workers: [], banner };

    const settings = ctx.config.delivery.slack;
    const dlq = LOCAL_NAMES.slackDeadLetterQueue;
    ctx.bus.declareQueue(dlq);
    const dead = (await ctx.bus.list(dlq)).length;
    banner.push(`# slack dead-letter queue: ${dlq} (${dead} message${dead === 1 ? '' : 's'})`);
    const linkTemplate = ctx.config.runtime.links?.alert;
    const appSender =
      Object.keys(apps).length === 0
        ? undefined
        : new SlackAppSender({
            channels: apps,
            tokens: new StaticChannelSecrets(tokens),
            threads: new DynamoSlackThreads(ctx.state.doc, ctx.state.tableName),
            nowMs: () => systemClock.nowMs(),
            sleep,
            postIntervalMs: SLACK_POST_INTERVAL_MS,
            logger: ctx.logger,
          });
    const deps = {
      render: slackChannel.render,
      texts: channelTexts(ctx.config.runtime),
      sender: new SlackSender(new WebhookSender(new StaticWebhookUrls(webhooks)), appSender, new Set(Object.keys(apps))),
      clock: systemClock,
      sleep,
      minIntervalMs: settings.minIntervalMs ?? 1000,
      retryBaseSeconds: Number(ctx.env[LOCAL_SLACK_ENV.retrySeconds] ?? 5),
      ...(linkTemplate ? { linkTemplate } : {}),
      logger: ctx.logger,
    };
    const workers: QueueWorker[] = [];
    for (const name of names) {
      const queue = LOCAL_NAMES.slackQueue(name);
      ctx.bus.declareQueue(queue, { visibilityTimeoutSeconds: 30, deadLetter: { queue: dlq, maxReceiveCount: settings.maxReceiveCount } });
      const minSeverity = channels[name]?.minSeverity;
      ctx.bus.subscribe(ctx.alertsTopic, queue, channelFilterPolicy(name, minSeverity ? severitiesAtOrAbove(minSeverity) : undefined));
      banner.push(`# slack channel ${name}: ${where[name]}${minSeverity ? ` (${minSeverity} and above)` : ''} (queue ${queue})`);
      workers.push(
        startQueueWorker({
          bus: ctx.bus,
          queue,
          handle: async (messages) => {
            const results = await deliverBatch(deps, name, messages);
            return Promise.all(
              results.map(async (r) => {
                if (r.ok) return { id: r.id, ok: true as const };
                if (!r.deadLetter) return r;
                const body = messages.find((m) => m.id === r.id)?.body ?? '';
                await ctx.bus.send(dlq, body, { attributes: { [DEAD_LETTER_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: r.reason } } });
                ctx.logger.error('notification moved to the dead-letter queue', { channel: name, queue: dlq, reason: r.reason });
                return { id: r.id, ok: true as const };
              }),
            );
          },
          onError: (err) => ctx.logger.error(`slack ${name} worker failed`, { error: err.message }),
        }),
      );
    }
    return { workers, banner };
  },
};
