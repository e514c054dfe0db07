/**
 * What Slack sends the Interactivity Request URL when a user clicks a button of a message
 * (https://api.slack.com/reference/interaction-payloads/block-actions): a POST of
 * `application/x-www-form-urlencoded` with one `payload` field (the block_actions JSON: the
 * user, the container and channel of the message, the whole message as Slack holds it, and
 * the action), signed `v0=` HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the app's signing
 * secret, in X-Slack-Signature and X-Slack-Request-Timestamp.
 */
import { createHmac } from 'node:crypto';
import type { SlackApiMessage } from './fake-slack-api';

export interface Click {
  message: SlackApiMessage;
  actionId: string;
  user?: { id: string; username: string };
}

/** The button `actionId` of the message's blocks (in its attachments), or throws. */
export function buttonOf(message: SlackApiMessage, actionId: string): Record<string, any> {
  for (const a of (message.body.attachments ?? []) as Array<Record<string, any>>) {
    for (const b of (a.blocks ?? []) as Array<Record<string, any>>) {
      const e = b.type === 'actions' ? (b.elements as Array<Record<string, any>>).find((x) => x.action_id === actionId) : undefined;
      if (e) return { ...e, block_id: b.block_id };
    }
  }
  throw new Error(`no button ${actionId} in message ${message.ts}`);
}

export function clickBody(click: Click): Buffer {
  const user = click.user ?? { id: 'U0OPS0001', username: 'ada' };
  const button = buttonOf(click.message, click.actionId);
  const payload = {
    type: 'block_actions',
    user: { id: user.id, username: user.username, name: user.username, team_id: 'T0TEAM001' },
    api_app_id: 'A0APP0001',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: click.message.ts, channel_id: click.message.channel, is_ephemeral: false },
    trigger_id: '1234567890.0987654321.abcdef',
    team: { id: 'T0TEAM001', domain: 'example' },
    channel: { id: click.message.channel, name: 'ops' },
    // Slack sends the message as it holds it: its text, attachments (with their blocks), ts, and more.
    message: { type: 'message', subtype: 'bot_message', text: click.message.body.text, ts: click.message.ts, bot_id: 'B0BOT0001', attachments: click.message.body.attachments },
    response_url: 'https://hooks.slack.com/actions/T0TEAM001/1/abc',
    actions: [{ action_id: button.action_id, block_id: button.block_id, text: button.text, value: button.value, type: 'button', action_ts: `${Date.now() / 1000}` }],
  };
  return Buffer.from(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), 'utf8');
}

export function slackHeaders(secret: string, body: Buffer, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(body).digest('hex')}`;
  return { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}
