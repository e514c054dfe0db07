/**
 * Storm grouping's DynamoDB items, in the state table under the cluster's partition
 * (`pk = cluster#<c>`):
 *   storm#<channel>#<window>           notifications counted in a grouping window
 *   fold#<channel>#<window>#<alertId>  one notification folded into the window's digest
 *   digest#<channel>#<window>          the digest's "scheduled" / "sent" marks and its sender's claim
 * They live for a day (TTL).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DigestStore, StormGate } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { DigestTimer } from '../domain/rules/outbox';
import { digestTimer, foldedOf, stormVerdict, windowStart, type FoldedAlert } from '../domain/rules/storm';
import type { GroupingSpec } from '../domain/rules/types';
import type { Alert } from '../domain/types';
import { isConditionFailure, keys } from './dynamo-state-store';
import { awsCall } from './aws-errors';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const GROUPING_RETENTION_SECONDS = 24 * 3600;

const stormKeys = {
  count: (channel: string, window: number) => `storm#${channel}#${window}`,
  foldPrefix: (channel: string, window: number) => `fold#${channel}#${window}#`,
  digest: (channel: string, window: number) => `digest#${channel}#${window}`,
};

export class DynamoStormGate implements StormGate {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly grouping: GroupingSpec,
  ) {}

  async admit(cluster: string, channel: string, alert: Alert, nowMs: number): Promise<{ verdict: 'deliver' } | { verdict: 'fold'; digest?: DigestTimer }> {
    const window = windowStart(nowMs, this.grouping);
    const pk = keys.cluster(cluster);
    const expires = Math.floor(nowMs / 1000) + GROUPING_RETENTION_SECONDS;
    const counted = await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: pk, [SK]: stormKeys.count(channel, window) },
        UpdateExpression: 'ADD n :one SET #ttl = if_not_exists(#ttl, :ttl)',
        ExpressionAttributeNames: { '#ttl': TTL },
        ExpressionAttributeValues: { ':one': 1, ':ttl': expires },
        ReturnValues: 'UPDATED_NEW',
      }),
    ));
    const count = Number(counted.Attributes?.n ?? 1);
    if (stormVerdict(count, this.grouping) === 'deliver') return { verdict: 'deliver' };
    try {
      await awsCall(this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { [PK]: pk, [SK]: `${stormKeys.foldPrefix(channel, window)}${alert.id}`, folded: foldedOf(alert), [TTL]: expires },
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
      ));
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // folded already (a retry)
    }
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: pk, [SK]: stormKeys.digest(channel, window) },
          UpdateExpression: 'SET scheduled = :t, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(scheduled)',
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: { ':t': true, ':ttl': expires },
        }),
      ));
      return { verdict: 'fold', digest: digestTimer(cluster, channel, window, this.grouping) };
    } catch (err) {
      if (isConditionFailure(err)) return { verdict: 'fold' };
      throw err;
    }
  }

  async digestNotScheduled(timer: DigestTimer): Promise<void> {
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) },
        UpdateExpression: 'REMOVE scheduled',
      }),
    ));
  }
}

/** What the digest worker reads and marks. */
export class DynamoDigestStore implements DigestStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Up to `limit` folded notifications, and how many there are in all. */
  async folded(timer: DigestTimer, limit: number): Promise<{ items: FoldedAlert[]; total: number }> {
    const base = {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(timer.cluster), ':prefix': stormKeys.foldPrefix(timer.channel, timer.window) },
      ConsistentRead: true,
    };
    const items: FoldedAlert[] = [];
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await awsCall(this.doc.send(new QueryCommand({ ...base, ...(start ? { ExclusiveStartKey: start } : {}) })));
      for (const item of out.Items ?? []) {
        total++;
        if (items.length < limit) items.push(item.folded as FoldedAlert);
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return { items, total };
  }

  async wasSent(timer: DigestTimer): Promise<boolean> {
    const out = await awsCall(this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) }, ConsistentRead: true }),
    ));
    return out.Item?.sent === true;
  }

  async claim(timer: DigestTimer, nowMs: number, leaseMs: number): Promise<boolean> {
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) },
          UpdateExpression: 'SET claimedUntil = :until',
          ConditionExpression: 'attribute_not_exists(sent) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now)',
          ExpressionAttributeValues: { ':until': nowMs + leaseMs, ':now': nowMs },
        }),
      ));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async markSent(timer: DigestTimer): Promise<void> {
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) },
        UpdateExpression: 'SET sent = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    ));
  }
}
