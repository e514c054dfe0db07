/**
 * The Slack kind's sender: each channel is either an incoming webhook (the message posted as
 * is, webhook.ts) or an app channel (a bot token and the Web API, app.ts).
 */
import type { ChannelSender, SendResponse } from '../../lambdas/app/channel-delivery';
import type { SlackAppSender } from './app';
import type { SlackPayload } from './payload';
import type { WebhookSender } from './webhook';

export class SlackSender implements ChannelSender<SlackPayload> {
  readonly endpoint = 'Slack';

  constructor(
    private readonly webhooks: WebhookSender,
    private readonly app: SlackAppSender | undefined,
    /** Names of the channels in app mode. */
    private readonly appChannels: ReadonlySet<string>,
  ) {}

  private appFor(channel: string): SlackAppSender | undefined {
    if (!this.appChannels.has(channel)) return undefined;
    if (!this.app) throw new Error(`slack channel ${channel} is an app channel but no Slack app sender was configured`);
    return this.app;
  }

  async destinationOf(channel: string): Promise<string> {
    return this.appFor(channel)?.destinationOf(channel) ?? this.webhooks.destinationOf(channel);
  }

  async send(destination: string, payload: SlackPayload, channel: string): Promise<SendResponse> {
    const app = this.appFor(channel);
    return app ? app.send(payload, channel) : this.webhooks.send(destination, payload.message);
  }
}
