/**
 * Slack under `npm start`: per channel with a `webhookUrl`, a queue of the local bus
 * subscribed to the alerts topic with the deployed filter policy (`{ channels: [<name>] }`),
 * redriving to one dead-letter queue after delivery.slack.maxReceiveCount, and a worker
 * posting to the webhook with the Lambda's delivery code. A post waiting for its retry is
 * kept by the bus across restarts.
 */
import { deliverBatch } from '../../lambdas/app/channel-delivery';
import { sleep } from '../../lambdas/app/concurrency';
import { systemClock } from '../../lambdas/app/runtime';
import { startQueueWorker, type QueueWorker } from '../../local/queue-worker';
import { LOCAL_NAMES } from '../../local/names';
import { channelFilterPolicy } from '../../lambdas/commons/deployment';
import { severitiesAtOrAbove } from '../email/infra';
import type { LocalChannel } from '../local-kind';
import { channelTexts } from '../templates';
import { slackChannel } from '.';
import { StaticWebhookUrls, WebhookSender } from './webhook';

/** Local knobs (environment), mostly for tests. */
export const LOCAL_SLACK_ENV = {
  /** First retry delay (s) of a failed post other than 429; default 5. */
  retrySeconds: 'TOCSIN_LOCAL_RETRY_SECONDS',
} as const;

export const slackLocal: LocalChannel<'slack'> = {
  async start(ctx, channels) {
    const banner: string[] = [];
    const webhooks: Record<string, string> = {};
    for (const [name, ch] of Object.entries(channels)) {
      if (!ch.webhookUrl) banner.push(`# slack channel ${name}: no webhookUrl in ${ctx.config.file}, not delivered locally`);
      else webhooks[name] = ch.webhookUrl;
    }
    if (Object.keys(webhooks).length === 0) return { workers: [], banner };

    const settings = ctx.config.delivery.slack;
    const dlq = LOCAL_NAMES.slackDeadLetterQueue;
    ctx.bus.declareQueue(dlq);
    const dead = (await ctx.bus.list(dlq)).length;
    banner.push(`# slack dead-letter queue: ${dlq} (${dead} message${dead === 1 ? '' : 's'})`);
    const linkTemplate = ctx.config.runtime.links?.alert;
    const deps = {
      render: slackChannel.render,
      texts: channelTexts(ctx.config.runtime),
      sender: new WebhookSender(new StaticWebhookUrls(webhooks)),
      clock: systemClock,
      sleep,
      minIntervalMs: settings.minIntervalMs ?? 1000,
      retryBaseSeconds: Number(ctx.env[LOCAL_SLACK_ENV.retrySeconds] ?? 5),
      ...(linkTemplate ? { linkTemplate } : {}),
      logger: ctx.logger,
    };
    const workers: QueueWorker[] = [];
    for (const name of Object.keys(webhooks)) {
      const queue = LOCAL_NAMES.slackQueue(name);
      ctx.bus.declareQueue(queue, { visibilityTimeoutSeconds: 30, deadLetter: { queue: dlq, maxReceiveCount: settings.maxReceiveCount } });
      const minSeverity = channels[name]?.minSeverity;
      ctx.bus.subscribe(ctx.alertsTopic, queue, channelFilterPolicy(name, minSeverity ? severitiesAtOrAbove(minSeverity) : undefined));
      banner.push(`# slack channel ${name}: ${webhooks[name]}${minSeverity ? ` (${minSeverity} and above)` : ''} (queue ${queue})`);
      workers.push(
        startQueueWorker({
          bus: ctx.bus,
          queue,
          handle: async (messages) => (await deliverBatch(deps, name, messages)).map((r) => (r.ok ? { id: r.id, ok: true as const } : r)),
          onError: (err) => ctx.logger.error(`slack ${name} worker failed`, { error: err.message }),
        }),
      );
    }
    return { workers, banner };
  },
};
