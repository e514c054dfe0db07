/**
 * An alert as a Microsoft Teams message for a Workflows webhook ("When a Teams webhook
 * request is received"): {type: "message", attachments: [one Adaptive Card 1.4]}. Office 365
 * connectors and their MessageCard are retired; Workflows post Adaptive Cards only.
 * The card: a container styled by severity and state (attention/warning/accent, good when
 * resolved) holding the title, the facts (cluster, node, service, check, status, since, when)
 * and the short details; the long details (the check output ...) as monospace text; an
 * "Open" button to links.alert; a footer naming the alert. Free text goes in TextRuns of a
 * RichTextBlock (plain text: an output's `*` or `_` is never read as Markdown); fact values
 * are Markdown in Teams, so their Markdown characters are escaped. The whole message stays
 * under Teams' 28 KB: long texts are cut until it fits (TEAMS_LIMITS).
 */
import type { Alert, Severity } from '../../lambdas/domain/types';
import { cutAtWord } from '../pagerduty/render';

export const TEAMS_LIMITS = {
  /** Teams refuses a message over 28 KB (the JSON body, in bytes). */
  messageBytes: 28 * 1024,
  /** Ours: a title longer than this reads as a paragraph. */
  title: 300,
  /** Ours: a fact's value; longer or multi-line details are shown as text blocks. */
  factValue: 200,
  /** Ours: the first cut of a long detail (cut further while the message is too big). */
  longText: 8000,
  /** Facts shown; the rest of the short details join the long ones. */
  facts: 20,
  /** Long details shown as text blocks (the rest are left out: the link has them). */
  longTexts: 10,
} as const;

export const ADAPTIVE_CARD_VERSION = '1.4';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

type ContainerStyle = 'attention' | 'warning' | 'accent' | 'good';
type TextColor = 'attention' | 'warning' | 'accent' | 'good';

/** Container style and title colour by severity; resolved is green whatever the severity was. */
export const TEAMS_STYLE: Readonly<Record<Severity | 'resolved', { style: ContainerStyle; color: TextColor; label: string }>> = {
  critical: { style: 'attention', color: 'attention', label: 'Critical' },
  warning: { style: 'warning', color: 'warning', label: 'Warning' },
  info: { style: 'accent', color: 'accent', label: 'Info' },
  resolved: { style: 'good', color: 'good', label: 'Resolved' },
};

export type CardElement = Record<string, unknown>;

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: typeof ADAPTIVE_CARD_VERSION;
  fallbackText: string;
  body: CardElement[];
  actions?: CardElement[];
}

export interface TeamsMessage {
  type: 'message';
  /** What notifications and the activity feed show. */
  summary: string;
  attachments: [{ contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; contentUrl: null; content: AdaptiveCard }];
}

/** What a template may replace: the card's title, and its text in place of the details. */
export interface TeamsText {
  title?: string;
  body?: string;
}

/** Markdown that Teams reads in fact values and TextBlocks, escaped with a backslash. */
export function escapeTeamsMarkdown(text: string): string {
  return text.replace(/([\\`*_{}[\]()#+\-.!|>~<])/g, '\\$1');
}

export function messageBytes(message: TeamsMessage): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

const run = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'TextRun', text, ...extra });
const plainBlock = (text: string, extra: Record<string, unknown> = {}): CardElement => ({ type: 'RichTextBlock', inlines: [run(text, extra)] });

function cutText(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

export function teamsMessage(alert: Alert, link?: string, text: TeamsText = {}): TeamsMessage {
  const look = alert.state === 'resolved' ? TEAMS_STYLE.resolved : TEAMS_STYLE[alert.severity];
  const reminder = alert.reminder ? ` (reminder ${alert.reminder})` : '';
  const title = cutAtWord((text.title ?? `${alert.title}${reminder}`).replace(/\s+/g, ' ').trim() || alert.title, TEAMS_LIMITS.title);
  // A template's title is shown as written; the default one is prefixed with the cluster.
  const summary = text.title !== undefined ? title : cutAtWord(`[${alert.cluster}] ${title}`, TEAMS_LIMITS.title);

  const facts: Array<[string, string]> = [['Cluster', alert.cluster]];
  if (alert.node && alert.node !== '-') facts.push(['Node', alert.node]);
  if (alert.service) facts.push(['Service', alert.service]);
  if (alert.check) facts.push(['Check', alert.check]);
  if (alert.kind !== 'digest') facts.push(['Status', `${alert.from ?? '?'} → ${alert.to}`]);
  if (alert.since) facts.push(['Since', alert.since]);
  facts.push([alert.state === 'resolved' ? 'Resolved at' : 'Observed at', alert.at]);

  // A template's body replaces the details; without one, short details are facts, long ones text.
  const long: Array<[string, string]> = [];
  if (text.body !== undefined) {
    if (text.body.trim() !== '') long.push(['', text.body]);
  } else {
    for (const [k, v] of alert.details) {
      if (facts.length < TEAMS_LIMITS.facts && !v.includes('\n') && [...v].length <= TEAMS_LIMITS.factValue) facts.push([k, v]);
      else long.push([k, v]);
    }
  }

  const footer = [`tocsin · ${alert.source}/${alert.kind}`, `alert ${alert.id.slice(0, 12)}`];
  if (alert.rules?.length) footer.push(`rule ${alert.rules.join(', ')}`);
  if (alert.digest) footer.push(`${alert.digest.count} folded in ${alert.digest.windowSeconds}s`);

  const build = (maxLong: number): TeamsMessage => {
    const header: CardElement = {
      type: 'Container',
      style: look.style,
      bleed: true,
      items: [
        { type: 'TextBlock', text: look.label.toUpperCase(), size: 'Small', weight: 'Bolder', color: look.color, spacing: 'None' },
        plainBlock(title, { size: 'Large', weight: 'Bolder' }),
      ],
    };
    const body: CardElement[] = [
      header,
      { type: 'FactSet', facts: facts.map(([k, v]) => ({ title: escapeTeamsMarkdown(k), value: escapeTeamsMarkdown(cutText(v, TEAMS_LIMITS.factValue)) })) },
    ];
    for (const [k, v] of long.slice(0, TEAMS_LIMITS.longTexts)) {
      if (k) body.push({ type: 'TextBlock', text: escapeTeamsMarkdown(k), weight: 'Bolder', spacing: 'Medium', wrap: true });
      // A template body is prose; a detail (an output) is shown as it came, in monospace.
      body.push(plainBlock(cutText(v, maxLong), k ? { fontType: 'Monospace' } : {}));
    }
    body.push({ type: 'TextBlock', text: escapeTeamsMarkdown(footer.join(' · ')), size: 'Small', isSubtle: true, wrap: true, spacing: 'Medium' });
    const content: AdaptiveCard = {
      $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
      type: 'AdaptiveCard',
      version: ADAPTIVE_CARD_VERSION,
      fallbackText: summary,
      body,
      ...(link ? { actions: [{ type: 'Action.OpenUrl', title: 'Open', url: link }] } : {}),
    };
    return { type: 'message', summary, attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content }] };
  };

  let maxLong: number = TEAMS_LIMITS.longText;
  let message = build(maxLong);
  // Cut the long texts until the message fits (multi-byte text and JSON escapes make bytes > chars).
  while (messageBytes(message) > TEAMS_LIMITS.messageBytes && maxLong > 1) {
    maxLong = Math.floor(maxLong * 0.7);
    message = build(maxLong);
  }
  return message;
}
