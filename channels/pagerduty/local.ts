/**
 * PagerDuty under `npm start`: channels with a routing key (`routingKey`, or the variable
 * `routingKeyEnv` names) are delivered to their `url` (default PagerDuty's) by the shared
 * queue-delivered worker; without a key, the banner says the channel is not delivered.
 */
import { configErrorAt } from '../../lambdas/commons/config-file';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { LocalChannel } from '../local-kind';
import { startQueueChannels, type LocalQueueChannel } from '../queue-delivered/local';
import { StaticChannelSecrets } from '../queue-delivered/secrets';
import { pagerdutyChannel, PAGERDUTY_MIN_INTERVAL_MS } from '.';
import { PAGERDUTY_EVENTS_URL } from './render';
import { checkRoutingKey, PagerDutySender } from './sender';

export const pagerdutyLocal: LocalChannel<'pagerduty'> = {
  async start(ctx, channels) {
    const banner: string[] = [];
    const keys: Record<string, string> = {};
    const urls: Record<string, string | undefined> = {};
    const delivered: LocalQueueChannel[] = [];
    const issues: ConfigIssue[] = [];
    for (const [name, ch] of Object.entries(channels)) {
      let key = ch.routingKey;
      if (ch.routingKeyEnv !== undefined) {
        key = ctx.env[ch.routingKeyEnv];
        if (!key) {
          issues.push({ path: ['channels', name, 'routingKeyEnv'], reason: `the environment variable ${ch.routingKeyEnv} (the routing key) is not set` });
          continue;
        }
        try {
          checkRoutingKey(key, `the environment variable ${ch.routingKeyEnv}`);
        } catch (err) {
          issues.push({ path: ['channels', name, 'routingKeyEnv'], reason: (err as Error).message });
          continue;
        }
      }
      if (!key) {
        banner.push(`# pagerduty channel ${name}: no routingKey or routingKeyEnv in ${ctx.config.file}, not delivered locally`);
        continue;
      }
      keys[name] = key;
      urls[name] = ch.url;
      delivered.push({ name, describe: ch.url ?? PAGERDUTY_EVENTS_URL, ...(ch.minSeverity ? { minSeverity: ch.minSeverity } : {}) });
    }
    if (issues.length > 0) throw configErrorAt(ctx.config.file, issues);
    const started = await startQueueChannels(ctx, {
      type: 'pagerduty',
      channels: delivered,
      render: pagerdutyChannel.render,
      sender: new PagerDutySender(urls, new StaticChannelSecrets(keys)),
      settings: ctx.config.delivery.pagerduty,
      defaultMinIntervalMs: PAGERDUTY_MIN_INTERVAL_MS / 2,
    });
    return { workers: started.workers, banner: [...banner, ...started.banner] };
  },
};
