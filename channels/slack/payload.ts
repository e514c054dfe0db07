/**
 * What the Slack kind renders: the Block Kit message (render.ts; what an incoming webhook
 * posts as is) and the facts the app mode threads on.
 */
import type { Alert } from '../../lambdas/domain/types';
import { slackMessage, type SlackMessage, type SlackText } from './render';

export interface SlackPayload {
  message: SlackMessage;
  alert: Pick<Alert, 'id' | 'state' | 'episode' | 'reminder'> & Partial<Pick<Alert, 'cluster'>>;
}

/** `text`: a template's output (channels/templates.ts), as for the webhook message. */
export function slackPayload(alert: Alert, link: string | undefined, text?: SlackText): SlackPayload {
  return {
    message: slackMessage(alert, link, text),
    alert: { id: alert.id, cluster: alert.cluster, state: alert.state, ...(alert.episode ? { episode: alert.episode } : {}), ...(alert.reminder ? { reminder: alert.reminder } : {}) },
  };
}
