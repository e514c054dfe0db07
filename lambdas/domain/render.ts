/**
 * Render an Alert per delivery protocol: readable text for people (email),
 * JSON for machines, plus SNS message attributes for subscription filters.
 */
import type { Alert } from './types';

export const MAX_SUBJECT_CHARS = 100;

/** SNS subjects: ASCII-printable-ish, no line breaks, at most 100 characters. */
export function emailSubject(alert: Alert): string {
  const raw = `[tocsin ${alert.cluster}] ${alert.title}`.replace(/[\r\n\t]+/g, ' ');
  return raw.length <= MAX_SUBJECT_CHARS ? raw : `${raw.slice(0, MAX_SUBJECT_CHARS - 3)}...`;
}

/**
 * The link back for an alert, from a template such as
 * `https://consul.example.com/ui/{cluster}/nodes/{node}` (tocsin.yaml links.alert).
 * Placeholders: {cluster} {node} {service} {check} {kind} {id}; values are URL-encoded.
 */
export function alertLink(template: string | undefined, alert: Alert): string | undefined {
  if (!template) return undefined;
  return template.replace(/\{(cluster|node|service|check|kind|id)\}/g, (_m, key: 'cluster' | 'node' | 'service' | 'check' | 'kind' | 'id') =>
    encodeURIComponent(String(alert[key] ?? '')),
  );
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

/** Message attributes set on every alert: what delivery subscriptions filter on. */
export const ALERT_ATTRIBUTE_NAMES = ['severity', 'cluster', 'node', 'service', 'check', 'kind'] as const;
export type AlertAttributeName = (typeof ALERT_ATTRIBUTE_NAMES)[number];

export function alertAttributes(alert: Alert): Record<AlertAttributeName, string> {
  return {
    severity: alert.severity,
    cluster: alert.cluster,
    node: alert.node,
    // SNS rejects empty attribute values; "-" marks "not applicable".
    service: alert.service || '-',
    check: alert.check || '-',
    kind: alert.kind,
  };
}

/** The SNS `MessageStructure: 'json'` document: one body per protocol. */
export function snsMessage(alert: Alert, link?: string): { subject: string; message: string } {
  const json = JSON.stringify(alert);
  const text = emailBody(alert, link);
  return {
    subject: emailSubject(alert),
    message: JSON.stringify({ default: text, email: text, 'email-json': json, sqs: json, lambda: json, http: json, https: json }),
  };
}

/**
 * The Alert from an SQS/HTTP subscriber's SNS notification `Message`. AWS delivers the
 * protocol's own body; emulators that ignore MessageStructure deliver the whole
 * per-protocol document, so accept both.
 */
export function alertFromNotification(message: string): Alert {
  const parsed = JSON.parse(message) as Record<string, unknown>;
  if (typeof parsed.sqs === 'string' && typeof parsed.default === 'string') return JSON.parse(parsed.sqs) as Alert;
  return parsed as unknown as Alert;
}
