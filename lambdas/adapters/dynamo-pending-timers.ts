/**
 * The index of pending timer steps (domain/rules/pending.ts) in the state table, under the
 * cluster's partition: `pk = cluster#<c>, sk = due#<dueAt>#<step>`, the timer as queued in
 * `timer`. No TTL: an item goes when its step is handled (a long `repeat` may wait days).
 * The sweeper queries one cluster's overdue range; nothing scans subjects.
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PendingTimers } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { Timer } from '../domain/rules/outbox';
import { overdueUpToKey, pendingSortKey, PENDING_PREFIX } from '../domain/rules/pending';
import { keys } from './dynamo-state-store';
import { awsCall } from './aws-errors';
import { queryPages } from './dynamo-query';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;

export class DynamoPendingTimers implements PendingTimers {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(timer: Timer): Promise<void> {
    await awsCall(this.doc.send(new PutCommand({ TableName: this.tableName, Item: { [PK]: keys.cluster(timer.cluster), [SK]: pendingSortKey(timer), timer: JSON.stringify(timer) } })));
  }

  async remove(timer: Timer): Promise<void> {
    await awsCall(this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(timer.cluster), [SK]: pendingSortKey(timer) } })));
  }

  async due(cluster: string, upToMs: number, limit: number): Promise<Timer[]> {
    const found: Timer[] = [];
    const pages = queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND ${SK} BETWEEN :from AND :to`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':from': PENDING_PREFIX, ':to': overdueUpToKey(upToMs, 0) },
      Limit: limit,
    });
    for await (const page of pages) {
      for (const item of page) found.push(JSON.parse(String(item.timer)) as Timer);
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }
}
