/**
 * The rest of a snapshot's work while its continuation is pending (app/sources/
 * check-snapshots.ts), in the state table under the cluster's partition:
 *   continue#<id>#<part, 4 digits>   `data`: a slice of the gzipped JSON, `parts`: how many
 * Each item holds at most PART_BYTES (no item grows with the snapshot: 10,000 checks with
 * 4 KB outputs are a few hundred parts), written in BatchWriteItem calls, read back with
 * one consistent query, removed once the continuation is done; TTL as a backstop.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ContinuationStore } from '../app/ports';
import { STATE_TABLE } from '../commons/deployment';
import { keys } from './dynamo-state-store';
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
