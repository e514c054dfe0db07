/**
 * An alert as a Slack message: Block Kit inside one attachment (for the colour bar),
 * with fallback text for notifications and clients without blocks. Kept within
 * Slack's limits: 50 blocks, 3,000 characters per section text, 150 per header,
 * 10 fields of 2,000 characters per section, 10 context elements.
 */
import type { Alert, Severity } from '../../lambdas/domain/types';

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  headerText: 150,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  /** Top-level `text` (the notification/fallback); Slack truncates past 40,000. */
  fallbackText: 3000,
  buttonText: 75,
  url: 3000,
} as const;

export const SLACK_STYLE: Record<Severity | 'resolved', { color: string; emoji: string }> = {
  critical: { color: '#E01E5A', emoji: ':red_circle:' },
  warning: { color: '#ECB22E', emoji: ':large_orange_circle:' },
  info: { color: '#36C5F0', emoji: ':large_blue_circle:' },
  resolved: { color: '#2EB67D', emoji: ':white_check_mark:' },
};

export type SlackBlock = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  attachments: Array<{ color: string; fallback: string; blocks: SlackBlock[] }>;
}

/** mrkdwn control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Splits text into pieces of at most `max` characters, at line breaks where possible. */
export function chunks(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let at = rest.lastIndexOf('\n', max);
    if (at < max / 2) at = max;
    out.push(rest.slice(0, at));
    rest = rest.slice(at).replace(/^\n/, '');
  }
  if (rest.length > 0 || out.length === 0) out.push(rest);
  return out;
}

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });

/** A code block, escaped, within one section's limit (fences included). */
function codeSections(label: string, value: string, maxSections: number): SlackBlock[] {
  const budget = SLACK_LIMITS.sectionText - label.length - 12;
  const pieces = chunks(escapeMrkdwn(value).replace(/```/g, "'''"), budget);
  const shown = pieces.slice(0, maxSections);
  if (pieces.length > shown.length) shown[shown.length - 1] = cut(shown[shown.length - 1]!, budget - 2) + '…';
  return shown.map((p, i) => ({ type: 'section', text: mrkdwn(`${i === 0 ? `*${label}*\n` : ''}\`\`\`${p}\`\`\``) }));
}

/** A template's output (channels/templates.ts): the title replaces the headline, the body the details. */
export interface SlackText {
  title?: string;
  body?: string;
}

export function slackMessage(alert: Alert, link?: string, text: SlackText = {}): SlackMessage {
  const style = alert.state === 'resolved' ? SLACK_STYLE.resolved : SLACK_STYLE[alert.severity];
  const reminder = alert.reminder ? ` (reminder ${alert.reminder})` : '';
  const headline = text.title?.replace(/\s+/g, ' ').trim() || `${alert.title}${reminder}`;
  const fallback = cut(`${style.emoji} [${alert.cluster}] ${headline}`, SLACK_LIMITS.fallbackText);

  const blocks: SlackBlock[] = [{ type: 'header', text: { type: 'plain_text', text: cut(`${style.emoji} ${headline}`, SLACK_LIMITS.headerText), emoji: true } }];
  const fields: Array<[string, string]> = [['Cluster', alert.cluster]];
  if (alert.node && alert.node !== '-') fields.push(['Node', alert.node]);
  if (alert.service) fields.push(['Service', alert.service]);
  if (alert.kind !== 'digest') fields.push(['Status', `${alert.from ?? '?'} → ${alert.to}`]);
  fields.push([alert.state === 'resolved' ? 'Resolved at' : 'Observed at', alert.at]);
  if (alert.since) fields.push(['Since', alert.since]);
  blocks.push({
    type: 'section',
    fields: fields.slice(0, SLACK_LIMITS.fields).map(([k, v]) => mrkdwn(cut(`*${k}*\n${escapeMrkdwn(v)}`, SLACK_LIMITS.fieldText))),
  });

  // Details: short ones as fields, long or multi-line ones as their own sections.
  const reserved = 3; // divider + context + actions
  const short: Array<[string, string]> = [];
  const long: Array<[string, string]> = [];
  if (text.body !== undefined) {
    // The template's body, as text (escaped like any alert text), in as many sections as it needs.
    const room = SLACK_LIMITS.blocks - reserved - blocks.length;
    const sections = chunks(escapeMrkdwn(text.body), SLACK_LIMITS.sectionText);
    if (sections.length > room) sections[room - 1] = cut(sections[room - 1]!, SLACK_LIMITS.sectionText - 1) + '…';
    if (text.body.trim() !== '') sections.slice(0, room).forEach((t) => blocks.push({ type: 'section', text: mrkdwn(t) }));
  } else for (const [k, v] of alert.details) (v.includes('\n') || v.length > 200 ? long : short).push([k, v]);
  for (let i = 0; i < short.length && blocks.length < SLACK_LIMITS.blocks - reserved; i += SLACK_LIMITS.fields) {
    blocks.push({
      type: 'section',
      fields: short.slice(i, i + SLACK_LIMITS.fields).map(([k, v]) => mrkdwn(cut(`*${escapeMrkdwn(k)}*\n${escapeMrkdwn(v)}`, SLACK_LIMITS.fieldText))),
    });
  }
  for (const [k, v] of long) {
    const room = SLACK_LIMITS.blocks - reserved - blocks.length;
    if (room <= 0) break;
    if (alert.kind === 'digest' && k === 'Alerts') {
      const lines = v.split('\n').map((l) => `• ${escapeMrkdwn(l)}`);
      const sections = chunks(lines.join('\n'), SLACK_LIMITS.sectionText - 20);
      sections.slice(0, room).forEach((text, i) => blocks.push({ type: 'section', text: mrkdwn(`${i === 0 ? `*${escapeMrkdwn(k)}*\n` : ''}${text}`) }));
    } else {
      blocks.push(...codeSections(escapeMrkdwn(k), v, Math.min(room, 3)));
    }
  }

  blocks.push({ type: 'divider' });
  const context = [`tocsin · ${alert.source}/${alert.kind}`, `alert \`${alert.id.slice(0, 12)}\``];
  if (alert.rules?.length) context.push(`rule ${alert.rules.map(escapeMrkdwn).join(', ')}`);
  if (alert.digest) context.push(`${alert.digest.count} folded in ${alert.digest.windowSeconds}s`);
  blocks.push({ type: 'context', elements: context.slice(0, SLACK_LIMITS.contextElements).map((t) => mrkdwn(cut(t, SLACK_LIMITS.sectionText))) });
  if (link && link.length <= SLACK_LIMITS.url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open', emoji: false }, url: link }] });
  }
  return { text: fallback, attachments: [{ color: style.color, fallback, blocks: blocks.slice(0, SLACK_LIMITS.blocks) }] };
}
