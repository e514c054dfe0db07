/**
 * The operator's read model (app/read-model-ports.ts) in the state table, under the
 * cluster's partition (docs/ARCHITECTURE.md "State"):
 * - `sk = alert#<id>` (id = domain/rules/read-model.ts alertRef(subject)): one item per
 *   firing episode, plain attributes, no TTL (the engine removes it when the episode ends;
 *   a reader removes one whose subject no longer fires). Listing is one Query on the prefix.
 * - `sk = h#<id>#<epoch ms, 13 digits>#...`: history the subject's record does not carry
 *   (domain/rules/read-model.ts placeHistory): entries spilled from the record (`entries`,
 *   named by their content) or one write's entry (`events`); TTL = the newest entry's time +
 *   the retention. One Query on `h#<id>#`, newest first; alerts-api merges the record's own.
 * Items stay small: titles and subjects are cut (READ_MODEL_LIMITS), events per entry are few.
 */
import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AlertReadModel } from '../app/read-model-ports';
import { STATE_TABLE } from '../commons/deployment';
import { alertRef, DEFAULT_HISTORY_RETENTION_DAYS, type CarriedEntry, type FiringAlert, type HistoryEntry } from '../domain/rules/read-model';
import { awsCall } from './aws-errors';
import { BatchedWrites } from './dynamo-batched-writes';
import { queryPages } from './dynamo-query';
import { keys } from './dynamo-state-store';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
export const READ_MODEL_KEYS = {
  firing: (id: string) => `alert#${id}`,
  firingPrefix: 'alert#',
  history: (id: string) => `h#${id}#`,
} as const;

const ATTRIBUTES = ['id', 'subject', 'cluster', 'episode', 'episodeKey', 'severity', 'status', 'title', 'source', 'kind', 'node', 'service', 'check', 'since', 'lastChange', 'channels', 'silencedBy', 'ack'] as const;

function toFiring(item: Record<string, unknown>): FiringAlert {
  const out: Record<string, unknown> = {};
  for (const a of ATTRIBUTES) if (item[a] !== undefined) out[a] = item[a];
  // Tolerant of what others add to the item: only the read model's attributes are read.
  return { channels: [], ...out } as unknown as FiringAlert;
}

/** Orders the history entries one process writes within a millisecond. */
let sequence = 0;

export class DynamoAlertReadModel implements AlertReadModel {
  readonly retentionMs: number;
  /**
   * Index puts and removals and history items are unconditional writes (a repeat is
   * harmless): they share BatchWriteItem calls with each other and, through `writes`, with
   * the table's other batched writers. So an episode's end (its index entry removed, its
   * history item) is one share of a call, and a storm of new episodes costs a fraction of
   * a call each (docs/ARCHITECTURE.md "Mass outage").
   */
  private readonly writes: BatchedWrites;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    retentionDays: number = DEFAULT_HISTORY_RETENTION_DAYS,
    writes?: BatchedWrites,
  ) {
    this.retentionMs = retentionDays * 86_400_000;
    this.writes = writes ?? new BatchedWrites(doc, tableName);
  }

  async putFiring(cluster: string, alert: FiringAlert): Promise<void> {
    await this.writes.put({ ...alert, [PK]: keys.cluster(cluster), [SK]: READ_MODEL_KEYS.firing(alert.id) });
  }

  async removeFiring(cluster: string, id: string): Promise<void> {
    await this.writes.delete({ [PK]: keys.cluster(cluster), [SK]: READ_MODEL_KEYS.firing(id) });
  }

  async listFiring(cluster: string, limit: number): Promise<FiringAlert[]> {
    const found: FiringAlert[] = [];
    const pages = queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': READ_MODEL_KEYS.firingPrefix },
      Limit: limit,
    });
    for await (const page of pages) {
      for (const item of page) found.push(toFiring(item));
      if (found.length >= limit) break;
    }
    return found.slice(0, limit);
  }

  async getFiring(cluster: string, id: string): Promise<FiringAlert | undefined> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(cluster), [SK]: READ_MODEL_KEYS.firing(id) } })));
    return out.Item ? toFiring(out.Item) : undefined;
  }

  async appendHistory(cluster: string, entry: HistoryEntry): Promise<void> {
    // Unique per write (two entries in one millisecond both stay), and in this process's order.
    const sk = `${READ_MODEL_KEYS.history(alertRef(entry.subject))}${String(entry.at).padStart(13, '0')}#${(sequence++ % 36 ** 4).toString(36).padStart(4, '0')}${randomBytes(3).toString('hex')}`;
    const item = { [PK]: keys.cluster(cluster), [SK]: sk, at: entry.at, subject: entry.subject, events: JSON.stringify(entry.events), [TTL]: Math.ceil((entry.at + this.retentionMs) / 1000) };
    await this.writes.put(item);
  }

  async spillHistory(cluster: string, subject: string, entries: readonly CarriedEntry[]): Promise<void> {
    const first = entries[0];
    const last = entries[entries.length - 1];
    if (!first || !last) return;
    // Named by its content: spilling the same entries again (a lost race, a retry) rewrites this item.
    const json = JSON.stringify(entries);
    const sk = `${READ_MODEL_KEYS.history(alertRef(subject))}${String(first.at).padStart(13, '0')}#s${createHash('sha256').update(json).digest('hex').slice(0, 9)}`;
    await this.writes.put({ [PK]: keys.cluster(cluster), [SK]: sk, at: first.at, subject, entries: json, [TTL]: Math.ceil((last.at + this.retentionMs) / 1000) });
  }

  async history(cluster: string, subject: string, limit: number, nowMs: number): Promise<HistoryEntry[]> {
    const nowS = nowMs / 1000;
    const found: HistoryEntry[] = [];
    const pages = queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(cluster), ':prefix': READ_MODEL_KEYS.history(alertRef(subject)) },
      ScanIndexForward: false,
      Limit: limit,
    });
    for await (const page of pages) {
      for (const item of page) {
        // TTL deletion lags (up to days): an expired entry is not shown.
        if (typeof item[TTL] === 'number' && (item[TTL] as number) < nowS) continue;
        if (item.subject !== subject) continue; // an id collision (12 base64url characters): not this subject's
        if (typeof item.entries === 'string') {
          // A spill of carried entries (oldest first), newest first like the items around it.
          for (const e of (JSON.parse(item.entries) as CarriedEntry[]).reverse()) found.push({ at: e.at, subject, events: e.events });
        } else found.push({ at: Number(item.at), subject, events: JSON.parse(String(item.events)) as HistoryEntry['events'] });
      }
      if (found.length >= limit) break;
    }
    return found.slice(0, limit).reverse();
  }
}
