/**
 * Heartbeat watchers in the state table, in their cluster's partition: one plain item per
 * watcher, `sk = watcher#<node>` (`seenAt`, `firstSeenAt`, `reportAt`, `via`,
 * `missingSince`; epoch ms), written with UpdateItem (no read first). A cluster's watchers
 * and its heartbeat subjects (`s#watcher/<node>`, `s#watchers`) are each one query: no scan.
 */
import { DeleteCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { WatcherStore } from '../app/heartbeat-ports';
import type { SubjectRecord } from '../app/ports';
import { STATE_TABLE } from '../commons/deployment';
import { HEARTBEAT_SUBJECTS_PREFIX, type WatcherSigns } from '../domain/heartbeats';
import { awsCall } from './aws-errors';
import { isConditionFailure, keys, toRecord } from './dynamo-state-store';
import { queryAll } from './dynamo-query';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;

export const watcherKey = (node: string) => `watcher#${node}`;

function toSigns(item: Record<string, unknown> | undefined): WatcherSigns | undefined {
  if (!item || typeof item.seenAt !== 'number') return undefined;
  const signs: WatcherSigns = {
    node: typeof item.node === 'string' ? item.node : String(item[SK]).slice(watcherKey('').length),
    firstSeenAt: typeof item.firstSeenAt === 'number' ? item.firstSeenAt : item.seenAt,
    seenAt: item.seenAt,
  };
  if (typeof item.reportAt === 'number') signs.reportAt = item.reportAt;
  if (typeof item.via === 'string') signs.via = item.via;
  if (typeof item.missingSince === 'number') signs.missingSince = item.missingSince;
  return signs;
}

export class DynamoWatcherStore implements WatcherStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(cluster: string, node: string) {
    return { [PK]: keys.cluster(cluster), [SK]: watcherKey(node) };
  }

  async touch(cluster: string, node: string, atMs: number, report?: { via: string }): Promise<WatcherSigns | undefined> {
    const out = await awsCall(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(cluster, node),
          UpdateExpression: `SET #node = :node, seenAt = :at, firstSeenAt = if_not_exists(firstSeenAt, :at)${report ? ', reportAt = :at, via = :via' : ''}`,
          ExpressionAttributeNames: { '#node': 'node' },
          ExpressionAttributeValues: { ':node': node, ':at': atMs, ...(report ? { ':via': report.via } : {}) },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    return toSigns(out.Attributes);
  }

  private query(cluster: string, prefix: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': prefix },
      ConsistentRead: true,
    });
  }

  async list(cluster: string): Promise<WatcherSigns[]> {
    return (await this.query(cluster, watcherKey(''))).map(toSigns).filter((w): w is WatcherSigns => w !== undefined);
  }

  async markMissing(cluster: string, node: string, sinceMs: number): Promise<WatcherSigns | undefined> {
    try {
      const out = await awsCall(
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.key(cluster, node),
            UpdateExpression: 'SET missingSince = if_not_exists(missingSince, :since)',
            // A watcher forgotten meanwhile is not brought back.
            ConditionExpression: `attribute_exists(${PK})`,
            ExpressionAttributeValues: { ':since': sinceMs },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return toSigns(out.Attributes);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  async clearMissing(cluster: string, node: string, sinceMs: number): Promise<void> {
    try {
      await awsCall(
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.key(cluster, node),
            UpdateExpression: 'REMOVE missingSince',
            ConditionExpression: 'missingSince = :since',
            ExpressionAttributeValues: { ':since': sinceMs },
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // cleared already, or flagged again since
    }
  }

  async forget(cluster: string, node: string): Promise<WatcherSigns | undefined> {
    const out = await awsCall(this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(cluster, node), ReturnValues: 'ALL_OLD' })));
    return toSigns(out.Attributes);
  }

  async alertRecords<S>(cluster: string): Promise<Map<string, SubjectRecord<S>>> {
    const prefix = keys.subject('');
    const items = await this.query(cluster, keys.subject(HEARTBEAT_SUBJECTS_PREFIX));
    const out = new Map<string, SubjectRecord<S>>();
    for (const item of items) out.set(String(item[SK]).slice(prefix.length), toRecord<S>(item));
    return out;
  }
}
