/**
 * Slack actions (README "Slack actions"): the buttons of an app channel's alert message and
 * what clicking them changes in the message. Pure.
 *   Acknowledge              the API's acknowledgement (acknowledgements.ts), by the Slack user
 *   Silence 1h / 4h          a silence of the alert's subject for that long
 *   Silence until resolved   a silence bound to the episode (silences.ts `episode`)
 * Each button's `value` names the cluster and the episode (Alert.episode); the interactivity
 * endpoint (lambdas/app/slack-interactions.ts) finds the firing alert by them. Block Kit
 * limits: action_id at most 255 characters, value at most 2,000, 25 elements per actions block.
 */
import type { SlackBlock, SlackMessage } from './render';

export const SLACK_ACTIONS_BLOCK_ID = 'tocsin-actions';

export const SLACK_ACTIONS = {
  ack: { actionId: 'tocsin.ack', label: 'Acknowledge' },
  silence1h: { actionId: 'tocsin.silence.1h', label: 'Silence 1h', seconds: 3600 },
  silence4h: { actionId: 'tocsin.silence.4h', label: 'Silence 4h', seconds: 4 * 3600 },
  silenceResolved: { actionId: 'tocsin.silence.resolved', label: 'Silence until resolved' },
} as const;

export type SlackActionName = keyof typeof SLACK_ACTIONS;

export const ACTION_LIMITS = { actionId: 255, value: 2000, elements: 25 } as const;

/** What a button's value carries: enough to find the alert, nothing secret. */
export interface ActionTarget {
  cluster: string;
  episode: string;
}

export function actionName(actionId: string): SlackActionName | undefined {
  return (Object.keys(SLACK_ACTIONS) as SlackActionName[]).find((n) => SLACK_ACTIONS[n].actionId === actionId);
}

export function encodeTarget(t: ActionTarget): string {
  return JSON.stringify({ c: t.cluster, e: t.episode });
}

export function decodeTarget(value: unknown): ActionTarget | undefined {
  if (typeof value !== 'string' || value.length > ACTION_LIMITS.value) return undefined;
  try {
    const v = JSON.parse(value) as { c?: unknown; e?: unknown };
    return typeof v.c === 'string' && typeof v.e === 'string' && v.c !== '' && /^[0-9a-f]{32}$/.test(v.e) ? { cluster: v.c, episode: v.e } : undefined;
  } catch {
    return undefined;
  }
}

/** Which buttons a message shows: an acknowledged alert loses Acknowledge, a silenced one the silences. */
export interface ActionState {
  acknowledged?: boolean;
  silenced?: boolean;
}

function buttons(target: ActionTarget, state: ActionState): SlackBlock[] {
  const value = encodeTarget(target);
  const names: SlackActionName[] = [...(state.acknowledged ? [] : (['ack'] as const)), ...(state.silenced ? [] : (['silence1h', 'silence4h', 'silenceResolved'] as const))];
  return names.map((n) => ({
    type: 'button',
    action_id: SLACK_ACTIONS[n].actionId,
    text: { type: 'plain_text', text: SLACK_ACTIONS[n].label, emoji: false },
    value,
    ...(n === 'ack' ? { style: 'primary' } : {}),
  }));
}

/** Our buttons are one actions block of their own (the "Open" link keeps its block). */
export function withActionButtons(message: SlackMessage, target: ActionTarget, state: ActionState = {}): SlackMessage {
  const [first, ...rest] = message.attachments;
  if (!first) return message;
  const elements = buttons(target, state);
  const blocks = first.blocks.filter((b) => b.block_id !== SLACK_ACTIONS_BLOCK_ID);
  if (elements.length > 0) {
    // Slack's 50-block cap: the renderer leaves room for one actions block; ours replaces the last detail if needed.
    if (blocks.length >= 50) blocks.splice(blocks.length - 3, 1);
    blocks.push({ type: 'actions', block_id: SLACK_ACTIONS_BLOCK_ID, elements });
  }
  return { ...message, attachments: [{ ...first, blocks }, ...rest] };
}

export const SLACK_NOTE_BLOCK_ID = 'tocsin-notes';

/**
 * The message after an action: its buttons as the new state says, and a context line per
 * action ("Acknowledged by <@U1> at 14:02 UTC"), kept across later actions.
 */
export function afterAction(message: { text?: unknown; attachments?: unknown }, target: ActionTarget, done: 'ack' | 'silence', note: string): SlackMessage | undefined {
  if (!Array.isArray(message.attachments) || message.attachments.length === 0) return undefined;
  const [first, ...rest] = message.attachments as Array<Record<string, unknown>>;
  if (!first || !Array.isArray(first.blocks)) return undefined;
  const shown = shownActions(first.blocks as SlackBlock[]);
  const state: ActionState = {
    acknowledged: done === 'ack' || !shown.includes('ack'),
    silenced: done === 'silence' || !shown.some((n) => n !== 'ack'),
  };
  const blocks = (first.blocks as SlackBlock[]).filter((b) => b.block_id !== SLACK_ACTIONS_BLOCK_ID);
  const at = blocks.findIndex((b) => b.block_id === SLACK_NOTE_BLOCK_ID);
  const noteElement = { type: 'mrkdwn', text: note };
  if (at >= 0) {
    const old = ((blocks[at]!.elements as unknown[]) ?? []).slice(-9); // context: at most 10 elements
    blocks[at] = { type: 'context', block_id: SLACK_NOTE_BLOCK_ID, elements: [...old, noteElement] };
  } else {
    blocks.push({ type: 'context', block_id: SLACK_NOTE_BLOCK_ID, elements: [noteElement] });
  }
  // Slack gives an attachment's colour back without its '#'.
  const color = typeof first.color === 'string' ? (/^[0-9a-f]{6}$/i.test(first.color) ? `#${first.color}` : first.color) : '#E01E5A';
  const fallback = typeof first.fallback === 'string' ? first.fallback : String(message.text ?? '');
  const updated: SlackMessage = { text: typeof message.text === 'string' && message.text !== '' ? message.text : fallback, attachments: [{ color, fallback, blocks: blocks.slice(0, 49) }, ...(rest as SlackMessage['attachments'])] };
  return withActionButtons(updated, target, state);
}

/** Our buttons a message's blocks show. */
export function shownActions(blocks: readonly SlackBlock[]): SlackActionName[] {
  const block = blocks.find((b) => b.block_id === SLACK_ACTIONS_BLOCK_ID);
  const elements = Array.isArray(block?.elements) ? (block.elements as Array<Record<string, unknown>>) : [];
  return elements.flatMap((e) => {
    const n = actionName(String(e.action_id ?? ''));
    return n ? [n] : [];
  });
}

/** "14:02 UTC" (the date too when not today). */
export function slackTime(ms: number, nowMs: number): string {
  const d = new Date(ms);
  const hm = d.toISOString().slice(11, 16);
  return new Date(nowMs).toISOString().slice(0, 10) === d.toISOString().slice(0, 10) ? `${hm} UTC` : `${d.toISOString().slice(0, 10)} ${hm} UTC`;
}
