/**
 * What the Slack kind renders: the Block Kit message (render.ts; what an incoming webhook
 * posts as is) and the facts the app mode threads on.
 */
import type { Alert } from '../../lambdas/domain/types';
import { slackMessage, type SlackMessage } from './render';

export interface SlackPayload {
  message: SlackMessage;
  alert: Pick<Alert, 'id' | 'state' | 'episode' | 'reminder'>;
}

export function slackPayload(alert: Alert, link: string | undefined): SlackPayload {
  return {
    message: slackMessage(alert, link),
    alert: { id: alert.id, state: alert.state, ...(alert.episode ? { episode: alert.episode } : {}), ...(alert.reminder ? { reminder: alert.reminder } : {}) },
  };
}
