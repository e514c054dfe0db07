/**
 * NodeCatalog (app/node-ports.ts) on the state table, under the cluster's partition:
 * - a node's instances: the subject items `s#instance/<node>/...` (the `service` watches'
 *   instance records) and `s#check/<node>/...` (stored checks: those that were not passing),
 *   each one Query on the key prefix, read only when a node goes down;
 * - `svc-health#<service>`: the service's healthy and total instances and the watch index
 *   that counted them (plain numbers, ~0.1 KB: one item per service, never growing), put by
 *   the `service` watch on condition that its index is newer.
 */
import { BatchGetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NodeCatalog, NodeInstance } from '../app/node-ports';
import { sleep } from '../app/concurrency';
import { STATE_TABLE } from '../commons/deployment';
import type { ServiceHealth } from '../domain/consul/service-impact';
import { isHealthyInstance } from '../domain/consul/service-impact';
import { awsCall } from './aws-errors';
import { queryAll } from './dynamo-query';
import { isConditionFailure, keys, toRecord } from './dynamo-state-store';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
export const SERVICE_HEALTH_PREFIX = 'svc-health#';
/** Up to this many nodes at once, their instances are read node by node; more: once for the cluster. */
const PER_NODE_QUERIES = 4;

interface InstanceFields {
  node?: string;
  serviceName?: string;
  serviceId?: string;
  health?: string;
  inMaintenance?: boolean;
  registered?: boolean;
}
interface CheckFields {
  facts?: { node?: string; serviceName?: string; serviceId?: string };
}

/**
 * How long a service's count read is reused. A check change of a service reads it with every
 * delta (bench figure 6: one BatchGetItem more per event without it); the count is the last
 * `service` watch's, which lags the checks watch anyway, so a moment more says nothing new.
 */
export const SERVICE_HEALTH_CACHE_MS = 2000;

export class DynamoNodeCatalog implements NodeCatalog {
  /** Counts read (or found absent: undefined) at `at`, by cluster and service. */
  private readonly healthRead = new Map<string, { at: number; health: ServiceHealth | undefined }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly cacheMs = SERVICE_HEALTH_CACHE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  private async subjects<S>(cluster: string, prefix: string): Promise<S[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': keys.subject(prefix) },
    });
    return items.map((item) => toRecord<S>(item).state);
  }

  async carried(cluster: string, nodes: readonly string[]): Promise<Map<string, NodeInstance[]>> {
    const wanted = new Set(nodes);
    const read = (prefix: (node: string) => string, all: string) =>
      wanted.size <= PER_NODE_QUERIES
        ? Promise.all([...wanted].map((n) => this.subjects<Record<string, unknown>>(cluster, prefix(n)))).then((r) => r.flat())
        : this.subjects<Record<string, unknown>>(cluster, all);
    const [instances, checks] = await Promise.all([read((n) => `instance/${n}/`, 'instance/'), read((n) => `check/${n}/`, 'check/')]);
    const found = new Map<string, Map<string, NodeInstance>>([...wanted].map((n) => [n, new Map()]));
    for (const i of instances as InstanceFields[]) {
      const onNode = i.node !== undefined ? found.get(i.node) : undefined;
      if (!onNode || !i.serviceId || i.registered === false) continue;
      onNode.set(i.serviceId, { serviceName: i.serviceName || i.serviceId, serviceId: i.serviceId, healthy: isHealthyInstance({ serviceName: i.serviceName ?? '', health: i.health ?? '', inMaintenance: i.inMaintenance === true }) });
    }
    for (const c of checks as CheckFields[]) {
      const f = c.facts;
      const onNode = f?.node !== undefined ? found.get(f.node) : undefined;
      if (!onNode || !f?.serviceId || onNode.has(f.serviceId)) continue;
      onNode.set(f.serviceId, { serviceName: f.serviceName || f.serviceId, serviceId: f.serviceId, healthy: false });
    }
    return new Map([...found].map(([n, m]) => [n, [...m.values()]]));
  }

  async serviceHealth(cluster: string, services: readonly string[]): Promise<Map<string, ServiceHealth>> {
    const out = new Map<string, ServiceHealth>();
    const nowMs = this.now();
    const unique: string[] = [];
    for (const s of new Set(services)) {
      const known = this.healthRead.get(`${cluster}\u0000${s}`);
      if (known && nowMs - known.at < this.cacheMs) {
        if (known.health) out.set(s, known.health);
      } else unique.push(s);
    }
    if (unique.length === 0) return out;
    if (this.healthRead.size > 10_000) this.healthRead.clear();
    for (let i = 0; i < unique.length; i += 100) {
      type Request = Record<string, { Keys: Record<string, unknown>[] }>;
      let request: Request | undefined = { [this.tableName]: { Keys: unique.slice(i, i + 100).map((s) => ({ [PK]: keys.cluster(cluster), [SK]: `${SERVICE_HEALTH_PREFIX}${s}` })) } };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 8) throw new Error('DynamoDB left keys unprocessed after repeated retries');
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        const answer = await awsCall(this.doc.send(new BatchGetCommand({ RequestItems: request })));
        for (const item of answer.Responses?.[this.tableName] ?? []) {
          const service = String(item[SK]).slice(SERVICE_HEALTH_PREFIX.length);
          out.set(service, { service, healthy: Number(item.healthy), total: Number(item.total) });
        }
        request = answer.UnprocessedKeys as Request | undefined;
      }
    }
    for (const s of unique) this.healthRead.set(`${cluster}\u0000${s}`, { at: nowMs, health: out.get(s) });
    return out;
  }

  async putServiceHealth(cluster: string, health: ServiceHealth, index: number | undefined): Promise<void> {
    const item = { [PK]: keys.cluster(cluster), [SK]: `${SERVICE_HEALTH_PREFIX}${health.service}`, healthy: health.healthy, total: health.total };
    try {
      // Without a watch index (no CONSUL_INDEX) the last writer wins.
      const ordered = index !== undefined ? { ConditionExpression: 'attribute_not_exists(ix) OR ix < :ix', ExpressionAttributeValues: { ':ix': index } } : {};
      await awsCall(this.doc.send(new PutCommand({ TableName: this.tableName, Item: index !== undefined ? { ...item, ix: index } : item, ...ordered })));
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // a newer snapshot counted it already
    } finally {
      this.healthRead.delete(`${cluster}\u0000${health.service}`); // this process reads the new count next
    }
  }
}
