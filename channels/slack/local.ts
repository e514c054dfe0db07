/**
 * Slack under `npm start`: per channel with a `webhookUrl`, a queue subscribed to the
 * alerts topic (redriving to one dead-letter queue after delivery.slack.maxReceiveCount)
 * and a worker posting to the webhook with the Lambda's delivery code.
 *
 * fauxqs does not match String.Array attributes in subscription filter policies, so each
 * local queue subscribes unfiltered and the delivery code skips messages whose `channels`
 * attribute does not name its channel (harmless in AWS, where the filter already did it).
 */
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { deliverBatch } from '../../lambdas/app/channel-delivery';
import { sleep } from '../../lambdas/app/concurrency';
import { systemClock } from '../../lambdas/app/runtime';
import { startQueueWorker, type QueueWorker } from '../../local/queue-worker';
import { createQueue } from '../../local/sns-sqs';
import type { LocalChannel } from '../local-kind';
import { slackChannel } from '.';
import { StaticWebhookUrls, WebhookSender } from './webhook';

/** Local queue names: one per channel, one shared dead-letter queue. */
export const LOCAL_SLACK_QUEUES = {
  name: (channel: string) => `tocsin-slack-${channel}`,
  deadLetterName: 'tocsin-slack-dlq',
} as const;

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
    const dlq = await createQueue(ctx.sqs, LOCAL_SLACK_QUEUES.deadLetterName);
    banner.push(`# slack dead-letter queue: ${dlq.url}`);
    const linkTemplate = ctx.config.runtime.links?.alert;
    const deps = {
      render: slackChannel.render,
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
      const q = await createQueue(ctx.sqs, LOCAL_SLACK_QUEUES.name(name), {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: String(settings.maxReceiveCount) }),
      });
      await ctx.sns.send(new SubscribeCommand({ TopicArn: ctx.alertsTopicArn, Protocol: 'sqs', Endpoint: q.arn }));
      banner.push(`# slack channel ${name}: ${webhooks[name]} (queue ${q.url})`);
      workers.push(
        startQueueWorker({
          sqs: ctx.sqs,
          queueUrl: q.url,
          handle: async (messages) => (await deliverBatch(deps, name, messages)).map((r) => (r.ok ? { id: r.id, ok: true as const } : r)),
          onError: (err) => ctx.logger.error(`slack ${name} worker failed`, { error: err.message }),
        }),
      );
    }
    return { workers, banner };
  },
};
