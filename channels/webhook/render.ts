/**
 * An alert as the generic webhook's JSON payload, version 1. Its JSON Schema is
 * schema/webhook-payload.v1.json (test/unit/webhook-channel.test.ts validates this renderer
 * against it); docs/webhook.md says what each field means, how the request is signed and
 * how a receiver verifies it. A new version of the payload is a new schema file; fields
 * are only added to version 1, never removed or changed in meaning.
 */
import type { Alert, AlertState, Severity, Source } from '../../lambdas/domain/types';

export const WEBHOOK_PAYLOAD_VERSION = 1;
/** Where the payload's schema lives in the repository. */
export const WEBHOOK_PAYLOAD_SCHEMA = 'schema/webhook-payload.v1.json';

export interface WebhookPayload {
  version: typeof WEBHOOK_PAYLOAD_VERSION;
  /** This notification: the same on every retry of it, so a receiver can drop a repeat. */
  id: string;
  /** The problem episode: the same on its firing notice, severity changes, reminders and its resolution. */
  episode: string;
  state: AlertState;
  severity: Severity;
  title: string;
  /** A template's body (tocsin.yaml template.body), when one applies. */
  text?: string;
  cluster: string;
  source: Source;
  kind: string;
  node?: string;
  service?: string;
  check?: string;
  from?: string;
  to: string;
  at: string;
  since?: string;
  details: Array<{ name: string; value: string }>;
  rules: string[];
  reminder?: number;
  digest?: { count: number; windowStart: string; windowSeconds: number };
  link?: string;
}

export function webhookPayload(alert: Alert, link?: string, text: { title?: string; body?: string } = {}): WebhookPayload {
  return {
    version: WEBHOOK_PAYLOAD_VERSION,
    id: alert.id,
    // An alert outside an episode (an event, a notice, a digest) is an episode of its own.
    episode: alert.episode ?? alert.id,
    state: alert.state,
    severity: alert.severity,
    title: text.title ?? alert.title,
    ...(text.body !== undefined ? { text: text.body } : {}),
    cluster: alert.cluster,
    source: alert.source,
    kind: alert.kind,
    ...(alert.node && alert.node !== '-' ? { node: alert.node } : {}),
    ...(alert.service ? { service: alert.service } : {}),
    ...(alert.check ? { check: alert.check } : {}),
    ...(alert.from !== undefined ? { from: alert.from } : {}),
    to: alert.to,
    at: alert.at,
    ...(alert.since ? { since: alert.since } : {}),
    details: alert.details.map(([name, value]) => ({ name, value })),
    rules: alert.rules ?? [],
    ...(alert.reminder ? { reminder: alert.reminder } : {}),
    ...(alert.digest ? { digest: alert.digest } : {}),
    ...(link ? { link } : {}),
  };
}
