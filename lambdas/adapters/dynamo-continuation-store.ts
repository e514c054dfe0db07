/**
 * The rest of a snapshot's work while its continuation is pending (app/sources/
 * check-snapshots.ts), in the state table under the cluster's partition:
 *   continue#<id>#<part, 4 digits>   `data`: a slice of the gzipped JSON, `parts`: how many
 * Each item holds at most PART_BYTES (no item grows with the snapshot: 10,000 checks with
 * 4 KB outputs are a few hundred parts), written in BatchWriteItem calls, read back with
 * one consistent query, removed once the continuation is done; TTL as a backstop.
 *
 * The scope's marker (ports.ts Continuing) is the attribute `cont` of the scope's head item
 * (`scope#<name>`, dynamo-state-store.ts reads it with the scope); each change of it here is
 * one conditional UpdateItem that touches nothing else of the head.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchWriteCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ContinuationStore, Continuing } from '../app/ports';
import { STATE_TABLE } from '../commons/deployment';
import { isConditionFailure, keys } from './dynamo-state-store';
import { awsCall } from './aws-errors';
import { queryAll } from './dynamo-query';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
/** Bytes of data per item: with its keys, each item stays under 64 KB. */
export const PART_BYTES = 60_000;
const BATCH = 25;
const UNPROCESSED_ATTEMPTS = 6;

const prefix = (id: string) => `continue#${id}#`;
const partKey = (id: string, n: number) => `${prefix(id)}${String(n).padStart(4, '0')}`;

export class DynamoContinuationStore implements ContinuationStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: { nowMs(): number },
  ) {}

  async save(cluster: string, id: string, value: unknown, ttlSeconds: number): Promise<void> {
    const data = gzipSync(JSON.stringify(value));
    const parts = Math.max(1, Math.ceil(data.length / PART_BYTES));
    const expires = Math.floor(this.clock.nowMs() / 1000) + ttlSeconds;
    const items = Array.from({ length: parts }, (_, n) => ({
      [PK]: keys.cluster(cluster),
      [SK]: partKey(id, n),
      data: data.subarray(n * PART_BYTES, (n + 1) * PART_BYTES),
      parts,
      [TTL]: expires,
    }));
    await this.batch(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async load(cluster: string, id: string): Promise<unknown> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': prefix(id) },
      ConsistentRead: true,
    });
    if (items.length === 0) return undefined;
    const parts = Number(items[0]!.parts);
    if (items.length !== parts) throw new Error(`continuation ${id}: ${items.length} of ${parts} parts stored`);
    items.sort((a, b) => String(a[SK]).localeCompare(String(b[SK])));
    return JSON.parse(gunzipSync(Buffer.concat(items.map((i) => Buffer.from(i.data as Uint8Array)))).toString('utf8'));
  }

  async remove(cluster: string, id: string): Promise<void> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': prefix(id) },
      ProjectionExpression: `${PK}, ${SK}`,
      ConsistentRead: true,
    });
    await this.batch(items.map((i) => ({ DeleteRequest: { Key: { [PK]: i[PK], [SK]: i[SK] } } })));
  }

  async begin(cluster: string, scope: string, part: string, index: number): Promise<boolean> {
    return this.conditional({
      Key: this.head(cluster, scope),
      UpdateExpression: 'SET cont = :c',
      ConditionExpression: 'attribute_not_exists(cont)',
      ExpressionAttributeValues: { ':c': { part, index } satisfies Continuing },
    });
  }

  async offer(cluster: string, scope: string, next: string, index: number): Promise<{ kind: 'queued'; replaced?: string } | { kind: 'older' } | { kind: 'none' }> {
    try {
      const out = await awsCall(this.doc.send(
        update(this.tableName, {
          Key: this.head(cluster, scope),
          UpdateExpression: 'SET cont.#next = :n, cont.#nextIndex = :i',
          ConditionExpression: 'attribute_exists(cont) AND cont.#index < :i AND (attribute_not_exists(cont.#nextIndex) OR cont.#nextIndex <= :i)',
          ExpressionAttributeValues: { ':n': next, ':i': index },
          ReturnValues: 'UPDATED_OLD',
        }),
      ));
      const replaced = (out.Attributes?.cont as Partial<Continuing> | undefined)?.next;
      return replaced ? { kind: 'queued', replaced } : { kind: 'queued' };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return (await this.marker(cluster, scope)) ? { kind: 'older' } : { kind: 'none' };
  }

  async claim(cluster: string, scope: string, part: string, runner: string, nowMs: number, leaseUntil: number): Promise<Continuing | 'busy' | 'gone'> {
    try {
      const out = await awsCall(this.doc.send(
        update(this.tableName, {
          Key: this.head(cluster, scope),
          UpdateExpression: 'SET cont.#runner = :r, cont.#lease = :until',
          ConditionExpression: 'cont.#part = :p AND (attribute_not_exists(cont.#lease) OR cont.#lease < :now)',
          ExpressionAttributeValues: { ':r': runner, ':until': leaseUntil, ':p': part, ':now': nowMs },
          ReturnValues: 'ALL_NEW',
        }),
      ));
      return out.Attributes?.cont as Continuing;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return (await this.marker(cluster, scope))?.part === part ? 'busy' : 'gone';
  }

  async advance(cluster: string, scope: string, runner: string, part: string, index: number, consumed?: string): Promise<void> {
    const base = {
      Key: this.head(cluster, scope),
      UpdateExpression: 'SET cont.#part = :p, cont.#index = :i REMOVE cont.#runner, cont.#lease',
      ConditionExpression: 'cont.#runner = :r',
      ExpressionAttributeValues: { ':p': part, ':i': index, ':r': runner } as Record<string, unknown>,
    };
    // The queued snapshot the run switched to leaves the queue, unless a newer one replaced it meanwhile.
    if (consumed) {
      const dropped = await this.conditional({
        ...base,
        UpdateExpression: `${base.UpdateExpression}, cont.#next, cont.#nextIndex`,
        ConditionExpression: `${base.ConditionExpression} AND cont.#next = :consumed`,
        ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':consumed': consumed },
      });
      if (dropped) return;
    }
    if (!(await this.conditional(base))) throw new Error(`continuation of ${scope}: the run lost the scope (its lease ran out) before handing it on`);
  }

  async end(cluster: string, scope: string, runner: string, consumed?: string): Promise<boolean> {
    const ended = await this.conditional({
      Key: this.head(cluster, scope),
      UpdateExpression: 'REMOVE cont',
      ConditionExpression: `cont.#runner = :r AND (attribute_not_exists(cont.#next)${consumed ? ' OR cont.#next = :consumed' : ''})`,
      ExpressionAttributeValues: { ':r': runner, ...(consumed ? { ':consumed': consumed } : {}) },
    });
    if (ended) return true;
    if ((await this.marker(cluster, scope))?.runner !== runner) throw new Error(`continuation of ${scope}: the run lost the scope (its lease ran out) before it ended`);
    return false;
  }

  async release(cluster: string, scope: string, runner: string): Promise<void> {
    await this.conditional({
      Key: this.head(cluster, scope),
      UpdateExpression: 'REMOVE cont.#lease',
      ConditionExpression: 'cont.#runner = :r',
      ExpressionAttributeValues: { ':r': runner },
    });
  }

  private head(cluster: string, scope: string) {
    return { [PK]: keys.cluster(cluster), [SK]: keys.scope(scope) };
  }

  private async marker(cluster: string, scope: string): Promise<Continuing | undefined> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.head(cluster, scope), ConsistentRead: true, ProjectionExpression: 'cont' })));
    return out.Item?.cont as Continuing | undefined;
  }

  /** True when the update went through, false when its condition failed. */
  private async conditional(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): Promise<boolean> {
    try {
      await awsCall(this.doc.send(update(this.tableName, input)));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  private async batch(requests: unknown[]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH) {
      let pending = requests.slice(i, i + BATCH);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const out = await awsCall(this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending as never } })));
        pending = out.UnprocessedItems?.[this.tableName] ?? [];
        if (pending.length === 0) break;
        if (attempt >= UNPROCESSED_ATTEMPTS) throw new Error(`DynamoDB left ${pending.length} continuation item(s) unprocessed ${attempt} times`);
        await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      }
    }
  }
}

/** The marker's fields as placeholders (several are DynamoDB reserved words); only those the expressions use, as DynamoDB requires. */
const FIELDS = ['part', 'index', 'next', 'nextIndex', 'runner', 'lease'];

function update(tableName: string, input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>): UpdateCommand {
  const text = `${input.UpdateExpression ?? ''} ${input.ConditionExpression ?? ''}`;
  const used = FIELDS.filter((f) => new RegExp(`#${f}\\b`).test(text));
  return new UpdateCommand({ TableName: tableName, ...input, ...(used.length ? { ExpressionAttributeNames: Object.fromEntries(used.map((f) => [`#${f}`, f])) } : {}) });
}
