/**
 * DynamoDB items of the notification layer, in the state table under the cluster's
 * partition (`pk = cluster#<c>`):
 *   silence#<id>                       a silence (TTL: 30 days after its end)
 *   storm#<channel>#<window>           notifications counted in a grouping window
 *   fold#<channel>#<window>#<alertId>  one notification folded into the window's digest
 *   digest#<channel>#<window>          the digest's "scheduled" / "sent" marks
 * Grouping items live for a day (TTL).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsCall } from './aws-errors';
import type { DigestStore, SilenceReader, SilenceStore, StormGate } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { DigestTimer } from '../domain/rules/notify';
import type { Silence } from '../domain/rules/silences';
import { digestTimer, foldedOf, stormVerdict, windowStart, type FoldedAlert } from '../domain/rules/storm';
import type { GroupingSpec } from '../domain/rules/types';
import type { Alert } from '../domain/types';
import { isConditionFailure, keys } from './dynamo-state-store';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const GROUPING_RETENTION_SECONDS = 24 * 3600;
const SILENCE_RETENTION_SECONDS = 30 * 24 * 3600;

export const notifyKeys = {
  silence: (id: string) => `silence#${id}`,
  storm: (channel: string, window: number) => `storm#${channel}#${window}`,
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
        Key: { [PK]: pk, [SK]: notifyKeys.storm(channel, window) },
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
          Item: { [PK]: pk, [SK]: `${notifyKeys.foldPrefix(channel, window)}${alert.id}`, folded: foldedOf(alert), [TTL]: expires },
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
          Key: { [PK]: pk, [SK]: notifyKeys.digest(channel, window) },
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
        Key: { [PK]: keys.cluster(timer.cluster), [SK]: notifyKeys.digest(timer.channel, timer.window) },
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
      ExpressionAttributeValues: { ':pk': keys.cluster(timer.cluster), ':prefix': notifyKeys.foldPrefix(timer.channel, timer.window) },
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
      new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(timer.cluster), [SK]: notifyKeys.digest(timer.channel, timer.window) }, ConsistentRead: true }),
    ));
    return out.Item?.sent === true;
  }

  async markSent(timer: DigestTimer): Promise<void> {
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(timer.cluster), [SK]: notifyKeys.digest(timer.channel, timer.window) },
        UpdateExpression: 'SET sent = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    ));
  }
}

export type ExpireResult = { kind: 'expired'; silence: Silence } | { kind: 'not_found' } | { kind: 'already_expired'; silence: Silence };

/** Silences; reads check the end time themselves (TTL is housekeeping only). */
export class DynamoSilenceStore implements SilenceReader, SilenceStore {
  private readonly cache = new Map<string, { until: number; silences: Silence[] }>();

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** How long the dispatcher may reuse a cluster's list (a new silence applies after at most this). */
    private readonly cacheMs = 5000,
  ) {}

  async create(s: Silence): Promise<void> {
    await awsCall(this.doc.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { [PK]: keys.cluster(s.cluster), [SK]: notifyKeys.silence(s.id), silence: s, [TTL]: Math.floor(Date.parse(s.endsAt) / 1000) + SILENCE_RETENTION_SECONDS },
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
    ));
    this.cache.delete(s.cluster);
  }

  async list(cluster: string): Promise<Silence[]> {
    const out: Silence[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await awsCall(this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
          ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': notifyKeys.silence('') },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ));
      for (const item of page.Items ?? []) out.push(item.silence as Silence);
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async forCluster(cluster: string): Promise<Silence[]> {
    const now = Date.now();
    const hit = this.cache.get(cluster);
    if (hit && hit.until > now) return hit.silences;
    const silences = await this.list(cluster);
    this.cache.set(cluster, { until: now + this.cacheMs, silences });
    return silences;
  }

  /** Ends a silence now; an expired silence stays listed (history) until TTL removes it. */
  async expire(cluster: string, id: string, nowMs: number): Promise<ExpireResult> {
    const key = { [PK]: keys.cluster(cluster), [SK]: notifyKeys.silence(id) };
    const now = new Date(nowMs).toISOString();
    try {
      const out = await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET silence.endsAt = :now, #ttl = :ttl',
          ConditionExpression: `attribute_exists(${PK}) AND silence.endsAt > :now`,
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: { ':now': now, ':ttl': Math.floor(nowMs / 1000) + SILENCE_RETENTION_SECONDS },
          ReturnValues: 'ALL_NEW',
        }),
      ));
      this.cache.delete(cluster);
      return { kind: 'expired', silence: out.Attributes?.silence as Silence };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const existing = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })));
      return existing.Item ? { kind: 'already_expired', silence: existing.Item.silence as Silence } : { kind: 'not_found' };
    }
  }
}
