/**
 * Silences in DynamoDB, in the state table under the cluster's partition
 * (`pk = cluster#<c>`, `sk = silence#<id>`); TTL 30 days after a silence's end.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { MuteLedger, SilenceReader } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { Silence } from '../domain/rules/silences';
import { isConditionFailure, keys } from './dynamo-state-store';
import { awsCall } from './aws-errors';
import { queryAll } from './dynamo-query';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const SILENCE_RETENTION_SECONDS = 30 * 24 * 3600;

const silenceKey = (id: string) => `silence#${id}`;
/** One item per (silence, subject) it muted; and one per-cluster index of the silences that muted. */
const muteKey = (id: string, subject: string) => `muted#${id}#${subject}`;
const MUTE_INDEX = 'muted-index';
/** A mute left behind (its silence long gone) is cleaned up by TTL after this. */
const MUTE_RETENTION_SECONDS = 120 * 24 * 3600;

export type ExpireResult = { kind: 'expired'; silence: Silence } | { kind: 'not_found' } | { kind: 'already_expired'; silence: Silence };

/**
 * Silences; reads check the end time themselves (TTL is housekeeping only). Also the mute
 * ledger: `muted#<silence>#<subject>` items, and `muted-index` (a string set of silence ids)
 * per cluster, so the sweeper reads one item per cluster and one query per ended silence.
 */
export class DynamoSilenceStore implements SilenceReader, MuteLedger {
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
        Item: { [PK]: keys.cluster(s.cluster), [SK]: silenceKey(s.id), silence: s, [TTL]: Math.floor(Date.parse(s.endsAt) / 1000) + SILENCE_RETENTION_SECONDS },
        ConditionExpression: `attribute_not_exists(${PK})`,
      }),
    ));
    this.cache.delete(s.cluster);
  }

  async list(cluster: string): Promise<Silence[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': silenceKey('') },
      ConsistentRead: true,
    });
    return items.map((item) => item.silence as Silence);
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
    const key = { [PK]: keys.cluster(cluster), [SK]: silenceKey(id) };
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

  async recordMute(cluster: string, silenceId: string, subject: string): Promise<void> {
    const ttl = Math.floor(Date.now() / 1000) + MUTE_RETENTION_SECONDS;
    await awsCall(this.doc.send(
      new PutCommand({ TableName: this.tableName, Item: { [PK]: keys.cluster(cluster), [SK]: muteKey(silenceId, subject), silence: silenceId, subject, [TTL]: ttl } }),
    ));
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(cluster), [SK]: MUTE_INDEX },
        UpdateExpression: 'ADD silences :id',
        ExpressionAttributeValues: { ':id': new Set([silenceId]) },
      }),
    ));
  }

  async mutingSilences(cluster: string): Promise<string[]> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(cluster), [SK]: MUTE_INDEX }, ConsistentRead: true })));
    const set = out.Item?.silences as Set<string> | undefined;
    return set ? [...set] : [];
  }

  async mutedSubjects(cluster: string, silenceId: string): Promise<string[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': muteKey(silenceId, '') },
      ConsistentRead: true,
    });
    return items.map((item) => item.subject as string);
  }

  async forgetMutes(cluster: string, silenceId: string, subjects: string[]): Promise<void> {
    for (const subject of subjects) {
      await awsCall(this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(cluster), [SK]: muteKey(silenceId, subject) } })));
    }
    if ((await this.mutedSubjects(cluster, silenceId)).length > 0) return;
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(cluster), [SK]: MUTE_INDEX },
        UpdateExpression: 'DELETE silences :id',
        ExpressionAttributeValues: { ':id': new Set([silenceId]) },
      }),
    ));
  }
}
