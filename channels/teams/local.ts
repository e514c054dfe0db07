/**
 * Teams under `npm start`: channels with a workflow URL (`url`, or the variable `urlEnv`
 * names) are posted to by the shared queue-delivered worker; without one, the banner says
 * the channel is not delivered. The banner shows the URL's origin only (the rest is the secret).
 */
import { configErrorAt } from '../../lambdas/commons/config-file';
import type { ConfigIssue } from '../../lambdas/domain/rules/config';
import type { LocalChannel } from '../local-kind';
import { startQueueChannels, type LocalQueueChannel } from '../queue-delivered/local';
import { StaticChannelSecrets } from '../queue-delivered/secrets';
import { teamsChannel, TEAMS_MIN_INTERVAL_MS } from '.';
import { checkWorkflowUrl, TeamsWorkflowSender } from './sender';

export const teamsLocal: LocalChannel<'teams'> = {
  async start(ctx, channels) {
    const banner: string[] = [];
    const urls: Record<string, string> = {};
    const delivered: LocalQueueChannel[] = [];
    const issues: ConfigIssue[] = [];
    for (const [name, ch] of Object.entries(channels)) {
      let url = ch.url;
      if (ch.urlEnv !== undefined) {
        url = ctx.env[ch.urlEnv];
        try {
          if (!url) throw new Error(`the environment variable ${ch.urlEnv} (the Workflows webhook URL) is not set`);
          checkWorkflowUrl(url, `the environment variable ${ch.urlEnv}`, false);
        } catch (err) {
          issues.push({ path: ['channels', name, 'urlEnv'], reason: (err as Error).message });
          continue;
        }
      }
      if (!url) {
        banner.push(`# teams channel ${name}: no url or urlEnv in ${ctx.config.file}, not delivered locally`);
        continue;
      }
      urls[name] = url;
      delivered.push({ name, describe: `${new URL(url).origin}/…`, ...(ch.minSeverity ? { minSeverity: ch.minSeverity } : {}) });
    }
    if (issues.length > 0) throw configErrorAt(ctx.config.file, issues);
    const started = await startQueueChannels(ctx, {
      type: 'teams',
      channels: delivered,
      render: teamsChannel.render,
      sender: new TeamsWorkflowSender(new StaticChannelSecrets(urls)),
      settings: ctx.config.delivery.teams,
      defaultMinIntervalMs: TEAMS_MIN_INTERVAL_MS / 2,
    });
    return { workers: started.workers, banner: [...banner, ...started.banner] };
  },
};
