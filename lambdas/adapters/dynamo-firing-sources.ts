/**
 * The firing inhibition sources (app/delivery-ports.ts FiringSources) in the state table,
 * under the cluster's partition: `pk = cluster#<c>, sk = firing#<subject>`, the source's
 * episode id and facts (JSON). No TTL: an entry goes when its episode ends (the engine),
 * or when the dispatcher finds it stale (its subject no longer firing as a source). One
 * Query per read, over inhibiting alerts only.
 */
import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchedWrites } from './dynamo-batched-writes';
import type { FiringSources } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { FiringSource } from '../domain/rules/inhibit';
import type { MatchFacts } from '../domain/rules/types';
import { awsCall } from './aws-errors';
import { queryPages } from './dynamo-query';
import { keys } from './dynamo-state-store';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const PREFIX = 'firing#';

export class DynamoFiringSources implements FiringSources {
  /** A rack failing opens hundreds of node incidents at once, each a source: their puts share BatchWriteItem calls. */
  private readonly puts: BatchedWrites;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Shared with the table's other batched writers (aws-ports.ts), so puts of one moment share a call. */
    writes?: BatchedWrites,
  ) {
    this.puts = writes ?? new BatchedWrites(doc, tableName);
  }

  async add(cluster: string, source: FiringSource): Promise<void> {
    await this.puts.put({ [PK]: keys.cluster(cluster), [SK]: `${PREFIX}${source.subject}`, episode: source.episode, facts: JSON.stringify(source.facts), recordedAt: source.recordedAt ?? 0 });
  }

  async remove(cluster: string, subject: string): Promise<void> {
    await awsCall(this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(cluster), [SK]: `${PREFIX}${subject}` } })));
  }

  async list(cluster: string, limit: number): Promise<FiringSource[]> {
    const found: FiringSource[] = [];
    const pages = queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': PREFIX },
      // Read after the write that recorded a source: a target dispatched right after its source must see it.
      ConsistentRead: true,
      Limit: limit,
    });
    for await (const page of pages) {
      for (const item of page) found.push({ subject: String(item[SK]).slice(PREFIX.length), episode: String(item.episode), facts: JSON.parse(String(item.facts)) as MatchFacts, recordedAt: Number(item.recordedAt ?? 0) });
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }
}
