/** SubjectStore and ScopeStore on DynamoDB (single table, see STATE_TABLE). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScopeRecord, ScopeReset, ScopeStore, ScopeUpdate, SubjectRecord, SubjectStore, SubjectWrite } from '../app/ports';
import type { LastDelivery } from '../domain/consul/index-order';
import { decodeSubjectBody, encodeSubjectBody, outboxEntry, type StoredOutbox } from './subject-record-codec';
import { STATE_TABLE } from '../commons/deployment';
import { mapLimit, sleep } from '../app/concurrency';
import { queryAll } from './dynamo-query';
import { awsCall } from './aws-errors';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;

export const keys = {
  cluster: (cluster: string) => `cluster#${cluster}`,
  subject: (subject: string) => `s#${subject}`,
  scope: (scope: string) => `scope#${scope}`,
  /** A scope's members, one item each (scope names hold no `#`, so the prefix is the scope's alone). */
  scopeMembers: (scope: string) => `scope#${scope}#m#`,
  scopeMember: (scope: string, subject: string) => `scope#${scope}#m#${subject}`,
  /** Replay guard: accepted request signatures per cluster (dynamo-replay-guard.ts). */
  replay: (cluster: string) => `replay#${cluster}`,
  signature: (signature: string) => `sig#${signature}`,
};

export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

/**
 * A subject item: `body` (state and outbox entry, subject-record-codec.ts), `rev`, and
 * while an entry is pending `pendingId` (its alert's id) and `lease` (epoch ms). Items
 * written before the codec hold `state` and `pending` (the stored outbox entry as `alert`,
 * with `leaseUntil`) as maps; they are still read, and the next write replaces them.
 */
export function toRecord<S>(item: Record<string, unknown>): SubjectRecord<S> {
  const rev = item.rev as number;
  if (item.body instanceof Uint8Array) {
    const { state, outbox } = decodeSubjectBody(item.body);
    const record: SubjectRecord<S> = { state: state as S, rev };
    const pendingId = item.pendingId as string | undefined;
    if (pendingId !== undefined && outbox?.alert.id === pendingId) {
      record.pending = { entry: outbox, leaseUntil: item.lease as number };
    }
    return record;
  }
  const record: SubjectRecord<S> = { state: item.state as S, rev };
  const legacy = item.pending as { alert: StoredOutbox; leaseUntil: number } | undefined;
  if (legacy) record.pending = { entry: outboxEntry(legacy.alert), leaseUntil: typeof item.lease === 'number' ? item.lease : legacy.leaseUntil };
  return record;
}

export class DynamoSubjectStore implements SubjectStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(cluster: string, subject: string) {
    return { [PK]: keys.cluster(cluster), [SK]: keys.subject(subject) };
  }

  async get<S>(cluster: string, subject: string): Promise<SubjectRecord<S> | undefined> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(cluster, subject), ConsistentRead: true })));
    return out.Item ? toRecord<S>(out.Item) : undefined;
  }

  async getMany<S>(cluster: string, subjects: string[]): Promise<Map<string, SubjectRecord<S>>> {
    const found = new Map<string, SubjectRecord<S>>();
    const prefix = keys.subject('');
    for (let i = 0; i < subjects.length; i += 100) {
      type Request = Record<string, { Keys: Record<string, unknown>[] }>;
      let request: Request | undefined = {
        [this.tableName]: { Keys: subjects.slice(i, i + 100).map((s) => this.key(cluster, s)) },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 8) throw new Error('DynamoDB left keys unprocessed after repeated retries');
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        // Eventually consistent: a stale read only costs a lost compare-and-set.
        const out = await awsCall(this.doc.send(new BatchGetCommand({ RequestItems: request })));
        for (const item of out.Responses?.[this.tableName] ?? []) {
          found.set((item[SK] as string).slice(prefix.length), toRecord<S>(item));
        }
        request = out.UnprocessedKeys as Request | undefined;
      }
    }
    return found;
  }

  async put<S>(cluster: string, subject: string, expectedRev: number | undefined, next: SubjectWrite<S>): Promise<boolean> {
    const now = Date.now();
    const item: Record<string, unknown> = {
      ...this.key(cluster, subject),
      body: encodeSubjectBody(next.state, next.pending?.entry),
      rev: (expectedRev ?? 0) + 1,
    };
    if (next.pending) {
      item.pendingId = next.pending.entry.alert.id;
      item.lease = next.pending.leaseUntil;
    }
    if (next.ttlSeconds !== undefined) item[TTL] = Math.floor(now / 1000) + next.ttlSeconds;
    try {
      await awsCall(this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedRev === undefined
            ? { ConditionExpression: `attribute_not_exists(${PK})` }
            : {
                ConditionExpression: 'rev = :rev AND attribute_not_exists(pendingId)',
                ExpressionAttributeValues: { ':rev': expectedRev },
              }),
        }),
      ));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async claimPending(cluster: string, subject: string, alertId: string, nowMs: number, leaseUntil: number): Promise<boolean> {
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(cluster, subject),
          UpdateExpression: 'SET lease = :lease',
          ConditionExpression: 'pendingId = :id AND (lease <= :now OR (attribute_not_exists(lease) AND pending.leaseUntil <= :now))',
          ExpressionAttributeValues: { ':lease': leaseUntil, ':id': alertId, ':now': nowMs },
        }),
      ));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async clearPending(cluster: string, subject: string, alertId: string): Promise<void> {
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(cluster, subject),
          // The alert stays inside `body` until the next write: without pendingId it is not pending.
          UpdateExpression: 'REMOVE pendingId, lease, pending',
          ConditionExpression: 'pendingId = :id',
          ExpressionAttributeValues: { ':id': alertId },
        }),
      ));
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // already cleared by another publisher
    }
  }
}

/** `last` as stored (a map); undefined when absent or not of that shape. */
function lastDelivery(value: unknown): LastDelivery | undefined {
  const v = value as Partial<LastDelivery> | undefined;
  if (!v || typeof v.node !== 'string' || typeof v.sentAt !== 'number' || typeof v.at !== 'number') return undefined;
  return { node: v.node, sentAt: v.sentAt, at: v.at };
}

/**
 * Where a member item's last write stands in the scope's order (epoch, then watermark): a
 * write from further back in that order leaves the item alone (a late snapshot neither
 * re-adds nor removes what a newer one decided).
 */
const MEMBER_ORDER = 'attribute_not_exists(w) OR e < :e OR (e = :e AND w <= :w)';
/** Member writes in flight at once: each is its own request, since each carries its condition. */
const MEMBER_WRITES = 16;

interface MemberOrder {
  e: number;
  w: number;
}

/**
 * A snapshot watch's scope: a head item (`scope#<scope>`: watermark, epoch, last) of fixed
 * size, and one small item per member (`scope#<scope>#m#<subject>`: the epoch and watermark
 * of the write that put it there), so that no item grows with the number of subjects
 * (docs/ARCHITECTURE.md, "Scope items"). Members are added before the head moves and removed
 * after it moved: a failure in between leaves a member too many (examined again, found
 * unchanged), never one too few (a removal nobody notices).
 * Heads written before member items keep their members in an `active` string set: still
 * read, shrunk by removals, and dropped by the next reset.
 */
export class DynamoScopeStore implements ScopeStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(cluster: string, scope: string) {
    return { [PK]: keys.cluster(cluster), [SK]: keys.scope(scope) };
  }

  private memberKey(cluster: string, scope: string, subject: string) {
    return { [PK]: keys.cluster(cluster), [SK]: keys.scopeMember(scope, subject) };
  }

  async getScope(cluster: string, scope: string): Promise<ScopeRecord> {
    const [out, members] = await Promise.all([
      awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(cluster, scope) }))),
      this.members(cluster, scope),
    ]);
    const item = out.Item;
    const active = new Set(members);
    if (item?.active instanceof Set) for (const s of item.active as Set<string>) active.add(s);
    const record: ScopeRecord = { watermark: typeof item?.watermark === 'number' ? item.watermark : 0, active };
    if (typeof item?.epoch === 'number' && item.epoch > 0) record.epoch = item.epoch;
    // Scopes written before `last` existed: their last update's time, from no known agent.
    const updatedAt = typeof item?.updatedAt === 'string' ? Date.parse(item.updatedAt) : NaN;
    const last = lastDelivery(item?.last) ?? (Number.isFinite(updatedAt) ? { node: '', sentAt: updatedAt, at: updatedAt } : undefined);
    if (last) record.last = last;
    return record;
  }

  /** The scope's member subjects: one Query over its member items (only their keys are returned). */
  private async members(cluster: string, scope: string): Promise<string[]> {
    const prefix = keys.scopeMembers(scope);
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ProjectionExpression: '#sk',
      ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': prefix },
    });
    return items.map((i) => (i[SK] as string).slice(prefix.length));
  }

  private async addMembers(cluster: string, scope: string, subjects: readonly string[], order: MemberOrder): Promise<void> {
    await mapLimit(subjects, MEMBER_WRITES, async (subject) => {
      try {
        await awsCall(this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.memberKey(cluster, scope, subject),
            UpdateExpression: 'SET e = :e, w = :w',
            ConditionExpression: MEMBER_ORDER,
            ExpressionAttributeValues: { ':e': order.e, ':w': order.w },
          }),
        ));
      } catch (err) {
        if (!isConditionFailure(err)) throw err; // a newer snapshot decided on this member
      }
    });
  }

  private async removeMembers(cluster: string, scope: string, subjects: readonly string[], order: MemberOrder): Promise<void> {
    await mapLimit(subjects, MEMBER_WRITES, async (subject) => {
      try {
        await awsCall(this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: this.memberKey(cluster, scope, subject),
            ConditionExpression: MEMBER_ORDER,
            ExpressionAttributeValues: { ':e': order.e, ':w': order.w },
          }),
        ));
      } catch (err) {
        if (!isConditionFailure(err)) throw err; // a newer snapshot (re)added it
      }
    });
  }

  async updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void> {
    const order = { e: update.epoch ?? 0, w: update.watermark };
    await this.addMembers(cluster, scope, update.addActive, order);
    const del = update.removeActive.length > 0;
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(cluster, scope),
          // Forward only, and never across a reset that happened since the update was computed.
          ConditionExpression: '(attribute_not_exists(watermark) OR watermark <= :w) AND (attribute_not_exists(epoch) OR epoch = :e)',
          // DELETE: from the `active` set of a head written before member items (a no-op without one).
          UpdateExpression: `SET watermark = :w, updatedAt = :now${update.last ? ', #last = :last' : ''}${del ? ' DELETE active :del' : ''}`,
          ...(update.last ? { ExpressionAttributeNames: { '#last': 'last' } } : {}),
          ExpressionAttributeValues: {
            ':w': update.watermark,
            ':e': update.epoch ?? 0,
            ':now': new Date().toISOString(),
            ...(update.last ? { ':last': { ...update.last } } : {}),
            ...(del ? { ':del': new Set(update.removeActive) } : {}),
          },
        }),
      ));
    } catch (err) {
      if (isConditionFailure(err)) return; // a newer snapshot (or a reset) got there first: its members stand
      throw err;
    }
    await this.removeMembers(cluster, scope, update.removeActive, order);
  }

  async resetScope(cluster: string, scope: string, reset: ScopeReset): Promise<boolean> {
    const current = new Set(await this.members(cluster, scope));
    const next = new Set(reset.active);
    // New members are stamped with the order the reset started from: if the reset loses to
    // another delivery, whichever order wins can still remove them.
    await this.addMembers(cluster, scope, reset.active.filter((s) => !current.has(s)), { e: reset.from.epoch, w: reset.from.watermark });
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(cluster, scope),
          ConditionExpression: 'watermark = :fromW AND (attribute_not_exists(epoch) OR epoch = :fromE)',
          UpdateExpression: 'SET watermark = :w, epoch = :e, #last = :last, updatedAt = :now REMOVE active',
          ExpressionAttributeNames: { '#last': 'last' },
          ExpressionAttributeValues: {
            ':fromW': reset.from.watermark,
            ':fromE': reset.from.epoch,
            ':w': reset.watermark,
            ':e': reset.epoch,
            ':last': { ...reset.last },
            ':now': new Date().toISOString(),
          },
        }),
      ));
    } catch (err) {
      if (isConditionFailure(err)) return false; // another delivery reset or moved the scope first
      throw err;
    }
    await this.removeMembers(cluster, scope, [...current].filter((s) => !next.has(s)), { e: reset.epoch, w: reset.watermark });
    return true;
  }
}
