/** The Slack apps behind tocsin's app channels, as the Slack actions endpoint and the alerts API need them (adapter: channels/slack/interactivity.ts). */
export interface SlackApps {
  /** The signing secrets (one per Slack app; usually one). */
  signingSecrets(): Promise<string[]>;
  /** tocsin's app channels (names) posting to this Slack channel ID. */
  channelsFor(channelId: string): string[];
  /** A Web API call with that app channel's bot token. */
  call(channel: string, method: 'chat.update' | 'chat.postEphemeral', body: Record<string, unknown>, timeoutMs: number): Promise<{ ok: boolean; error?: string }>;
  /**
   * Says `text` in the episode's thread of each of `channels` that is an app channel with a
   * thread (an acknowledgement made through the API or the CLI); the problems, if any.
   */
  announce(channels: readonly string[], episodeKey: string, text: string, timeoutMs: number): Promise<string[]>;
}
