/** CheckStateStore on DynamoDB: one item per check and per watch scope. */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CheckRecord, CheckStateStore, ScopeRecord, ScopeUpdate } from '../app/ports';
import type { StoredCheck } from '../domain/check-transitions';
import { STATE_TABLE } from '../commons/topology';
import { sleep } from '../app/concurrency';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;

/** Items of checks that went away are kept this long, then DynamoDB's TTL removes them. */
const REMOVED_RETENTION_SECONDS = 30 * 24 * 3600;

export const keys = {
  cluster: (cluster: string) => `cluster#${cluster}`,
  check: (subject: string) => `check#${subject}`,
  checkScope: (scope: string) => `scope#checks#${scope}`,
};

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

function toRecord(item: Record<string, unknown>): CheckRecord {
  const state: StoredCheck = {
    status: item.status as StoredCheck['status'],
    modifyIndex: item.modifyIndex as number,
    since: item.since as string,
  };
  if (item.alerting) state.alerting = item.alerting as StoredCheck['alerting'];
  const record: CheckRecord = { state, facts: item.facts as CheckRecord['facts'] };
  if (item.pending) record.pending = item.pending as CheckRecord['pending'];
  return record;
}

export class DynamoCheckStateStore implements CheckStateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getScope(cluster: string, scope: string): Promise<ScopeRecord> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(cluster), [SK]: keys.checkScope(scope) } }),
    );
    const item = out.Item;
    return {
      watermark: typeof item?.watermark === 'number' ? item.watermark : 0,
      active: item?.active instanceof Set ? new Set(item.active as Set<string>) : new Set(),
    };
  }

  async updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void> {
    const Key = { [PK]: keys.cluster(cluster), [SK]: keys.checkScope(scope) };
    // ADD and DELETE on one attribute cannot share an update expression.
    const common = {
      TableName: this.tableName,
      Key,
      ConditionExpression: 'attribute_not_exists(watermark) OR watermark <= :w',
    };
    try {
      await this.doc.send(
        new UpdateCommand({
          ...common,
          UpdateExpression: `SET watermark = :w, updatedAt = :now${update.addActive.length ? ' ADD active :add' : ''}`,
          ExpressionAttributeValues: {
            ':w': update.watermark,
            ':now': new Date().toISOString(),
            ...(update.addActive.length ? { ':add': new Set(update.addActive) } : {}),
          },
        }),
      );
      if (update.removeActive.length) {
        await this.doc.send(
          new UpdateCommand({
            ...common,
            UpdateExpression: 'DELETE active :del',
            ExpressionAttributeValues: { ':w': update.watermark, ':del': new Set(update.removeActive) },
          }),
        );
      }
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // a newer snapshot got there first
    }
  }

  async getCheck(cluster: string, subject: string): Promise<CheckRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(cluster), [SK]: keys.check(subject) },
        ConsistentRead: true,
      }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async getChecks(cluster: string, subjects: string[]): Promise<Map<string, CheckRecord>> {
    const found = new Map<string, CheckRecord>();
    const pk = keys.cluster(cluster);
    const prefix = keys.check('');
    for (let i = 0; i < subjects.length; i += 100) {
      let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
        [this.tableName]: { Keys: subjects.slice(i, i + 100).map((s) => ({ [PK]: pk, [SK]: keys.check(s) })) },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        if (attempt > 8) throw new Error('DynamoDB left keys unprocessed after repeated retries');
        const out = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          found.set((item[SK] as string).slice(prefix.length), toRecord(item));
        }
        request = out.UnprocessedKeys as typeof request;
      }
    }
    return found;
  }

  async writeTransition(cluster: string, subject: string, expected: StoredCheck | undefined, next: CheckRecord): Promise<boolean> {
    const { output: _output, ...facts } = next.facts; // output lives in the alert; keep items small
    const item: Record<string, unknown> = {
      [PK]: keys.cluster(cluster),
      [SK]: keys.check(subject),
      ...next.state,
      facts,
      updatedAt: new Date().toISOString(),
    };
    if (next.pending) {
      item.pending = next.pending;
      item.pendingId = next.pending.alert.id;
    }
    if (next.state.status === 'removed') item[TTL] = Math.floor(Date.now() / 1000) + REMOVED_RETENTION_SECONDS;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expected
            ? {
                ConditionExpression: '#status = :status AND modifyIndex = :mi AND attribute_not_exists(pendingId)',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':status': expected.status, ':mi': expected.modifyIndex },
              }
            : { ConditionExpression: `attribute_not_exists(${PK})` }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async claimPending(cluster: string, subject: string, alertId: string, nowMs: number, leaseUntil: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: keys.cluster(cluster), [SK]: keys.check(subject) },
          UpdateExpression: 'SET pending.leaseUntil = :lease',
          ConditionExpression: 'pendingId = :id AND pending.leaseUntil < :now',
          ExpressionAttributeValues: { ':lease': leaseUntil, ':id': alertId, ':now': nowMs },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async clearPending(cluster: string, subject: string, alertId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: keys.cluster(cluster), [SK]: keys.check(subject) },
          UpdateExpression: 'REMOVE pending, pendingId',
          ConditionExpression: 'pendingId = :id',
          ExpressionAttributeValues: { ':id': alertId },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // already cleared by another publisher
    }
  }
}
