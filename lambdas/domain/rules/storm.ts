/**
 * Storm grouping. Time is cut into fixed windows per (cluster, channel). Within a window
 * each severity level has a budget of `threshold` notifications sent one by one, and a
 * notification sent one by one counts against the budget of its level and of every level
 * below it. A firing notification goes out at once while fewer than `threshold`
 * notifications AT LEAST AS SEVERE have gone out one by one in the window; otherwise it is
 * folded into the window's digest (one per channel, when the window closes). Resolved
 * notices draw on the info budget (they are never urgent). So:
 *   - a storm of one severity behaves as before: `threshold` messages, then the digest;
 *   - a critical is never folded behind less severe notices (20 INFO then a CRITICAL: the
 *     critical goes out at once), nor is a warning behind infos: it is folded only when the
 *     channel already heard `threshold` notifications at least as severe in this window;
 *   - a channel receives at most 3 x threshold + 1 messages per window (threshold infos,
 *     warnings and criticals, then the digest), whatever the storm's size.
 */
import { alertId } from '../alert-id';
import { excerpt } from '../excerpt';
import { SEVERITY_RANK, type Alert, type Severity } from '../types';
import type { DigestTimer } from './outbox';
import type { GroupingSpec } from './types';

/** Lines listed in a digest; the rest are counted. */
export const DIGEST_MAX_LINES = 40;
/**
 * Characters of a digest's alert list, "... and N more" included: fits Slack's 50 blocks
 * (sections of <= 3,000 characters; channels/slack/render.ts SLACK_LIMITS), an email body,
 * and SNS's 256 KB with room to spare, so no channel cuts the list and loses the count.
 */
export const DIGEST_MAX_CHARS = 12_000;
/** Characters of a folded alert's output (or first detail) kept for its digest line. */
export const DIGEST_EXCERPT_CHARS = 200;
/** Seconds after the window end before the digest goes out (late folds still make it). */
export const DIGEST_GRACE_SECONDS = 2;

export function windowStart(nowMs: number, grouping: GroupingSpec): number {
  const size = grouping.windowSeconds * 1000;
  return Math.floor(nowMs / size) * size;
}

/** Severity levels, least severe first. */
export const STORM_LEVELS: readonly Severity[] = (Object.keys(SEVERITY_RANK) as Severity[]).sort((a, b) => SEVERITY_RANK[a] - SEVERITY_RANK[b]);

/** The budget a notification draws on: its severity when firing; info when resolved. */
export function stormLevel(alert: Pick<Alert, 'severity' | 'state'>): Severity {
  return alert.state === 'firing' ? alert.severity : 'info';
}

/** The budgets a notification sent one by one at `level` counts against: its own and every lower one. */
export function chargedLevels(level: Severity): Severity[] {
  return STORM_LEVELS.filter((l) => SEVERITY_RANK[l] <= SEVERITY_RANK[level]);
}

/** Per level: notifications at least that severe sent one by one in the window so far. */
export type StormSent = Partial<Record<Severity, number>>;

/** The admit rule (the store applies it atomically, as a condition on its counter item). */
export function stormVerdict(sent: StormSent, alert: Pick<Alert, 'severity' | 'state'>, grouping: GroupingSpec): 'deliver' | 'fold' {
  return (sent[stormLevel(alert)] ?? 0) < grouping.threshold ? 'deliver' : 'fold';
}

/** The counters after delivering `alert` one by one. */
export function chargeSent(sent: StormSent, alert: Pick<Alert, 'severity' | 'state'>): StormSent {
  const next = { ...sent };
  for (const l of chargedLevels(stormLevel(alert))) next[l] = (next[l] ?? 0) + 1;
  return next;
}

/** Most severe first: the order a group of notifications is admitted in (domain rule: a critical is never folded behind a less severe one of its own group). */
export function mostSevereFirst<T extends Pick<Alert, 'severity' | 'state'>>(a: T, b: T): number {
  return SEVERITY_RANK[stormLevel(b)] - SEVERITY_RANK[stormLevel(a)];
}

/**
 * Notifications of one window admitted together (one counter update for all), with the
 * outcome of admitting them one by one, most severe first: `add`, what they charge per
 * level; `atMost`, per level one of them draws on, the highest count sent before them with
 * which every one still goes out (the last of that level then sees `atMost + add - 1` <
 * threshold: the levels above were charged first). undefined: they cannot all go out, even
 * in an empty window (more of a level than its budget).
 */
export function groupCharge(alerts: ReadonlyArray<Pick<Alert, 'severity' | 'state'>>, threshold: number): { add: StormSent; atMost: StormSent } | undefined {
  const add: StormSent = {};
  const drawn = new Set<Severity>();
  for (const alert of alerts) {
    const level = stormLevel(alert);
    drawn.add(level);
    for (const l of chargedLevels(level)) add[l] = (add[l] ?? 0) + 1;
  }
  const atMost: StormSent = {};
  for (const l of drawn) {
    const most = threshold - (add[l] ?? 0);
    if (most < 0) return undefined;
    atMost[l] = most;
  }
  return { add, atMost };
}

/** Worst case per channel and window: every level's budget, then the digest. */
export function maxMessagesPerWindow(grouping: GroupingSpec): number {
  return STORM_LEVELS.length * grouping.threshold + 1;
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
  service?: string;
  check?: string;
  /** The check's output, else the first telling detail ("Reason: ..."), cut to DIGEST_EXCERPT_CHARS, one line. */
  excerpt?: string;
}

/** Details that say nothing to an operator reading a digest line. */
const QUIET_DETAILS = new Set(['ModifyIndex', 'LTime', 'Definition']);

export function foldedOf(alert: Alert): FoldedAlert {
  const output = alert.details.find(([k]) => k === 'Output');
  const telling = output ?? alert.details.find(([k, v]) => !QUIET_DETAILS.has(k) && v.trim() !== '');
  const text = telling ? (output ? telling[1] : `${telling[0]}: ${telling[1]}`).replace(/\s+/g, ' ') : '';
  return {
    id: alert.id,
    severity: alert.severity,
    state: alert.state,
    title: alert.title.slice(0, 300),
    node: alert.node,
    kind: alert.kind,
    source: alert.source,
    at: alert.at,
    ...(alert.service ? { service: alert.service.slice(0, 200) } : {}),
    ...(alert.check ? { check: alert.check.slice(0, 200) } : {}),
    ...(text.trim() ? { excerpt: excerpt(text, DIGEST_EXCERPT_CHARS) } : {}),
  };
}

/**
 * What a window folded, counted over every fold (the digest lists only the worst few): by
 * state, by severity, and how many nodes. Built with `tallyFolds` while the folds are read.
 */
export interface FoldTally {
  firing: number;
  resolved: number;
  bySeverity: Partial<Record<Severity, number>>;
  nodes: number;
}

/** Counts `folds` (all of a window's); node names are counted, not kept. */
export function tallyFolds(folds: Iterable<Pick<FoldedAlert, 'state' | 'severity' | 'node'>>): FoldTally {
  const tally: FoldTally = { firing: 0, resolved: 0, bySeverity: {}, nodes: 0 };
  const nodes = new Set<string>();
  for (const f of folds) {
    if (f.state === 'firing') tally.firing++;
    else tally.resolved++;
    tally.bySeverity[f.severity] = (tally.bySeverity[f.severity] ?? 0) + 1;
    if (f.node && f.node !== '-') nodes.add(f.node);
  }
  tally.nodes = nodes.size;
  return tally;
}

/** Worst first (severity, firing before resolved), then oldest first. */
export function worstFirst(a: FoldedAlert, b: FoldedAlert): number {
  return SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.state === b.state ? 0 : a.state === 'firing' ? -1 : 1) || a.at.localeCompare(b.at);
}

/** One digest line: title, then node / service / check and the output excerpt. */
export function digestLine(f: FoldedAlert): string {
  const where = [f.node && f.node !== '-' ? `node ${f.node}` : '', f.service ? `service ${f.service}` : '', f.check ? `check ${f.check}` : ''].filter(Boolean).join(', ');
  const state = f.state === 'resolved' && !/^RESOLVED\b/i.test(f.title) ? 'RESOLVED ' : '';
  return `${state}${f.title}${where ? ` [${where}]` : ''}${f.excerpt ? ` :: ${f.excerpt}` : ''}`.replace(/[\r\n]+/g, ' ');
}

/** The listed lines within DIGEST_MAX_LINES and DIGEST_MAX_CHARS, and "... and N more" for the rest. */
export function digestLines(sorted: FoldedAlert[], total: number): string[] {
  const more = (n: number) => `... and ${n} more not listed (of ${total} folded)`;
  const lines: string[] = [];
  let used = 0;
  for (const f of sorted.slice(0, DIGEST_MAX_LINES)) {
    const line = digestLine(f);
    // Keep room for the "more" line, whose count is at most `total`.
    if (used + line.length + 1 + more(total).length + 1 > DIGEST_MAX_CHARS) break;
    lines.push(line);
    used += line.length + 1;
  }
  if (total > lines.length) lines.push(more(total - lines.length));
  return lines;
}

/** The digest: one alert listing (up to DIGEST_MAX_LINES of) what was folded. */
/**
 * `tally`: counts over all `total` folds (the store counts them while reading); without it,
 * what the listed ones say, marked as such when they are not all.
 */
export function digestAlert(timer: DigestTimer, folded: FoldedAlert[], total: number, grouping: GroupingSpec, tally?: FoldTally): Alert {
  const sorted = [...folded].sort(worstFirst);
  const severity = sorted[0]?.severity ?? 'info';
  const listedNodes = new Set(folded.map((f) => f.node).filter((n) => n && n !== '-'));
  const start = new Date(timer.window).toISOString();
  let counts: string;
  if (tally) {
    const levels = (['critical', 'warning', 'info'] as const).filter((l) => tally.bySeverity[l]).map((l) => `${tally.bySeverity[l]} ${l}`);
    counts = `: ${tally.firing} firing, ${tally.resolved} resolved (${levels.join(', ')})`;
  } else {
    const firing = folded.filter((f) => f.state === 'firing').length;
    counts = total > folded.length ? ` (of the ${folded.length} read: ${firing} firing, ${folded.length - firing} resolved)` : `: ${firing} firing, ${folded.length - firing} resolved`;
  }
  const details: Array<[string, string]> = [
    ['Window', `${start} + ${grouping.windowSeconds}s`],
    ['Folded', `${total} ${total === 1 ? 'notification' : 'notifications'}${counts}`],
  ];
  const nodeCount = tally?.nodes ?? listedNodes.size;
  if (nodeCount > 0) details.push(['Nodes', [...listedNodes].slice(0, 20).join(', ') + (nodeCount > Math.min(20, listedNodes.size) ? ` and ${nodeCount - Math.min(20, listedNodes.size)} more` : '')]);
  details.push(['Alerts', digestLines(sorted, total).join('\n')]);
  return {
    id: alertId([timer.cluster, 'digest', timer.channel, timer.window]),
    cluster: timer.cluster,
    source: sorted[0]?.source ?? 'consul',
    kind: 'digest',
    severity,
    state: 'firing',
    node: '-',
    title: `${severity.toUpperCase()}: ${total} more ${total === 1 ? 'notification' : 'notifications'} for cluster ${timer.cluster} (storm digest)`,
    to: 'digest',
    at: new Date(timer.window + grouping.windowSeconds * 1000).toISOString(),
    details,
    channels: [timer.channel],
    digest: { count: total, windowStart: start, windowSeconds: grouping.windowSeconds },
  };
}
