/**
 * How the operator's view words an alert's times and history events, shared by the CLI
 * (`tocsin alerts`, `tocsin history`) and the web page (ui/): pure, importing nothing, so
 * that the browser bundle can take it. The events are the API's JSON (GET /v1/alerts/{id},
 * GET /v1/history; domain/rules/read-model.ts HistoryEvent with ISO times).
 */

/** "3d4h", "2h5m", "40s": a span of ms, compact (two units at most). */
export function compactSpan(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
    if (parts.length === 2) break;
  }
  if (parts.length < 2 && (parts.length === 0 || s > 0)) parts.push(`${s}s`);
  return parts.slice(0, 2).join('');
}

/** How long ago an ISO time was, compact. */
export function age(fromIso: string, nowMs: number): string {
  return compactSpan(nowMs - Date.parse(fromIso));
}

/** An ISO time as "2026-12-02 14:04:41 UTC" (to the second); text that is no time is returned as is. */
export function utcText(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

/** One history event as the API returns it. */
export type HistoryEventJson = Record<string, unknown> & { type: string };

/** One line for a history event. */
export function describeHistoryEvent(ev: HistoryEventJson): string {
  switch (ev.type) {
    case 'firing':
      return `${ev.change ? 'changed to' : 'firing'} ${String(ev.severity)} (${String(ev.status)}): ${String(ev.title)}`;
    case 'resolved':
      return `resolved (${String(ev.status)})${typeof ev.recoveredMs === 'number' ? ` after ${compactSpan(ev.recoveredMs)}` : ''}`;
    case 'notice':
      return `notice ${String(ev.severity)}: ${String(ev.title)}`;
    case 'notified':
      return `notified ${(ev.channels as string[]).join(', ')}${ev.reminder !== undefined ? ` (reminder ${String(ev.reminder)})` : ''}`;
    case 'silenced':
      return `held back by ${String(ev.by)}`;
    case 'acknowledged':
      return `acknowledged by ${String(ev.by)}${ev.until ? ` until ${String(ev.until)}` : ''}${ev.comment ? `: ${String(ev.comment)}` : ''}`;
    case 'unacknowledged':
      return `acknowledgement ended (${String(ev.reason)})`;
    default:
      return JSON.stringify(ev);
  }
}
