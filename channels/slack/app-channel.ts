/**
 * What tells a Slack app channel apart and reads its bot token: apart from the kind's
 * definition (index.ts), so that the ingest function's Slack actions (interactivity.ts)
 * bundle these few lines and not the whole kind (its renderer, senders and schema).
 */
import { plainOrJsonField } from '../queue-delivered/secrets';
import { checkBotToken } from './web-api';

/** App mode: the channel names an ID (what `channel` is), not a #name. */
export function isSlackApp(spec: { readonly channel?: string }): boolean {
  return spec.channel !== undefined;
}

/** The stored secret (parameter or secret, named by `from`): the bot token itself, or JSON {"botToken": "..."}. */
export function botTokenOfSecret(stored: string, from: string): string {
  return checkBotToken(plainOrJsonField(stored, 'botToken', from), from);
}
