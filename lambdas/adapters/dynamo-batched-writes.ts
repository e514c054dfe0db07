/**
 * Unconditional puts and deletes gathered into BatchWriteItem calls (up to 25 items each):
 * callers that write one item each at about the same time (the dispatcher folding a
 * storm's notifications, 16 at once per snapshot; the read model's index entries and
 * history items) share one call instead of one each. A write waits at most `lingerMs` for
 * company. Only for writes whose repetition is harmless: BatchWriteItem takes no
 * condition. One instance per table can serve several adapters (aws-ports.ts), so that
 * their writes share calls too.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../commons/deployment';
import { awsCall } from './aws-errors';

/** BatchWriteItem's limit. */
const MAX_BATCH = 25;
/** Retries of the items DynamoDB left unprocessed (throttling), with backoff. */
const UNPROCESSED_ATTEMPTS = 6;

type Item = Record<string, unknown>;
type Request = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Item } };
interface Waiting {
  request: Request;
  key: string;
  resolve(): void;
  reject(err: unknown): void;
}

const keyOf = (item: Item): string => `${String(item[STATE_TABLE.partitionKey])}\u0000${String(item[STATE_TABLE.sortKey])}`;

export class BatchedWrites {
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly lingerMs = 2,
  ) {}

  put(item: Item): Promise<void> {
    return this.enqueue({ PutRequest: { Item: item } }, keyOf(item));
  }

  /** Deletes the item with this key (its partition and sort key attributes only). */
  delete(key: Item): Promise<void> {
    return this.enqueue({ DeleteRequest: { Key: key } }, keyOf(key));
  }

  private enqueue(request: Request, key: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ request, key, resolve, reject });
      if (this.queue.length >= MAX_BATCH) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue.splice(0, MAX_BATCH);
    if (this.queue.length > 0) this.timer = setTimeout(() => this.flush(), this.lingerMs);
    if (batch.length === 0) return;
    this.write(batch).then(
      () => batch.forEach((w) => w.resolve()),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  }

  private async write(batch: Waiting[]): Promise<void> {
    // One request may not name a key twice: the write asked last wins, as it would have in
    // separate calls made in this order (a retried fold beside its first try; an episode's
    // index entry removed, then put again by the subject's next episode).
    const byKey = new Map<string, Request>();
    for (const w of batch) {
      byKey.delete(w.key); // keeps the map in the order the writes were asked
      byKey.set(w.key, w.request);
    }
    let requests: unknown[] = [...byKey.values()];
    for (let attempt = 1; requests.length > 0; attempt++) {
      const out = await awsCall(this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } })));
      requests = out.UnprocessedItems?.[this.tableName] ?? [];
      if (requests.length === 0) return;
      if (attempt >= UNPROCESSED_ATTEMPTS) throw new Error(`DynamoDB left ${requests.length} item(s) of a batch write unprocessed ${attempt} times`);
      await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
}
