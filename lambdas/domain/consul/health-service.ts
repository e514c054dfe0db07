/**
 * Consul `service` watch (/v1/health/service/<name>): an array of
 * {Node, Service, Checks}, `[]` when there is no instance. Each entry is one
 * service instance whose health is the worst of its checks, maintenance checks
 * aside: those put the instance (or its whole node) in maintenance instead.
 */
import { InputError, type Normalized } from '../input-errors';
import { normalizeCheck } from './checks';
import { excerpt } from '../excerpt';
import type { CheckObservation, Severity } from '../types';
import { asObject, formatMap, normalizeArray, optIndex, optNumber, optString, reqString, sameJson, stringArray, stringMap, tagSet } from './fields';
import { buildAlert, GONE_RETENTION_SECONDS, ignore, tagDiff, type Verdict } from './decision';
import { describeTarget, isMaintenanceCheck, MaintenanceSet, type MaintenanceTarget } from './maintenance';
import { alertVocabulary, type ValueOf } from '../alert-vocabulary';
import type { EntryOf, SERVICE_ENTRY_FIELDS, SERVICE_FIELDS, SERVICE_NODE_FIELDS } from './wire-form';

/** An instance's health: the worst of its checks (maintenance checks aside). */
export const INSTANCE_HEALTH = ['passing', 'warning', 'critical'] as const;
export type InstanceHealth = (typeof INSTANCE_HEALTH)[number];

/**
 * What `service` alerts say (rules/vocabulary.ts): an instance's health, registration
 * and maintenance. `from` is the previous health, or `maintenance` when it was in it.
 */
export const SERVICE_ALERTS = alertVocabulary({
  source: 'consul',
  kind: 'service',
  severity: ['info', 'warning', 'critical'],
  to: [...INSTANCE_HEALTH, 'registered', 'changed', 'maintenance', 'deregistered'],
  from: [...INSTANCE_HEALTH, 'maintenance'],
  fromMayBeAbsent: true,
});

export interface FailingCheck {
  checkId: string;
  name: string;
  status: string;
  type: string;
  notes: string;
  output: string;
}

export interface InstanceObservation {
  node: string;
  nodeAddress: string;
  /** Node.Meta (for rules). */
  nodeMeta: Record<string, string>;
  serviceId: string;
  serviceName: string;
  tags: string[];
  address: string;
  port: number;
  /** Service TaggedAddresses as `name -> host:port` (IPv6 hosts bracketed). */
  taggedAddresses: Record<string, string>;
  meta: Record<string, string>;
  health: InstanceHealth;
  /** Non-passing checks (maintenance checks excluded), worst first. */
  failing: FailingCheck[];
  /** Set when the node or this instance is in maintenance, with the reason given. */
  maintenance?: { target: MaintenanceTarget; reason: string };
  /** Highest ModifyIndex among node, service and checks. */
  index: number;
}

export interface InstanceState {
  node: string;
  serviceId: string;
  serviceName: string;
  tags: string[];
  address: string;
  port: number;
  nodeAddress: string;
  health: InstanceHealth;
  inMaintenance: boolean;
  /** Severity of the last firing alert not resolved yet. */
  alerting?: Severity;
  registered: boolean;
  /** Watch index of the snapshot that last wrote this record (0: unknown). */
  index: number;
  /** ISO time the current health was first observed. */
  since: string;
}

const RANK: Record<string, number> = { critical: 3, warning: 2, maintenance: 1, passing: 0 };

function serviceTaggedAddresses(value: unknown): Record<string, string> {
  if (value === null || value === undefined) return {};
  const o = asObject(value, 'Service.TaggedAddresses');
  const out: Record<string, string> = {};
  for (const name of Object.keys(o).sort()) {
    const entry = o[name];
    if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const addr = optString(entry as Record<string, unknown>, 'Address');
      const port = optNumber(entry as Record<string, unknown>, 'Port');
      out[name] = `${addr.includes(':') ? `[${addr}]` : addr}${port ? `:${port}` : ''}`;
    } else if (typeof entry === 'string') {
      out[name] = entry;
    }
  }
  return out;
}

export function normalizeServiceEntry(entry: unknown): InstanceObservation {
  // Only the fields wire-form.ts lists (the compact form sends no others).
  const e: EntryOf<typeof SERVICE_ENTRY_FIELDS> = asObject(entry, 'a ServiceEntry');
  const nodeObj: EntryOf<typeof SERVICE_NODE_FIELDS> = asObject(e.Node, 'Node');
  const svc: EntryOf<typeof SERVICE_FIELDS> = asObject(e.Service, 'Service');
  const node = reqString(nodeObj, 'Node');
  const serviceId = reqString(svc, 'ID');
  const rawChecks = e.Checks ?? [];
  if (!Array.isArray(rawChecks)) throw new InputError('Checks must be an array');
  let checks: CheckObservation[];
  try {
    checks = rawChecks.map(normalizeCheck);
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`Checks: ${err.message}`);
    throw err;
  }
  const maintenance = MaintenanceSet.of(checks);
  const target = maintenance.covering(node, serviceId);
  const health = checks
    .filter((c) => !isMaintenanceCheck(c.checkId))
    .reduce<InstanceHealth>((worst, c) => (c.status === 'critical' || c.status === 'warning') && RANK[c.status]! > RANK[worst]! ? c.status : worst, 'passing');
  const failing = checks
    .filter((c) => !isMaintenanceCheck(c.checkId) && c.status !== 'passing')
    .sort((a, b) => RANK[b.status]! - RANK[a.status]!)
    .map((c) => ({ checkId: c.checkId, name: c.name, status: c.status, type: c.type, notes: c.notes, output: c.output }));
  const observation: InstanceObservation = {
    node,
    nodeAddress: optString(nodeObj, 'Address'),
    nodeMeta: stringMap(nodeObj, 'Meta'),
    serviceId,
    serviceName: optString(svc, 'Service') || serviceId,
    tags: stringArray(svc, 'Tags'),
    address: optString(svc, 'Address'),
    port: optNumber(svc, 'Port'),
    taggedAddresses: serviceTaggedAddresses(svc.TaggedAddresses),
    meta: stringMap(svc, 'Meta'),
    health,
    failing,
    index: Math.max(optIndex(nodeObj, 'ModifyIndex'), optIndex(svc, 'ModifyIndex'), ...checks.map((c) => c.modifyIndex)),
  };
  if (target) observation.maintenance = { target, reason: maintenance.reason(target) ?? '' };
  return observation;
}

export function normalizeServiceEntries(parsed: unknown): Normalized<InstanceObservation> {
  return normalizeArray(parsed, 'a service watch body', normalizeServiceEntry);
}

export const instanceSubject = (o: { node: string; serviceId: string }): string => `instance/${o.node}/${o.serviceId}`;

export interface InstanceContext {
  cluster: string;
  at: string;
  baseline: boolean;
  snapshotIndex?: number;
}

function describeInstance(o: { node: string; serviceId: string; serviceName: string }): string {
  return o.serviceId === o.serviceName ? `service ${o.serviceName} on ${o.node}` : `service ${o.serviceName} instance ${o.serviceId} on ${o.node}`;
}

const endpoint = (address: string, port: number): string => `${address.includes(':') ? `[${address}]` : address}${port ? `:${port}` : ''}`;

function failingLine(c: FailingCheck): string {
  const ttl = c.type === 'ttl' && c.status === 'critical' && c.output.startsWith('TTL expired') ? ' TTL expired:' : '';
  const out = excerpt(c.output, 300);
  return `${c.name} [${c.checkId}] ${c.status}${c.type ? ` (${c.type})` : ''}${ttl}${out ? ` ${out}` : ''}${c.notes ? ` (notes: ${excerpt(c.notes, 120)})` : ''}`;
}

function registrationChanges(prev: InstanceState, o: InstanceObservation): Array<[string, string]> {
  const changes: Array<[string, string]> = [];
  const tags = tagSet(o.tags);
  if (!sameJson(prev.tags, tags)) changes.push(['Tags changed', tagDiff(prev.tags, tags)]);
  if (prev.address !== o.address || prev.port !== o.port) changes.push(['Endpoint changed', `${endpoint(prev.address, prev.port)} -> ${endpoint(o.address, o.port)}`]);
  if (prev.nodeAddress !== o.nodeAddress) changes.push(['Node address changed', `${prev.nodeAddress} -> ${o.nodeAddress}`]);
  return changes;
}

function facts(o: InstanceObservation, index: number | undefined): Array<[string, string]> {
  return [
    ['Service', o.serviceName],
    ['Instance', o.serviceId],
    ['Node', `${o.node}${o.nodeAddress ? ` (${o.nodeAddress})` : ''}`],
    ['Endpoint', endpoint(o.address || o.nodeAddress, o.port)],
    ['TaggedAddresses', formatMap(o.taggedAddresses)],
    ['Tags', o.tags.join(', ')],
    ['Health', o.health],
    ['Failing checks', o.failing.map(failingLine).join('\n')],
    ['Maintenance', o.maintenance ? `${describeTarget(o.maintenance.target, o.serviceName)}: ${o.maintenance.reason || '(no reason given)'}` : ''],
    ['Watch index', index !== undefined ? String(index) : String(o.index)],
  ];
}

const unhealthy = (h: InstanceHealth): h is 'warning' | 'critical' => h !== 'passing';

export function decideInstance(previous: InstanceState | undefined, o: InstanceObservation, ctx: InstanceContext): Verdict<InstanceState> {
  if (previous && ctx.snapshotIndex !== undefined && ctx.snapshotIndex <= previous.index) return ignore('stale', previous.registered);
  const subject = instanceSubject(o);
  const index = ctx.snapshotIndex ?? previous?.index ?? 0;
  const inMaintenance = o.maintenance !== undefined;
  const base: InstanceState = {
    node: o.node,
    serviceId: o.serviceId,
    serviceName: o.serviceName,
    tags: tagSet(o.tags),
    address: o.address,
    port: o.port,
    nodeAddress: o.nodeAddress,
    health: o.health,
    inMaintenance,
    registered: true,
    index,
    since: previous?.registered && previous.health === o.health ? previous.since : ctx.at,
  };
  const alert = (severity: Severity, state: 'firing' | 'resolved', what: string, to: ValueOf<typeof SERVICE_ALERTS.to>, extra: Array<[string, string]> = []) =>
    buildAlert(SERVICE_ALERTS, {
      cluster: ctx.cluster,
      severity,
      state,
      node: o.node,
      service: o.serviceName,
      what,
      ...(previous?.registered ? { from: previous.inMaintenance ? 'maintenance' : previous.health } : {}),
      to,
      at: ctx.at,
      ...(previous?.registered ? { since: previous.since } : {}),
      details: [...extra, ...facts(o, ctx.snapshotIndex)],
      idParts: [subject, to, severity, state, ctx.snapshotIndex ?? o.index],
    });
  const fire = (extra: Array<[string, string]> = [], note = ''): Verdict<InstanceState> => {
    const severity = o.health as 'warning' | 'critical';
    return {
      decision: { kind: 'write', state: { ...base, alerting: severity }, alert: alert(severity, 'firing', `${describeInstance(o)} is ${o.health}${note}`, o.health, extra) },
      member: true,
    };
  };
  const write = (state: InstanceState, a?: ReturnType<typeof alert>): Verdict<InstanceState> => ({
    decision: { kind: 'write', state, ...(a ? { alert: a } : {}) },
    member: true,
  });
  const keepAlerting = (s: InstanceState): InstanceState => (previous?.alerting ? { ...s, alerting: previous.alerting } : s);

  if (!previous || !previous.registered) {
    if (unhealthy(o.health) && !inMaintenance) return fire([], ctx.baseline ? '' : ' (newly registered)');
    if (ctx.baseline || inMaintenance) return write(base);
    return write(base, alert('info', 'firing', `${describeInstance(o)} registered`, 'registered'));
  }

  const changes = registrationChanges(previous, o);
  if (inMaintenance !== previous.inMaintenance) {
    if (inMaintenance) {
      return write(keepAlerting(base), alert('info', 'firing', `${describeInstance(o)} entered maintenance`, 'maintenance', changes));
    }
    if (unhealthy(o.health) && previous.alerting !== o.health) return fire(changes, ' (maintenance ended)');
    if (!unhealthy(o.health) && previous.alerting) {
      return write(base, alert('info', 'resolved', `${describeInstance(o)} left maintenance and is passing`, 'passing', changes));
    }
    return write(keepAlerting(base), alert('info', 'firing', `${describeInstance(o)} left maintenance`, o.health, changes));
  }

  if (!unhealthy(o.health) && previous.alerting) {
    return write(base, alert('info', 'resolved', `${describeInstance(o)} is passing again`, 'passing', changes));
  }
  if (!inMaintenance && unhealthy(o.health) && previous.alerting !== o.health) return fire(changes);
  if (!inMaintenance && changes.length > 0) {
    return write(keepAlerting(base), alert('info', 'firing', `${describeInstance(o)} changed (${changes.map(([k]) => k.replace(' changed', '').toLowerCase()).join(', ')})`, 'changed', changes));
  }
  if (previous.health === o.health && changes.length === 0) return ignore('unchanged', true);
  return write(keepAlerting(base)); // suppressed by maintenance, or nothing worth a notice
}

export function decideInstanceGone(previous: InstanceState | undefined, subject: string, ctx: InstanceContext): Verdict<InstanceState> {
  if (!previous || !previous.registered) return ignore('unchanged', false);
  if (ctx.snapshotIndex !== undefined && ctx.snapshotIndex <= previous.index) return ignore('stale');
  const index = ctx.snapshotIndex ?? previous.index;
  const { alerting: _alerting, ...rest } = previous;
  const state: InstanceState = { ...rest, registered: false, index, since: ctx.at };
  const what = `${describeInstance(previous)} is no longer listed (deregistered, or filtered out by the watch)`;
  const severity: Severity = 'info';
  const notify = previous.alerting !== undefined || !previous.inMaintenance;
  return {
    decision: {
      kind: 'write',
      state,
      ttlSeconds: GONE_RETENTION_SECONDS,
      ...(notify
        ? {
            alert: buildAlert(SERVICE_ALERTS, {
              cluster: ctx.cluster,
              severity,
              state: previous.alerting ? 'resolved' : 'firing',
              node: previous.node,
              service: previous.serviceName,
              what,
              from: previous.health,
              to: 'deregistered',
              at: ctx.at,
              since: previous.since,
              details: [
                ['Service', previous.serviceName],
                ['Instance', previous.serviceId],
                ['Node', `${previous.node}${previous.nodeAddress ? ` (${previous.nodeAddress})` : ''}`],
                ['Endpoint', endpoint(previous.address || previous.nodeAddress, previous.port)],
                ['Last health', previous.health],
                ['Watch index', ctx.snapshotIndex !== undefined ? String(ctx.snapshotIndex) : 'unknown'],
              ],
              idParts: [subject, 'deregistered', index],
            }),
          }
        : {}),
    },
    member: false,
  };
}
