/** Build the Alert for a check transition. */
import { alertId } from '../alert-id';
import { checkSubject } from './checks';
import { OUTPUT_KEPT_CHARS } from './wire-form';
import { excerpt } from '../excerpt';
import { ALERTING_CHECK_STATUSES, RESOLVING_CHECK_STATUSES, STORED_CHECK_STATUSES, type AlertIntent, type CheckTransition } from './check-transitions';
import { describeTarget, maintenanceTarget } from './maintenance';
import { alertVocabulary } from '../alert-vocabulary';
import type { Alert, CheckObservation } from '../types';

/**
 * What `checks` alerts say (rules/vocabulary.ts). A check alert fires at the status's own
 * severity and resolves (info) when the check passes or goes away (the default policy,
 * check-transitions.ts); `from` is the stored status, absent for a check seen first.
 */
export const CHECK_ALERTS = alertVocabulary({
  source: 'consul',
  kind: 'check',
  severity: [...ALERTING_CHECK_STATUSES, 'info'],
  to: [...ALERTING_CHECK_STATUSES, ...RESOLVING_CHECK_STATUSES],
  from: STORED_CHECK_STATUSES,
  fromMayBeAbsent: true,
});

/**
 * Maintenance notices (`_node_maintenance`, `_service_maintenance:<id>`): info, firing when
 * maintenance starts, resolved when it ends; `from`/`to` are the maintenance check's statuses.
 */
export const MAINTENANCE_ALERTS = alertVocabulary({
  source: 'consul',
  kind: 'maintenance',
  severity: ['info'],
  to: STORED_CHECK_STATUSES,
  from: STORED_CHECK_STATUSES,
  fromMayBeAbsent: true,
});

/** Characters of check output kept in an alert: all the backend keeps of it (wire-form.ts). */
export const OUTPUT_EXCERPT_CHARS = OUTPUT_KEPT_CHARS;

function describeStatus(status: string | undefined): string {
  if (status === undefined) return 'unknown';
  return status === 'removed' ? 'no longer reported' : status;
}

/**
 * A TTL check whose TTL ran out: Consul sets it critical with Output "TTL expired"
 * or "TTL expired (last output before timeout follows): <last output>".
 */
export function ttlExpired(o: Pick<CheckObservation, 'type' | 'status' | 'output'>): boolean {
  return o.type === 'ttl' && o.status === 'critical' && o.output.startsWith('TTL expired');
}

function titleOf(t: CheckTransition, intent: AlertIntent): { title: string; kind: string } {
  const o = t.observation;
  const target = maintenanceTarget(o);
  if (target) {
    const what = describeTarget(target, o.serviceName);
    return { kind: MAINTENANCE_ALERTS.kind, title: `MAINTENANCE: ${what} ${intent.state === 'resolved' ? 'left' : 'entered'} maintenance mode` };
  }
  const service = o.serviceName || undefined;
  const label = intent.state === 'resolved' ? 'RESOLVED' : intent.severity.toUpperCase();
  const what = service ? `${o.name} (service ${service})` : o.name;
  let suffix = '';
  if (t.to !== 'removed' && ttlExpired(o)) suffix = ': TTL expired, no update from the service';
  else if (t.released) suffix = ` (still ${t.to} after maintenance)`;
  else if (t.awaitingFirstRun && intent.state === 'firing') suffix = ': no result since it was registered';
  return { kind: CHECK_ALERTS.kind, title: `${label}: ${what} on ${o.node}${suffix}` };
}

/** A Go duration of zero as Consul writes it ("0s"; also "0", "0ms", "0.0s"...). */
const ZERO_DURATION = /^0+(\.0+)?(ns|us|\u00b5s|ms|s|m|h)?$/;

/**
 * A Definition value that only says "not set": the catalog keeps a check's definition as
 * a Go struct, so every check (a TTL or script check too) carries every field at its zero
 * value (Consul 1.7: `Interval=0s Timeout=0s DeregisterCriticalServiceAfter=0s
 * TLSSkipVerify=false`). Those are not the check's settings: leave them out.
 */
export function isZeroValue(v: unknown): boolean {
  if (v === '' || v === null || v === undefined || v === false || v === 0) return true;
  if (typeof v === 'string') return ZERO_DURATION.test(v);
  if (typeof v === 'object') return Object.keys(v as object).length === 0;
  return false;
}

/** `holdSeconds`: how long the alert of a check awaiting its first run is held (first-run.ts). */
export function checkAlert(t: CheckTransition, intent: AlertIntent, holdSeconds?: number): Alert {
  const o = t.observation;
  const service = o.serviceName || undefined;
  const { title, kind } = titleOf(t, intent);
  const details: Array<[string, string]> = [
    ['Check', `${o.name} [${o.checkId}]`],
    ['Node', o.node],
  ];
  if (service) details.push(['Service', `${service}${o.serviceId && o.serviceId !== service ? ` [${o.serviceId}]` : ''}`]);
  if (o.serviceTags.length > 0) details.push(['Tags', o.serviceTags.join(', ')]);
  if (kind !== 'maintenance') details.push(['Status', `${describeStatus(t.from)} -> ${describeStatus(t.to)}`]);
  if (o.type) details.push(['Type', o.type]);
  if (o.definition) {
    const def = Object.entries(o.definition)
      .filter(([, v]) => !isZeroValue(v))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    if (def) details.push(['Definition', def]);
  }
  if (t.to !== 'removed' && ttlExpired(o)) {
    details.push(['Reason', 'TTL expired: the service did not report to this TTL check within its TTL, so Consul marked it critical']);
  }
  if (t.released) details.push(['Maintenance', `ended; the check stayed ${t.to} (its alert was withheld during maintenance)`]);
  if (t.awaitingFirstRun && intent.state === 'firing') {
    details.push([
      'Reason',
      `Consul registers a check as critical with empty output until its first run; this one has shown no result since it was registered${holdSeconds ? ` (alert held ${holdSeconds}s for it)` : ''}: it has not run, or it fails without output (see the agent's log)`,
    ]);
  }
  if (kind === 'maintenance') details.push(['Reason', o.notes ? excerpt(o.notes, 300) : '(none given)']);
  else if (o.notes) details.push(['Notes', excerpt(o.notes, 300)]);
  if (o.output && t.to !== 'removed') details.push(['Output', excerpt(o.output, OUTPUT_EXCERPT_CHARS)]);
  details.push(['ModifyIndex', String(o.modifyIndex)]);

  const alert: Alert = {
    id: alertId([t.cluster, 'check', checkSubject(o), t.from, t.to, o.modifyIndex, ...(t.released ? ['released'] : [])]),
    cluster: t.cluster,
    source: CHECK_ALERTS.source,
    kind,
    severity: intent.severity,
    state: intent.state,
    node: o.node,
    check: o.checkId,
    title,
    from: t.from,
    to: t.to,
    at: t.at,
    details,
  };
  if (service) alert.service = service;
  if (t.previous?.since) alert.since = t.previous.since;
  return alert;
}
