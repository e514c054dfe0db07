/**
 * How `npm start` delivers each channel kind, on its stand-ins (the local bus, dynalite): one
 * entry per kind of channels/index.ts (a kind without one does not compile).
 */
import type { ChannelType } from '.';
import { emailLocal } from './email/local';
import type { LocalChannel } from './local-kind';
import { pagerdutyLocal } from './pagerduty/local';
import { slackLocal } from './slack/local';
import { teamsLocal } from './teams/local';
import { webhookLocal } from './webhook/local';

export type { LocalChannel, LocalChannelContext, LocalDelivery } from './local-kind';

export const LOCAL_CHANNELS: { readonly [T in ChannelType]: LocalChannel<T> } = {
  email: emailLocal,
  slack: slackLocal,
  pagerduty: pagerdutyLocal,
  webhook: webhookLocal,
  teams: teamsLocal,
};
