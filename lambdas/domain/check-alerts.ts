/** Build the Alert for a check transition. */
import { createHash } from 'node:crypto';
import { checkSubject } from './consul-checks';
import type { AlertIntent, CheckTransition } from './check-transitions';
import type { Alert } from './types';

/** Characters of check output kept in an alert. */
export const OUTPUT_EXCERPT_CHARS = 1000;

export function alertId(parts: ReadonlyArray<string | number | undefined>): string {
  return createHash('sha256').update(parts.map((p) => String(p ?? '')).join('\u0000')).digest('hex').slice(0, 32);
}

export function excerpt(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length <= max ? trimmed : `${trimmed.slice(0, max - 1)}…`;
}

function describeStatus(status: string | undefined): string {
  if (status === undefined) return 'unknown';
  return status === 'removed' ? 'no longer reported' : status;
}

export function checkAlert(t: CheckTransition, intent: AlertIntent): Alert {
  const o = t.observation;
  const service = o.serviceName || undefined;
  const label = intent.state === 'resolved' ? 'RESOLVED' : intent.severity.toUpperCase();
  const what = service ? `${o.name} (service ${service})` : o.name;
  const details: Array<[string, string]> = [
    ['Check', `${o.name} [${o.checkId}]`],
    ['Node', o.node],
  ];
  if (service) details.push(['Service', `${service}${o.serviceId && o.serviceId !== service ? ` [${o.serviceId}]` : ''}`]);
  if (o.serviceTags.length > 0) details.push(['Tags', o.serviceTags.join(', ')]);
  details.push(['Status', `${describeStatus(t.from)} -> ${describeStatus(t.to)}`]);
  if (o.type) details.push(['Type', o.type]);
  if (o.definition) {
    const def = Object.entries(o.definition)
      .filter(([, v]) => v !== '' && v !== null && v !== undefined && !(typeof v === 'object' && Object.keys(v as object).length === 0))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    if (def) details.push(['Definition', def]);
  }
  if (o.notes) details.push(['Notes', excerpt(o.notes, 300)]);
  if (o.output && t.to !== 'removed') details.push(['Output', excerpt(o.output, OUTPUT_EXCERPT_CHARS)]);
  details.push(['ModifyIndex', String(o.modifyIndex)]);

  const alert: Alert = {
    id: alertId([t.cluster, 'check', checkSubject(o), t.from, t.to, o.modifyIndex]),
    cluster: t.cluster,
    source: 'consul',
    kind: 'check',
    severity: intent.severity,
    state: intent.state,
    node: o.node,
    check: o.checkId,
    title: `${label}: ${what} on ${o.node}`,
    from: t.from,
    to: t.to,
    at: t.at,
    details,
  };
  if (service) alert.service = service;
  if (t.previous?.since) alert.since = t.previous.since;
  return alert;
}
