/**
 * Webhooks under `npm start`: channels with a signing key (`signingKey`, or the variable
 * `signingKeyEnv` names) are POSTed to their `url` by the shared queue-delivered worker;
 * without a key, the banner says the channel is not delivered (an unsigned post would be
 * refused by a receiver that verifies, and accepted by one that does not: neither is wanted).
 */
import { configErrorAt } from '../../lambdas/commons/config-file';
import { systemClock } from '../../lambdas/app/runtime';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { LocalChannel } from '../local-kind';
import { startQueueChannels, type LocalQueueChannel } from '../queue-delivered/local';
import { StaticChannelSecrets } from '../queue-delivered/secrets';
import { webhookChannel, WEBHOOK_MIN_INTERVAL_MS } from '.';
import { checkSigningKeys, WebhookPayloadSender } from './sender';

export const webhookLocal: LocalChannel<'webhook'> = {
  async start(ctx, channels) {
    const banner: string[] = [];
    const keys: Record<string, string> = {};
    const urls: Record<string, string> = {};
    const delivered: LocalQueueChannel[] = [];
    const issues: ConfigIssue[] = [];
    for (const [name, ch] of Object.entries(channels)) {
      let key = ch.signingKey;
      if (ch.signingKeyEnv !== undefined) {
        key = ctx.env[ch.signingKeyEnv];
        try {
          if (!key) throw new Error(`the environment variable ${ch.signingKeyEnv} (the signing key) is not set`);
          checkSigningKeys(key, `the environment variable ${ch.signingKeyEnv}`);
        } catch (err) {
          issues.push({ path: ['channels', name, 'signingKeyEnv'], reason: (err as Error).message });
          continue;
        }
      }
      if (!key) {
        banner.push(`# webhook channel ${name}: no signingKey or signingKeyEnv in ${ctx.config.file}, not delivered locally`);
        continue;
      }
      keys[name] = key;
      urls[name] = ch.url;
      delivered.push({ name, describe: ch.url, ...(ch.minSeverity ? { minSeverity: ch.minSeverity } : {}) });
    }
    if (issues.length > 0) throw configErrorAt(ctx.config.file, issues);
    const started = await startQueueChannels(ctx, {
      type: 'webhook',
      channels: delivered,
      render: webhookChannel.render,
      sender: new WebhookPayloadSender(urls, new StaticChannelSecrets(keys), systemClock),
      settings: ctx.config.delivery.webhook,
      defaultMinIntervalMs: WEBHOOK_MIN_INTERVAL_MS / 2,
    });
    return { workers: started.workers, banner: [...banner, ...started.banner] };
  },
};
