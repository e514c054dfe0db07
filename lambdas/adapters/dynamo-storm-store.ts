/**
 * Storm grouping's DynamoDB items, in the state table under the cluster's partition
 * (`pk = cluster#<c>`):
 *   storm#<channel>#<window>           per severity level, notifications at least that severe
 *                                      sent one by one in the window (sent_info, sent_warning,
 *                                      sent_critical); the admit rule is its update's condition
 *   fold#<channel>#<window>#<alertId>  one notification folded into the window's digest
 *   digest#<channel>#<window>          the digest's "scheduled" / "sent" marks and its sender's claim
 * They live for a day (TTL).
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DigestStore, StormGate } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { DigestTimer } from '../domain/rules/outbox';
import { chargedLevels, digestTimer, foldedOf, stormLevel, windowStart, worstFirst, type FoldedAlert } from '../domain/rules/storm';
import type { GroupingSpec } from '../domain/rules/types';
import type { Alert } from '../domain/types';
import { isConditionFailure, keys } from './dynamo-state-store';
import { awsCall } from './aws-errors';
import { queryPages } from './dynamo-query';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const GROUPING_RETENTION_SECONDS = 24 * 3600;

const stormKeys = {
  count: (channel: string, window: number) => `storm#${channel}#${window}`,
  foldPrefix: (channel: string, window: number) => `fold#${channel}#${window}#`,
  digest: (channel: string, window: number) => `digest#${channel}#${window}`,
};

/** The counter item's attribute for a level's budget. */
const sentAttribute = (level: string) => `sent_${level}`;

/** Folded notifications kept in memory while reading a window, before cutting to the worst. */
const FOLD_READ_SLACK = 4;

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
    // domain/rules/storm.ts stormVerdict, atomically: deliver while fewer than `threshold`
    // notifications at least as severe went out one by one, and charge every level up to it.
    const level = stormLevel(alert);
    const charged = chargedLevels(level);
    const names: Record<string, string> = { '#ttl': TTL, '#level': sentAttribute(level) };
    charged.forEach((l, i) => (names[`#c${i}`] = sentAttribute(l)));
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: pk, [SK]: stormKeys.count(channel, window) },
          UpdateExpression: `ADD ${charged.map((_, i) => `#c${i} :one`).join(', ')} SET #ttl = if_not_exists(#ttl, :ttl)`,
          ConditionExpression: 'attribute_not_exists(#level) OR #level < :threshold',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1, ':ttl': expires, ':threshold': this.grouping.threshold },
        }),
      ));
      return { verdict: 'deliver' };
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // the level's budget is spent: fold
    }
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

  /** The `limit` worst folded notifications (domain worstFirst), and how many there are in all. */
  async folded(timer: DigestTimer, limit: number): Promise<{ items: FoldedAlert[]; total: number }> {
    const base = {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(timer.cluster), ':prefix': stormKeys.foldPrefix(timer.channel, timer.window) },
      ConsistentRead: true,
    };
    let items: FoldedAlert[] = [];
    let total = 0;
    for await (const page of queryPages(this.doc, base)) {
      for (const item of page) {
        total++;
        items.push(item.folded as FoldedAlert);
        if (items.length >= limit * FOLD_READ_SLACK) items = items.sort(worstFirst).slice(0, limit);
      }
    }
    return { items: items.sort(worstFirst).slice(0, limit), total };
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
