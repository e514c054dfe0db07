/** An alert as an email: a subject SNS accepts, and a plain-text body. */
import type { Alert } from '../../lambdas/domain/types';

export const MAX_SUBJECT_CHARS = 100;

/** SNS subjects: ASCII-printable-ish, no line breaks, at most 100 characters. */
export function emailSubject(alert: Alert): string {
  const raw = `[tocsin ${alert.cluster}] ${alert.title}`.replace(/[\r\n\t]+/g, ' ');
  return raw.length <= MAX_SUBJECT_CHARS ? raw : `${raw.slice(0, MAX_SUBJECT_CHARS - 3)}...`;
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
