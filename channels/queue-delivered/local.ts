/**
 * A queue-delivered kind (PagerDuty, webhook) under `npm start`, as Slack's: per channel a
 * queue of the local bus subscribed to the alerts topic with the deployed filter policy
 * (channel, and the severities of its minSeverity), redriving to the kind's dead-letter
 * queue after delivery.<kind>.maxReceiveCount, drained with the channel worker's delivery
 * code (app/channel-delivery.ts). A notification refused for good goes to the dead-letter
 * queue at once with its reason (the DEAD_LETTER_REASON_ATTRIBUTE attribute), as deployed.
 */
import { deliverBatch, type ChannelDeliveryDeps, type ChannelSender } from '../../lambdas/app/channel-delivery';
import { sleep } from '../../lambdas/app/concurrency';
import { systemClock } from '../../lambdas/app/runtime';
import { channelFilterPolicy, DEAD_LETTER_REASON_ATTRIBUTE } from '../../lambdas/commons/deployment';
import type { Alert, Severity } from '../../lambdas/domain/types';
import { LOCAL_NAMES } from '../../local/names';
import { startQueueWorker, type QueueWorker } from '../../local/queue-worker';
import { severitiesAtOrAbove } from '../email/infra';
import type { LocalChannelContext, LocalDelivery } from '../local-kind';
import { channelTexts, type TemplateText } from '../templates';
import type { QueueDeliverySettings } from './settings';

/** Local knob shared with Slack: first retry delay (s) of a failed send other than 429; default 5. */
export const LOCAL_RETRY_SECONDS_ENV = 'TOCSIN_LOCAL_RETRY_SECONDS';

export interface LocalQueueChannel {
  readonly name: string;
  readonly minSeverity?: Severity;
  /** Where it goes, for the banner (never a secret). */
  readonly describe: string;
}

export async function startQueueChannels<Payload>(
  ctx: LocalChannelContext,
  opts: {
    readonly type: string;
    readonly channels: readonly LocalQueueChannel[];
    readonly render: (alert: Alert, link: string | undefined, text?: TemplateText) => Payload;
    readonly sender: ChannelSender<Payload>;
    readonly settings: QueueDeliverySettings;
    /** Pacing when delivery.<kind>.minIntervalMs is not set. */
    readonly defaultMinIntervalMs: number;
  },
): Promise<LocalDelivery> {
  const banner: string[] = [];
  if (opts.channels.length === 0) return { workers: [], banner };
  const dlq = LOCAL_NAMES.channelDeadLetterQueue(opts.type);
  ctx.bus.declareQueue(dlq);
  const dead = (await ctx.bus.list(dlq)).length;
  banner.push(`# ${opts.type} dead-letter queue: ${dlq} (${dead} message${dead === 1 ? '' : 's'})`);
  const linkTemplate = ctx.config.runtime.links?.alert;
  const deps: ChannelDeliveryDeps<Payload> = {
    render: opts.render,
    texts: channelTexts(ctx.config.runtime),
    sender: opts.sender,
    clock: systemClock,
    sleep,
    minIntervalMs: opts.settings.minIntervalMs ?? opts.defaultMinIntervalMs,
    retryBaseSeconds: Number(ctx.env[LOCAL_RETRY_SECONDS_ENV] ?? 5),
    ...(linkTemplate ? { linkTemplate } : {}),
    logger: ctx.logger,
  };
  const workers: QueueWorker[] = [];
  for (const channel of opts.channels) {
    const queue = LOCAL_NAMES.channelQueue(opts.type, channel.name);
    ctx.bus.declareQueue(queue, { visibilityTimeoutSeconds: 30, deadLetter: { queue: dlq, maxReceiveCount: opts.settings.maxReceiveCount } });
    ctx.bus.subscribe(ctx.alertsTopic, queue, channelFilterPolicy(channel.name, channel.minSeverity ? severitiesAtOrAbove(channel.minSeverity) : undefined));
    banner.push(`# ${opts.type} channel ${channel.name}: ${channel.describe}${channel.minSeverity ? ` (${channel.minSeverity} and above)` : ''} (queue ${queue})`);
    workers.push(
      startQueueWorker({
        bus: ctx.bus,
        queue,
        handle: async (messages) => {
          const results = await deliverBatch(deps, channel.name, messages);
          return Promise.all(
            results.map(async (r) => {
              if (r.ok) return { id: r.id, ok: true as const };
              if (!r.deadLetter) return r;
              const body = messages.find((m) => m.id === r.id)?.body ?? '';
              await ctx.bus.send(dlq, body, { attributes: { [DEAD_LETTER_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: r.reason } } });
              ctx.logger.error('notification moved to the dead-letter queue', { channel: channel.name, queue: dlq, reason: r.reason });
              return { id: r.id, ok: true as const };
            }),
          );
        },
        onError: (err) => ctx.logger.error(`${opts.type} ${channel.name} worker failed`, { error: err.message }),
      }),
    );
  }
  return { workers, banner };
}
