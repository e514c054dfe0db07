/**
 * Consul catalog watches:
 * - `services` (/v1/catalog/services): object {name: [tags]}, `{}` when empty. No
 *   per-service index: the watch index (CONSUL_INDEX) orders snapshots.
 * - `nodes` (/v1/catalog/nodes): array of {ID, Node, Address, Datacenter,
 *   TaggedAddresses, Meta, CreateIndex, ModifyIndex}; maps may be null.
 * The first snapshot of a scope is the baseline: recorded, not announced.
 */
import { CHECK_LIMITS } from './checks';
import { InputError, type Normalized, type Rejection } from '../input-errors';
import { safeText } from '../input-limits';
import { asObject, formatMap, normalizeArray, optIndex, optString, reqString, sameJson, stringArray, stringMap, tagSet } from './fields';
import { buildAlert, GONE_RETENTION_SECONDS, ignore, tagDiff, type Verdict } from './decision';
import { alertVocabulary } from '../alert-vocabulary';
import type { CATALOG_NODE_FIELDS, EntryOf } from './wire-form';

/**
 * What `services` and `nodes` alerts say (rules/vocabulary.ts): a service registered,
 * deregistered or with other tags; a node added to, updated in or removed from the catalog.
 */
export const CATALOG_ALERTS = alertVocabulary({
  source: 'consul',
  kind: 'catalog',
  severity: ['info'],
  to: ['registered', 'tags-changed', 'deregistered', 'added', 'updated', 'removed'],
  from: ['registered', 'deregistered', 'removed'],
  fromMayBeAbsent: true,
});

export interface CatalogContext {
  cluster: string;
  at: string;
  baseline: boolean;
  /** Watch index of the snapshot, when known. */
  snapshotIndex?: number;
}

// ---------------------------------------------------------------- services

export interface CatalogServiceObservation {
  name: string;
  /** Union of the instances' tags, sorted, without duplicates. */
  tags: string[];
}

export interface CatalogServiceState {
  name: string;
  tags: string[];
  registered: boolean;
  /** Watch index of the snapshot that last changed this record (0: unknown). */
  index: number;
  since: string;
}

export function normalizeCatalogServices(parsed: unknown): Normalized<CatalogServiceObservation> {
  if (parsed === null) return { observations: [], rejected: [] };
  const body = asObject(parsed, 'a services watch body');
  const observations: CatalogServiceObservation[] = [];
  const rejected: Rejection[] = [];
  Object.keys(body).forEach((name, index) => {
    try {
      if (name === '') throw new InputError('service name is empty');
      if (name.length > CHECK_LIMITS.idChars) throw new InputError(`service name is longer than ${CHECK_LIMITS.idChars} characters`);
      // A nil slice of tags arrives as null.
      observations.push({ name: safeText(name), tags: tagSet(stringArray(body, name)) });
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      rejected.push({ index, reason: err.message });
    }
  });
  return { observations, rejected };
}

export const catalogServiceSubject = (name: string): string => `service/${name}`;

export function decideCatalogService(previous: CatalogServiceState | undefined, o: CatalogServiceObservation, ctx: CatalogContext): Verdict<CatalogServiceState> {
  const index = ctx.snapshotIndex ?? 0;
  const state: CatalogServiceState = { name: o.name, tags: o.tags, registered: true, index, since: ctx.at };
  if (previous && ctx.snapshotIndex !== undefined && ctx.snapshotIndex <= previous.index) return ignore('stale', previous.registered);
  if (previous?.registered) {
    if (sameJson(previous.tags, o.tags)) return ignore('unchanged', true);
    return {
      decision: {
        kind: 'write',
        state: { ...state, since: previous.since },
        ...(ctx.baseline
          ? {}
          : {
              alert: buildAlert(CATALOG_ALERTS, {
                cluster: ctx.cluster,
                severity: 'info',
                node: '',
                service: o.name,
                what: `service ${o.name} tags changed (${tagDiff(previous.tags, o.tags)})`,
                from: 'registered',
                to: 'tags-changed',
                at: ctx.at,
                details: [
                  ['Service', o.name],
                  ['Tags', o.tags.join(', ') || '(none)'],
                  ['Previous tags', previous.tags.join(', ') || '(none)'],
                  ['Change', tagDiff(previous.tags, o.tags)],
                  ['Watch index', index ? String(index) : 'unknown'],
                ],
                idParts: [catalogServiceSubject(o.name), 'tags', o.tags.join(','), index],
              }),
            }),
      },
      member: true,
    };
  }
  if (ctx.baseline) return { decision: { kind: 'write', state }, member: true };
  return {
    decision: {
      kind: 'write',
      state,
      alert: buildAlert(CATALOG_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: '',
        service: o.name,
        what: `service ${o.name} registered`,
        ...(previous ? { from: 'deregistered' } : {}),
        to: 'registered',
        at: ctx.at,
        details: [
          ['Service', o.name],
          ['Tags', o.tags.join(', ') || '(none)'],
          ['Watch index', index ? String(index) : 'unknown'],
        ],
        idParts: [catalogServiceSubject(o.name), 'registered', index],
      }),
    },
    member: true,
  };
}

export function decideCatalogServiceGone(previous: CatalogServiceState | undefined, subject: string, ctx: CatalogContext): Verdict<CatalogServiceState> {
  if (!previous || !previous.registered) return ignore('unchanged', false);
  if (ctx.snapshotIndex !== undefined && ctx.snapshotIndex <= previous.index) return ignore('stale');
  const index = ctx.snapshotIndex ?? previous.index;
  return {
    decision: {
      kind: 'write',
      state: { ...previous, registered: false, index, since: ctx.at },
      ttlSeconds: GONE_RETENTION_SECONDS,
      alert: buildAlert(CATALOG_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: '',
        service: previous.name,
        what: `service ${previous.name} deregistered`,
        from: 'registered',
        to: 'deregistered',
        at: ctx.at,
        since: previous.since,
        details: [
          ['Service', previous.name],
          ['Last tags', previous.tags.join(', ') || '(none)'],
          ['Watch index', index ? String(index) : 'unknown'],
        ],
        idParts: [subject, 'deregistered', index],
      }),
    },
    member: false,
  };
}

// ---------------------------------------------------------------- nodes

export interface CatalogNodeObservation {
  node: string;
  id: string;
  address: string;
  datacenter: string;
  /** lan, wan, lan_ipv4, wan_ipv6 ... (IPv6 literals kept as given). */
  taggedAddresses: Record<string, string>;
  meta: Record<string, string>;
  createIndex: number;
  modifyIndex: number;
}

export interface CatalogNodeState extends Omit<CatalogNodeObservation, 'createIndex'> {
  present: boolean;
  since: string;
}

export function normalizeCatalogNode(entry: unknown): CatalogNodeObservation {
  // Only the fields wire-form.ts lists (the compact form sends no others).
  const e: EntryOf<typeof CATALOG_NODE_FIELDS> = asObject(entry, 'a catalog Node');
  const modifyIndex = optIndex(e, 'ModifyIndex');
  if (modifyIndex === 0) throw new InputError('ModifyIndex is missing');
  return {
    node: reqString(e, 'Node'),
    id: optString(e, 'ID'),
    address: optString(e, 'Address'),
    datacenter: optString(e, 'Datacenter'),
    taggedAddresses: stringMap(e, 'TaggedAddresses'),
    meta: stringMap(e, 'Meta'),
    createIndex: optIndex(e, 'CreateIndex'),
    modifyIndex,
  };
}

export function normalizeCatalogNodes(parsed: unknown): Normalized<CatalogNodeObservation> {
  return normalizeArray(parsed, 'a nodes watch body', normalizeCatalogNode);
}

export const catalogNodeSubject = (node: string): string => `node/${node}`;

function nodeChanges(before: CatalogNodeState, after: CatalogNodeObservation): Array<[string, string]> {
  const changes: Array<[string, string]> = [];
  if (before.address !== after.address) changes.push(['Address', `${before.address} -> ${after.address}`]);
  if (before.id !== after.id) changes.push(['Node ID', `${before.id || '(none)'} -> ${after.id || '(none)'}`]);
  if (before.datacenter !== after.datacenter) changes.push(['Datacenter', `${before.datacenter} -> ${after.datacenter}`]);
  if (!sameJson(before.taggedAddresses, after.taggedAddresses)) {
    changes.push(['TaggedAddresses', `${formatMap(before.taggedAddresses) || '(none)'} -> ${formatMap(after.taggedAddresses) || '(none)'}`]);
  }
  if (!sameJson(before.meta, after.meta)) changes.push(['Meta', `${formatMap(before.meta) || '(none)'} -> ${formatMap(after.meta) || '(none)'}`]);
  return changes;
}

function nodeFacts(o: Pick<CatalogNodeObservation, 'node' | 'id' | 'address' | 'datacenter' | 'taggedAddresses' | 'meta'>): Array<[string, string]> {
  return [
    ['Node', o.node],
    ['Node ID', o.id],
    ['Address', o.address],
    ['Datacenter', o.datacenter],
    ['TaggedAddresses', formatMap(o.taggedAddresses)],
    ['Meta', formatMap(o.meta)],
  ];
}

export function decideCatalogNode(previous: CatalogNodeState | undefined, o: CatalogNodeObservation, ctx: CatalogContext): Verdict<CatalogNodeState> {
  const { createIndex: _c, ...facts } = o;
  const state: CatalogNodeState = { ...facts, present: true, since: ctx.at };
  if (previous && o.modifyIndex <= previous.modifyIndex) return ignore('stale', previous.present);
  if (previous?.present) {
    const changes = nodeChanges(previous, o);
    const next = { ...state, since: previous.since };
    if (changes.length === 0 || ctx.baseline) return { decision: { kind: 'write', state: next }, member: true };
    return {
      decision: {
        kind: 'write',
        state: next,
        alert: buildAlert(CATALOG_ALERTS, {
          cluster: ctx.cluster,
          severity: 'info',
          node: o.node,
          what: `node ${o.node} updated (${changes.map(([k]) => k).join(', ')})`,
          from: 'registered',
          to: 'updated',
          at: ctx.at,
          details: [...changes.map(([k, v]): [string, string] => [`${k} changed`, v]), ...nodeFacts(o), ['ModifyIndex', String(o.modifyIndex)]],
          idParts: [catalogNodeSubject(o.node), 'updated', o.modifyIndex],
        }),
      },
      member: true,
    };
  }
  if (ctx.baseline) return { decision: { kind: 'write', state }, member: true };
  return {
    decision: {
      kind: 'write',
      state,
      alert: buildAlert(CATALOG_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: o.node,
        what: `node ${o.node} joined the catalog`,
        ...(previous ? { from: 'removed' } : {}),
        to: 'added',
        at: ctx.at,
        details: [...nodeFacts(o), ['ModifyIndex', String(o.modifyIndex)]],
        idParts: [catalogNodeSubject(o.node), 'added', o.modifyIndex],
      }),
    },
    member: true,
  };
}

export function decideCatalogNodeGone(previous: CatalogNodeState | undefined, subject: string, ctx: CatalogContext): Verdict<CatalogNodeState> {
  if (!previous || !previous.present) return ignore('unchanged', false);
  if (ctx.snapshotIndex !== undefined && ctx.snapshotIndex <= previous.modifyIndex) return ignore('stale');
  const index = Math.max(ctx.snapshotIndex ?? 0, previous.modifyIndex);
  return {
    decision: {
      kind: 'write',
      state: { ...previous, present: false, modifyIndex: index, since: ctx.at },
      ttlSeconds: GONE_RETENTION_SECONDS,
      alert: buildAlert(CATALOG_ALERTS, {
        cluster: ctx.cluster,
        severity: 'info',
        node: previous.node,
        what: `node ${previous.node} left the catalog`,
        from: 'registered',
        to: 'removed',
        at: ctx.at,
        since: previous.since,
        details: [...nodeFacts(previous), ['Watch index', ctx.snapshotIndex !== undefined ? String(ctx.snapshotIndex) : 'unknown']],
        idParts: [subject, 'removed', index],
      }),
    },
    member: false,
  };
}
