/**
 * What every channel shares about a published alert: its link back, the SNS message
 * attributes subscription filters match, and reading it back from a notification.
 * Each channel kind renders its own message (channels/<kind>/render.ts).
 */
import type { Alert } from './types';

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
