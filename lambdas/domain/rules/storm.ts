/**
 * Storm grouping. Time is cut into fixed windows per (cluster, channel). The first
 * `threshold` notifications of a window go out one by one; the rest are folded and
 * arrive as ONE digest per channel when the window closes. So a channel receives at
 * most threshold + 1 messages per window, whatever the storm's size.
 */
import { alertId } from '../alert-id';
import { SEVERITY_RANK, type Alert, type Severity } from '../types';
import type { DigestTimer } from './outbox';
import type { GroupingSpec } from './types';

/** Lines listed in a digest; the rest are counted. */
export const DIGEST_MAX_LINES = 40;
/** Seconds after the window end before the digest goes out (late folds still make it). */
export const DIGEST_GRACE_SECONDS = 2;

export function windowStart(nowMs: number, grouping: GroupingSpec): number {
  const size = grouping.windowSeconds * 1000;
  return Math.floor(nowMs / size) * size;
}

/** count: this notification's position in its window (1-based). */
export function stormVerdict(count: number, grouping: GroupingSpec): 'deliver' | 'fold' {
  return count <= grouping.threshold ? 'deliver' : 'fold';
}

export function digestTimer(cluster: string, channel: string, window: number, grouping: GroupingSpec): DigestTimer {
  return { kind: 'digest', cluster, channel, window, dueAt: window + (grouping.windowSeconds + DIGEST_GRACE_SECONDS) * 1000 };
}

/** What is kept of a folded notification. */
export interface FoldedAlert {
  id: string;
  severity: Severity;
  state: Alert['state'];
  title: string;
  node: string;
  kind: string;
  source: Alert['source'];
  at: string;
}

export function foldedOf(alert: Alert): FoldedAlert {
  return { id: alert.id, severity: alert.severity, state: alert.state, title: alert.title.slice(0, 300), node: alert.node, kind: alert.kind, source: alert.source, at: alert.at };
}

/** The digest: one alert listing (up to DIGEST_MAX_LINES of) what was folded. */
export function digestAlert(timer: DigestTimer, folded: FoldedAlert[], total: number, grouping: GroupingSpec): Alert {
  const sorted = [...folded].sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || a.at.localeCompare(b.at));
  const severity = sorted[0]?.severity ?? 'info';
  const firing = folded.filter((f) => f.state === 'firing').length;
  const nodes = new Set(folded.map((f) => f.node).filter((n) => n && n !== '-'));
  const start = new Date(timer.window).toISOString();
  const details: Array<[string, string]> = [
    ['Window', `${start} + ${grouping.windowSeconds}s`],
    ['Folded', `${total} notification(s): ${firing} firing, ${folded.length - firing} resolved${total > folded.length ? ` (first ${folded.length} listed)` : ''}`],
  ];
  if (nodes.size > 0) details.push(['Nodes', [...nodes].slice(0, 20).join(', ') + (nodes.size > 20 ? ` and ${nodes.size - 20} more` : '')]);
  const lines = sorted.slice(0, DIGEST_MAX_LINES).map((f) => f.title);
  if (sorted.length > DIGEST_MAX_LINES || total > sorted.length) lines.push(`... and ${total - Math.min(sorted.length, DIGEST_MAX_LINES)} more`);
  details.push(['Alerts', lines.join('\n')]);
  return {
    id: alertId([timer.cluster, 'digest', timer.channel, timer.window]),
    cluster: timer.cluster,
    source: sorted[0]?.source ?? 'consul',
    kind: 'digest',
    severity,
    state: 'firing',
    node: '-',
    title: `${severity.toUpperCase()}: ${total} more notifications for cluster ${timer.cluster} (storm digest)`,
    to: 'digest',
    at: new Date(timer.window + grouping.windowSeconds * 1000).toISOString(),
    details,
    channels: [timer.channel],
    digest: { count: total, windowStart: start, windowSeconds: grouping.windowSeconds },
  };
}
