/**
 * An alert as a PagerDuty Events API v2 event (without its routing_key, which the sender
 * adds from the channel's secret). One dedup_key per alert episode (Alert.episode): the
 * firing alert, its severity changes and reminders trigger under it (PagerDuty folds them
 * into one alert), the resolved alert resolves it; the subject's next episode gets a new
 * key. Alerts without an episode (events, notices, storm digests) use their own id.
 */
import type { Alert, Severity } from '../../lambdas/domain/types';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';

/** The Events API v2's limits that an alert could reach. */
export const PAGERDUTY_LIMITS = {
  summary: 1024,
  dedupKey: 255,
  routingKey: 32,
  /** Ours, not PagerDuty's: each custom detail, so that an event stays far below its 512 KB. */
  detailValue: 8192,
} as const;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** tocsin has three severities; PagerDuty's `error` (between critical and warning) has no tocsin counterpart. */
export const PAGERDUTY_SEVERITY: Readonly<Record<Severity, PagerDutySeverity>> = { critical: 'critical', warning: 'warning', info: 'info' };

export interface PagerDutyTrigger {
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component?: string;
    group: string;
    class: string;
    custom_details: Record<string, string | number | string[]>;
  };
  client: 'tocsin';
  client_url?: string;
  links?: Array<{ href: string; text: string }>;
}

export interface PagerDutyResolve {
  event_action: 'resolve';
  dedup_key: string;
}

export type PagerDutyEvent = PagerDutyTrigger | PagerDutyResolve;

/** A cut keeps at least this share of the limit rather than stop at an early space. */
const MIN_KEPT_SHARE = 0.6;

/** `text` within `max` characters: cut at a word boundary where one is late enough, ending in "…". */
export function cutAtWord(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  const room = chars.slice(0, max - 1).join('');
  const space = chars[max - 1] === ' ' ? room.length : room.lastIndexOf(' ');
  const kept = space >= (max - 1) * MIN_KEPT_SHARE ? room.slice(0, space) : room;
  return `${kept.replace(/[\s,;:(\[-]+$/, '')}…`;
}

export function dedupKey(alert: Alert): string {
  return alert.episode ?? alert.id;
}

/** A template's output (channels/templates.ts): the title is the summary, the body custom_details.message. */
export interface PagerDutyText {
  title?: string;
  body?: string;
}

export function pagerDutyEvent(alert: Alert, link?: string, text: PagerDutyText = {}): PagerDutyEvent {
  if (alert.state === 'resolved') return { event_action: 'resolve', dedup_key: dedupKey(alert) };
  const reminder = alert.reminder ? ` (reminder ${alert.reminder})` : '';
  const templated = text.title?.replace(/\s+/g, ' ').trim();
  const summary = cutAtWord(templated || `[${alert.cluster}] ${alert.title}${reminder}`.replace(/\s+/g, ' '), PAGERDUTY_LIMITS.summary);
  const component = alert.service || alert.check;
  return {
    event_action: 'trigger',
    dedup_key: dedupKey(alert),
    payload: {
      summary,
      // "The unique location of the affected system, preferably a hostname": the node, else the cluster.
      source: alert.node && alert.node !== '-' ? alert.node : alert.cluster,
      severity: PAGERDUTY_SEVERITY[alert.severity],
      timestamp: alert.at,
      ...(component ? { component } : {}),
      group: alert.cluster,
      class: `${alert.source}/${alert.kind}`,
      custom_details: text.body !== undefined ? { message: cutAtWord(text.body, PAGERDUTY_LIMITS.detailValue), ...customDetails(alert) } : customDetails(alert),
    },
    client: 'tocsin',
    ...(link ? { client_url: link, links: [{ href: link, text: 'Open' }] } : {}),
  };
}

function customDetails(alert: Alert): Record<string, string | number | string[]> {
  const out: Record<string, string | number | string[]> = { cluster: alert.cluster };
  if (alert.kind !== 'digest') out.status = `${alert.from ?? '?'} -> ${alert.to}`;
  out['observed at'] = alert.at;
  if (alert.since) out.since = alert.since;
  for (const [key, value] of alert.details) {
    // A detail never replaces a field above.
    if (!(key in out)) out[key] = cutAtWord(value, PAGERDUTY_LIMITS.detailValue);
  }
  if (alert.rules?.length) out.rules = alert.rules;
  if (alert.reminder) out.reminder = alert.reminder;
  if (alert.digest) out['folded notifications'] = alert.digest.count;
  out['alert id'] = alert.id;
  if (alert.episode) out.episode = alert.episode;
  return out;
}
