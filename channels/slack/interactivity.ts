/**
 * The Slack apps behind tocsin's app channels, as the interactivity endpoint needs them
 * (lambdas/app/slack-interactions.ts SlackApps): their signing secrets, which app channel
 * posts to a Slack channel, and Web API calls with its bot token.
 *   deployed    the signing secret is kept with the bot token, in the channel's
 *               `botTokenParameter` (or `botTokenSecret`), as JSON {"botToken": "xoxb-...",
 *               "signingSecret": "..."} (read, cached five minutes, like the token);
 *   npm start   `signingSecretEnv` names the environment variable holding it.
 */
import type { SlackApps } from '../../lambdas/app/slack-interactions';
import type { ChannelSpec } from '../../lambdas/domain/rules/types';
import { DeployedChannelSecrets, StaticChannelSecrets, type ChannelSecrets, type SecretClients } from '../queue-delivered/secrets';
import { channelSecretLocations, SLACK_BOT_TOKEN_KEYS } from '../secret-location';
import type { SlackChannel } from '.';
import { botTokenOfSecret, isSlackApp } from './app-channel';
import type { SlackThreadStore } from './threads';
import { callSlack, checkBotToken, SLACK_API_URL } from './web-api';

interface AppChannel {
  name: string;
  channel: string;
  apiUrl: string;
}

/** The signing secret field of a stored bot token (named by `from`); '' when it holds none (the token alone). */
export function signingSecretOfSecret(stored: string, from: string): string {
  if (!stored.startsWith('{')) return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    throw new Error(`${from} starts with { but is not JSON`);
  }
  const value = (parsed as Record<string, unknown>).signingSecret;
  if (value === undefined) return '';
  if (typeof value !== 'string' || !/^[0-9a-f]{16,128}$/i.test(value)) throw new Error(`${from}: "signingSecret" is not a Slack signing secret (hex digits)`);
  return value;
}

class ConfiguredSlackApps implements SlackApps {
  constructor(
    private readonly apps: readonly AppChannel[],
    private readonly tokens: ChannelSecrets,
    private readonly secrets: ChannelSecrets,
    private readonly threads: () => SlackThreadStore,
  ) {}

  async announce(channels: readonly string[], episodeKey: string, text: string, timeoutMs: number): Promise<string[]> {
    const problems: string[] = [];
    await Promise.all(
      this.apps
        .filter((a) => channels.includes(a.name))
        .map(async (app) => {
          try {
            const thread = await this.threads().getThread(app.name, episodeKey);
            if (!thread) return;
            const answer = await callSlack(app.apiUrl, await this.tokens.secretOf(app.name), 'chat.postMessage', { channel: thread.channelId, thread_ts: thread.ts, text, unfurl_links: false }, timeoutMs);
            if (answer.json?.ok !== true) problems.push(`${app.name}: ${String(answer.json?.error ?? `HTTP ${answer.status}`)}`);
          } catch (err) {
            problems.push(`${app.name}: ${(err as Error).message}`);
          }
        }),
    );
    return problems;
  }

  async signingSecrets(): Promise<string[]> {
    const all = await Promise.all(this.apps.map((a) => this.secrets.secretOf(a.name).catch(() => '')));
    return [...new Set(all.filter((s) => s !== ''))];
  }

  channelsFor(channelId: string): string[] {
    return this.apps.filter((a) => a.channel === channelId).map((a) => a.name);
  }

  async call(channel: string, method: 'chat.update' | 'chat.postEphemeral', body: Record<string, unknown>, timeoutMs: number): Promise<{ ok: boolean; error?: string }> {
    const app = this.apps.find((a) => a.name === channel);
    if (!app) throw new Error(`no Slack app channel ${channel}`);
    const answer = await callSlack(app.apiUrl, await this.tokens.secretOf(channel), method, body, timeoutMs);
    if (answer.json?.ok === true) return { ok: true };
    return { ok: false, error: String(answer.json?.error ?? `HTTP ${answer.status}`) };
  }
}

function appChannels(channels: Readonly<Record<string, ChannelSpec>>): Array<[string, SlackChannel]> {
  return Object.entries(channels).flatMap(([name, spec]) => (spec.type === 'slack' && isSlackApp(spec as SlackChannel) ? [[name, spec as SlackChannel] as [string, SlackChannel]] : []));
}

/** Deployed: undefined when there is no app channel (the endpoint answers that Slack actions are off). */
export function deployedSlackApps(channels: Readonly<Record<string, ChannelSpec>>, clients: SecretClients, threads: () => SlackThreadStore): SlackApps | undefined {
  const locations = channelSecretLocations(Object.fromEntries(appChannels(channels)), SLACK_BOT_TOKEN_KEYS);
  const apps = appChannels(channels).filter(([name]) => locations[name]);
  if (apps.length === 0) return undefined;
  return new ConfiguredSlackApps(
    apps.map(([name, ch]) => ({ name, channel: ch.channel as string, apiUrl: ch.apiUrl ?? SLACK_API_URL })),
    new DeployedChannelSecrets(clients, locations, botTokenOfSecret),
    new DeployedChannelSecrets(clients, locations, signingSecretOfSecret),
    threads,
  );
}

/**
 * `npm start`: the app channels with a bot token and a signing secret in the environment
 * (`signingSecretEnv`); undefined when none has both. Errors name the variable, never its value.
 */
export function localSlackApps(channels: Readonly<Record<string, ChannelSpec>>, env: Readonly<Record<string, string | undefined>>, threads: () => SlackThreadStore): SlackApps | undefined {
  const apps: AppChannel[] = [];
  const tokens: Record<string, string> = {};
  const secrets: Record<string, string> = {};
  for (const [name, ch] of appChannels(channels)) {
    const token = ch.botTokenEnv !== undefined ? env[ch.botTokenEnv] : ch.botToken;
    const secret = ch.signingSecretEnv !== undefined ? env[ch.signingSecretEnv] : undefined;
    if (!token || !secret) continue;
    tokens[name] = checkBotToken(token, ch.botTokenEnv !== undefined ? `the environment variable ${ch.botTokenEnv}` : `channels.${name}.botToken`);
    secrets[name] = secret;
    apps.push({ name, channel: ch.channel as string, apiUrl: ch.apiUrl ?? SLACK_API_URL });
  }
  return apps.length === 0 ? undefined : new ConfiguredSlackApps(apps, new StaticChannelSecrets(tokens), new StaticChannelSecrets(secrets), threads);
}
