/** SubjectStore and ScopeStore on DynamoDB (single table, see STATE_TABLE). */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Continuing, ScopeRecord, ScopeReset, ScopeStore, ScopeUpdate, SubjectRecord, SubjectStore, SubjectWrite } from '../app/ports';
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

/**
 * The items of `keys` (one partition's or many), eventually consistent: a stale subject
 * record only costs a lost compare-and-set, and a scope head is read so anyway (getScope).
 * BatchGetItem per 100 keys, several at once (the first run of a 30,000-check scope reads
 * 300 of them), unprocessed keys retried with backoff.
 */
async function batchGet(doc: DynamoDBDocumentClient, tableName: string, keyList: ReadonlyArray<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  const items: Array<Record<string, unknown>> = [];
  const batches: Array<Array<Record<string, unknown>>> = [];
  for (let i = 0; i < keyList.length; i += 100) batches.push(keyList.slice(i, i + 100));
  await mapLimit(batches, GET_MANY_BATCHES, async (batch) => {
    type Request = Record<string, { Keys: Record<string, unknown>[] }>;
    let request: Request | undefined = { [tableName]: { Keys: batch } };
    for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
      if (attempt > 8) throw new Error('DynamoDB left keys unprocessed after repeated retries');
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const out = await awsCall(doc.send(new BatchGetCommand({ RequestItems: request })));
      items.push(...(out.Responses?.[tableName] ?? []));
      request = out.UnprocessedKeys as Request | undefined;
    }
  });
  return items;
}

/** Subject items as records, by subject. */
function subjectRecords<S>(items: ReadonlyArray<Record<string, unknown>>): Map<string, SubjectRecord<S>> {
  const prefix = keys.subject('');
  return new Map(items.map((item) => [(item[SK] as string).slice(prefix.length), toRecord<S>(item)]));
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
    return subjectRecords<S>(await batchGet(this.doc, this.tableName, subjects.map((s) => this.key(cluster, s))));
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
/** BatchGetItem calls of one getMany in flight at once (each reads up to 100 items). */
const GET_MANY_BATCHES = 8;
/** From this many members added at once, they are read and written in batches (addMembersInBatches). */
const BATCHED_MEMBER_ADDS = 25;
/**
 * A scope keeps its members inline (a string set on the head: one read, one write per
 * update) while it has at most this many, each at most INLINE_SUBJECT_BYTES long: an
 * inline head stays under 100 x 256 B = 25 KB. Past that it moves them to member items, for good.
 */
export const INLINE_MEMBERS = 100;
export const INLINE_SUBJECT_BYTES = 256;
/** Attempts at moving a scope's members out of its head while other deliveries keep changing it. */
const SPILL_ATTEMPTS = 5;
/** Forward only, and never across a reset that happened since the update was computed. */
const FORWARD = '(attribute_not_exists(watermark) OR watermark <= :w) AND (attribute_not_exists(epoch) OR epoch = :e)';

interface MemberOrder {
  e: number;
  w: number;
}

/** The head as read consistently: its order, its mode and its inline members with their version. */
interface Head {
  watermark: number;
  epoch: number;
  spilled: boolean;
  inline: string[];
  /** Bumped by every write of the inline set: a spill moves exactly the set it read. */
  sv?: number;
}

const fitsInline = (subjects: readonly string[]) =>
  subjects.length <= INLINE_MEMBERS && subjects.every((s) => Buffer.byteLength(s) <= INLINE_SUBJECT_BYTES);

/**
 * A snapshot watch's scope: a head item (`scope#<scope>`: watermark, epoch, last) and its
 * members, so that no item grows with the number of subjects (docs/ARCHITECTURE.md, "Scope
 * items"). A small scope keeps its members inline in the head (`active`, a string set); a
 * scope that outgrows INLINE_MEMBERS moves them, once, to one small item per member
 * (`scope#<scope>#m#<subject>`, with the epoch and watermark of the write that put it
 * there) and marks its head `spilled`. Member items are added before the head moves and
 * removed after it moved: a failure in between leaves a member too many (examined again,
 * decided by its record), never one too few (a removal nobody notices).
 */
export class DynamoScopeStore implements ScopeStore {
  /** Scopes seen spilled by this process (a spill is never undone), to skip the inline attempt. */
  private readonly spilled = new Set<string>();

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
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(cluster, scope) })));
    return this.scopeRecord(cluster, scope, out.Item);
  }

  /**
   * getScope and the subjects' records (SubjectStore.getMany) in one BatchGetItem: the head
   * is one more key of the first batch, read as getScope reads it (eventually consistent;
   * a spilled scope's members still need their Query).
   */
  async getScopeWith<S>(cluster: string, scope: string, subjects: readonly string[]): Promise<{ scope: ScopeRecord; records: Map<string, SubjectRecord<S>> }> {
    const head = keys.scope(scope);
    const subjectKeys = [...new Set(subjects)].map((s) => ({ [PK]: keys.cluster(cluster), [SK]: keys.subject(s) }));
    const items = await batchGet(this.doc, this.tableName, [this.key(cluster, scope), ...subjectKeys]);
    const headItem = items.find((i) => i[SK] === head);
    return { scope: await this.scopeRecord(cluster, scope, headItem), records: subjectRecords<S>(items.filter((i) => i !== headItem)) };
  }

  /** A head item (absent: a scope not yet written) as the port's record. */
  private async scopeRecord(cluster: string, scope: string, item: Record<string, unknown> | undefined): Promise<ScopeRecord> {
    let active: Set<string>;
    if (item?.spilled === true) {
      this.spilled.add(`${cluster}\n${scope}`);
      active = new Set(await this.members(cluster, scope));
    } else {
      active = item?.active instanceof Set ? new Set(item.active as Set<string>) : new Set();
    }
    const record: ScopeRecord = { watermark: typeof item?.watermark === 'number' ? item.watermark : 0, active };
    if (typeof item?.epoch === 'number' && item.epoch > 0) record.epoch = item.epoch;
    // Scopes written before `last` existed: their last update's time, from no known agent.
    const updatedAt = typeof item?.updatedAt === 'string' ? Date.parse(item.updatedAt) : NaN;
    const last = lastDelivery(item?.last) ?? (Number.isFinite(updatedAt) ? { node: '', sentAt: updatedAt, at: updatedAt } : undefined);
    if (last) record.last = last;
    const cont = item?.cont as Continuing | undefined;
    if (cont && typeof cont.part === 'string') record.continuing = cont;
    return record;
  }

  async updateScope(cluster: string, scope: string, update: ScopeUpdate): Promise<void> {
    const order = { e: update.epoch ?? 0, w: update.watermark };
    for (let attempt = 0; attempt < SPILL_ATTEMPTS; attempt++) {
      const inline = this.spilled.has(`${cluster}\n${scope}`) ? 'spilled' : await this.updateInline(cluster, scope, update);
      if (inline === 'done' || inline === 'superseded') return;
      if (inline === 'spilled') return this.updateSpilled(cluster, scope, update, order);
      // Too many members for the head: move them out with this update.
      const head = await this.head(cluster, scope);
      if (head.spilled) return this.updateSpilled(cluster, scope, update, order);
      if (!inOrder(head, order)) return; // a newer snapshot (or a reset) got there first
      const spilled = await this.spill(cluster, scope, head, update, order);
      if (spilled !== 'changed') return;
    }
    throw new Error(`scope ${scope} of ${cluster} kept changing while its members were moved to member items; the delivery is to be retried`);
  }

  async resetScope(cluster: string, scope: string, reset: ScopeReset): Promise<boolean> {
    const head = await this.head(cluster, scope);
    if (head.spilled || !fitsInline(reset.active)) return this.resetSpilled(cluster, scope, reset, head);
    const active = reset.active.length > 0;
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(cluster, scope),
        ConditionExpression: 'watermark = :fromW AND (attribute_not_exists(epoch) OR epoch = :fromE) AND attribute_not_exists(spilled)',
        UpdateExpression: `SET watermark = :w, epoch = :e, #last = :last, updatedAt = :now${active ? ', active = :active' : ''} ADD sv :one${active ? '' : ' REMOVE active'}`,
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: {
          ':fromW': reset.from.watermark,
          ':fromE': reset.from.epoch,
          ':w': reset.watermark,
          ':e': reset.epoch,
          ':last': { ...reset.last },
          ':now': new Date().toISOString(),
          ':one': 1,
          ...(active ? { ':active': new Set(reset.active) } : {}),
        },
      }),
    ); // false: another delivery reset or moved the scope first
  }

  /** The head, read consistently (deciding how to write it). */
  private async head(cluster: string, scope: string): Promise<Head> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(cluster, scope), ConsistentRead: true })));
    const item = out.Item;
    const head: Head = {
      watermark: typeof item?.watermark === 'number' ? item.watermark : 0,
      epoch: typeof item?.epoch === 'number' ? item.epoch : 0,
      spilled: item?.spilled === true,
      inline: item?.active instanceof Set ? [...(item.active as Set<string>)] : [],
    };
    if (typeof item?.sv === 'number') head.sv = item.sv;
    if (head.spilled) this.spilled.add(`${cluster}\n${scope}`);
    return head;
  }

  /** True when the conditional write went through, false when its condition failed. */
  private async conditional(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      await awsCall(this.doc.send(command as UpdateCommand));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** The update on an inline head, as one write (two when it both adds and removes members). */
  private async updateInline(cluster: string, scope: string, update: ScopeUpdate): Promise<'done' | 'superseded' | 'spilled' | 'too-big'> {
    if (!fitsInline(update.addActive)) return 'too-big';
    const add = update.addActive.length > 0;
    const del = update.removeActive.length > 0;
    const values = { ':w': update.watermark, ':e': update.epoch ?? 0 };
    const moved = await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(cluster, scope),
        ConditionExpression: `${FORWARD} AND attribute_not_exists(spilled)${add ? ' AND (attribute_not_exists(active) OR size(active) <= :room)' : ''}`,
        // ADD and DELETE on one set cannot share an update expression: only when a snapshot
        // both adds and removes members does this take a second write.
        UpdateExpression: `SET watermark = :w, updatedAt = :now${update.last ? ', #last = :last' : ''}${add ? ' ADD active :add, sv :one' : del ? ' ADD sv :one DELETE active :del' : ''}`,
        ...(update.last ? { ExpressionAttributeNames: { '#last': 'last' } } : {}),
        ExpressionAttributeValues: {
          ...values,
          ':now': new Date().toISOString(),
          ...(update.last ? { ':last': { ...update.last } } : {}),
          ...(add ? { ':add': new Set(update.addActive), ':room': INLINE_MEMBERS - update.addActive.length, ':one': 1 } : del ? { ':del': new Set(update.removeActive), ':one': 1 } : {}),
        },
      }),
    );
    if (!moved) return this.whyRefused(cluster, scope, update);
    if (add && del) {
      const removed = await this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(cluster, scope),
          ConditionExpression: `${FORWARD} AND attribute_not_exists(spilled)`,
          UpdateExpression: 'ADD sv :one DELETE active :del',
          ExpressionAttributeValues: { ...values, ':one': 1, ':del': new Set(update.removeActive) },
        }),
      );
      // Spilled in between: the members to remove are items now.
      if (!removed && (await this.head(cluster, scope)).spilled) await this.removeMembers(cluster, scope, update.removeActive, { e: values[':e'], w: values[':w'] });
    }
    return 'done';
  }

  /** Why an inline update was refused: out of order, the scope spilled, or no room left inline. */
  private async whyRefused(cluster: string, scope: string, update: ScopeUpdate): Promise<'superseded' | 'spilled' | 'too-big'> {
    const head = await this.head(cluster, scope);
    if (head.spilled) return 'spilled';
    if (!inOrder(head, { e: update.epoch ?? 0, w: update.watermark })) return 'superseded';
    return 'too-big';
  }

  /**
   * Moves an inline head's members to member items with `update` applied: the inline members
   * (stamped with the head's order) and the update's additions first, then one head write
   * that marks it spilled and moves its watermark, if no inline write came in between (`sv`);
   * then the update's removals. A brand-new scope's baseline takes this path too: until the
   * head write its watermark stays 0, so an interrupted baseline is taken again as one.
   */
  private async spill(cluster: string, scope: string, head: Head, update: ScopeUpdate, order: MemberOrder): Promise<'done' | 'superseded' | 'changed'> {
    await this.addMembers(cluster, scope, head.inline, { e: head.epoch, w: head.watermark });
    await this.addMembers(cluster, scope, update.addActive, order);
    const marked = await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(cluster, scope),
        ConditionExpression: `${FORWARD} AND attribute_not_exists(spilled) AND ${head.sv === undefined ? 'attribute_not_exists(sv)' : 'sv = :sv'}`,
        UpdateExpression: `SET spilled = :t, watermark = :w, updatedAt = :now${update.last ? ', #last = :last' : ''} REMOVE active, sv`,
        ...(update.last ? { ExpressionAttributeNames: { '#last': 'last' } } : {}),
        ExpressionAttributeValues: {
          ':t': true,
          ':w': update.watermark,
          ':e': update.epoch ?? 0,
          ':now': new Date().toISOString(),
          ...(update.last ? { ':last': { ...update.last } } : {}),
          ...(head.sv === undefined ? {} : { ':sv': head.sv }),
        },
      }),
    );
    if (!marked) {
      const now = await this.head(cluster, scope);
      return now.spilled || inOrder(now, order) ? 'changed' : 'superseded';
    }
    this.spilled.add(`${cluster}\n${scope}`);
    await this.removeMembers(cluster, scope, update.removeActive, order);
    return 'done';
  }

  /** Members added before the head moves, removed after: see the class comment. */
  private async updateSpilled(cluster: string, scope: string, update: ScopeUpdate, order: MemberOrder): Promise<void> {
    await this.addMembers(cluster, scope, update.addActive, order);
    const moved = await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(cluster, scope),
        ConditionExpression: FORWARD,
        UpdateExpression: `SET watermark = :w, updatedAt = :now${update.last ? ', #last = :last' : ''}`,
        ...(update.last ? { ExpressionAttributeNames: { '#last': 'last' } } : {}),
        ExpressionAttributeValues: {
          ':w': update.watermark,
          ':e': update.epoch ?? 0,
          ':now': new Date().toISOString(),
          ...(update.last ? { ':last': { ...update.last } } : {}),
        },
      }),
    );
    // Refused: a newer snapshot (or a reset) got there first, and its members stand.
    if (moved) await this.removeMembers(cluster, scope, update.removeActive, order);
  }

  /**
   * A reset of a spilled scope (or one whose new members do not fit inline). Members it adds
   * are stamped with the order it started from, so that whichever delivery wins can still
   * remove them; the head moves by compare-and-set; then the members it no longer has go.
   */
  private async resetSpilled(cluster: string, scope: string, reset: ScopeReset, head: Head): Promise<boolean> {
    const items = new Set(head.spilled ? await this.members(cluster, scope) : []);
    const next = new Set(reset.active);
    await this.addMembers(cluster, scope, reset.active.filter((s) => !items.has(s)), { e: reset.from.epoch, w: reset.from.watermark });
    const moved = await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(cluster, scope),
        ConditionExpression: `watermark = :fromW AND (attribute_not_exists(epoch) OR epoch = :fromE)${head.spilled ? '' : ` AND attribute_not_exists(spilled) AND ${head.sv === undefined ? 'attribute_not_exists(sv)' : 'sv = :sv'}`}`,
        UpdateExpression: 'SET watermark = :w, epoch = :e, #last = :last, updatedAt = :now, spilled = :t REMOVE active, sv',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: {
          ':fromW': reset.from.watermark,
          ':fromE': reset.from.epoch,
          ':w': reset.watermark,
          ':e': reset.epoch,
          ':last': { ...reset.last },
          ':now': new Date().toISOString(),
          ':t': true,
          ...(!head.spilled && head.sv !== undefined ? { ':sv': head.sv } : {}),
        },
      }),
    );
    if (!moved) return false; // another delivery reset or moved the scope first
    this.spilled.add(`${cluster}\n${scope}`);
    await this.removeMembers(cluster, scope, [...items].filter((s) => !next.has(s)), { e: reset.epoch, w: reset.watermark });
    return true;
  }

  /** The member items' subjects: one paginated Query over the scope's member prefix (keys only). */
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
    if (subjects.length >= BATCHED_MEMBER_ADDS) return this.addMembersInBatches(cluster, scope, subjects, order);
    // A condition failure: a newer snapshot decided on this member.
    await mapLimit(subjects, MEMBER_WRITES, (subject) =>
      this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.memberKey(cluster, scope, subject),
          UpdateExpression: 'SET e = :e, w = :w',
          ConditionExpression: MEMBER_ORDER,
          ExpressionAttributeValues: { ':e': order.e, ':w': order.w },
        }),
      ),
    );
  }

  /**
   * Many members at once (a mass outage: thousands of checks critical in one snapshot): one
   * conditional write each would be a DynamoDB call per transition on top of the
   * transition's own. Their stamps are read in batches instead, and those not stamped
   * further on in the scope's order are put in BatchWriteItem calls (MEMBER_ORDER checked
   * on the read: a newer snapshot adding the same member between the read and the write
   * gets its stamp lowered to ours, which only lets a later remove between the two orders
   * through; docs/ARCHITECTURE.md "Mass outage").
   */
  private async addMembersInBatches(cluster: string, scope: string, subjects: readonly string[], order: MemberOrder): Promise<void> {
    const stamps = new Map<string, MemberOrder>();
    for (let i = 0; i < subjects.length; i += 100) {
      let keysLeft: Array<Record<string, unknown>> = subjects.slice(i, i + 100).map((s) => this.memberKey(cluster, scope, s));
      for (let attempt = 1; keysLeft.length > 0; attempt++) {
        const out = await awsCall(this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keysLeft, ConsistentRead: true, ProjectionExpression: `${PK}, ${SK}, e, w` } } })));
        for (const item of out.Responses?.[this.tableName] ?? []) stamps.set(String(item[SK]), { e: Number(item.e ?? 0), w: Number(item.w ?? 0) });
        keysLeft = (out.UnprocessedKeys?.[this.tableName]?.Keys as Array<Record<string, unknown>> | undefined) ?? [];
        if (keysLeft.length > 0 && attempt >= 6) throw new Error(`DynamoDB left ${keysLeft.length} member reads unprocessed ${attempt} times`);
      }
    }
    const puts = subjects
      .map((s) => this.memberKey(cluster, scope, s))
      .filter((key) => {
        const stamp = stamps.get(String(key[SK]));
        return !stamp || stamp.e < order.e || (stamp.e === order.e && stamp.w <= order.w);
      })
      .map((key) => ({ PutRequest: { Item: { ...key, e: order.e, w: order.w } } }));
    for (let i = 0; i < puts.length; i += 25) {
      let left: unknown[] = puts.slice(i, i + 25);
      for (let attempt = 1; left.length > 0; attempt++) {
        const out = await awsCall(this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: left as never } })));
        left = out.UnprocessedItems?.[this.tableName] ?? [];
        if (left.length > 0 && attempt >= 6) throw new Error(`DynamoDB left ${left.length} member writes unprocessed ${attempt} times`);
        if (left.length > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
  }

  private async removeMembers(cluster: string, scope: string, subjects: readonly string[], order: MemberOrder): Promise<void> {
    // A condition failure: a newer snapshot (re)added it.
    await mapLimit(subjects, MEMBER_WRITES, (subject) =>
      this.conditional(
        new DeleteCommand({
          TableName: this.tableName,
          Key: this.memberKey(cluster, scope, subject),
          ConditionExpression: MEMBER_ORDER,
          ExpressionAttributeValues: { ':e': order.e, ':w': order.w },
        }),
      ),
    );
  }
}

/** Whether an update in `order` may still move `head` (the head's FORWARD condition). */
function inOrder(head: Head, order: MemberOrder): boolean {
  return head.watermark <= order.w && head.epoch === order.e;
}
