/** An alert as an email: a subject SNS accepts, and a plain-text body. */
import { truncateText } from '../../lambdas/domain/input-limits';
import type { Alert } from '../../lambdas/domain/types';

export const MAX_SUBJECT_CHARS = 100;

/** A cut subject keeps at least this much of the limit rather than stop at an early space. */
const MIN_KEPT_CHARS = 60;

/**
 * SNS subjects: ASCII-printable-ish, no line breaks, at most 100 characters. The verdict
 * ("CRITICAL: ...") comes first in every title, so a cut only shortens the end; a long
 * subject is cut at a word boundary (a mid-word cut such as "(deregistered, o..." reads
 * as noise), mid-word only when the title has no space late enough.
 */
export function emailSubject(alert: Alert, title?: string): string {
  const raw = (title !== undefined ? title : `[tocsin ${alert.cluster}] ${alert.title}`).replace(/[\r\n\t]+/g, ' ').replace(/ {2,}/g, ' ');
  if (raw.length <= MAX_SUBJECT_CHARS) return raw;
  const room = MAX_SUBJECT_CHARS - 3;
  let cut = truncateText(raw, room);
  // A word boundary: the space before the word the limit falls in (or right after it).
  const space = raw[room] === ' ' ? room : cut.lastIndexOf(' ');
  if (space >= MIN_KEPT_CHARS) cut = cut.slice(0, space);
  return `${cut.replace(/[\s,;:(\[-]+$/, '')}...`;
}

export function emailBody(alert: Alert, link?: string): string {
  const lines = [alert.title, ''];
  if (alert.reminder) lines.push(`Reminder ${alert.reminder}: still firing.`, '');
  const when = alert.state === 'resolved' ? 'Resolved at' : 'Observed at';
  lines.push(`Cluster: ${alert.cluster}`);
  lines.push(`${when}: ${alert.at}`);
  if (alert.since) lines.push(`Previous state since: ${alert.since}`);
  for (const [key, value] of alert.details) {
    if (value.includes('\n')) {
      lines.push(`${key}:`);
      for (const l of value.split('\n')) lines.push(`  ${l}`);
    } else {
      lines.push(`${key}: ${value}`);
    }
  }
  if (link) lines.push('', link);
  lines.push('', `Alert id: ${alert.id}`);
  return lines.join('\n');
}
