/**
 * Unconditional puts gathered into BatchWriteItem calls (up to 25 items each): callers
 * that put one item each at about the same time (the dispatcher folding a storm's
 * notifications, 16 at once per snapshot) share one call instead of one each. A put waits
 * at most `lingerMs` for company. Only for items whose rewrite is harmless: BatchWriteItem
 * takes no condition, and a key written twice keeps the last (identical) value.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../commons/deployment';
import { awsCall } from './aws-errors';

/** BatchWriteItem's limit. */
const MAX_BATCH = 25;
/** Retries of the items DynamoDB left unprocessed (throttling), with backoff. */
const UNPROCESSED_ATTEMPTS = 6;

type Item = Record<string, unknown>;
interface Waiting {
  item: Item;
  resolve(): void;
  reject(err: unknown): void;
}

export class BatchedPuts {
  private queue: Waiting[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly lingerMs = 2,
  ) {}

  put(item: Item): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
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
    this.write(batch.map((w) => w.item)).then(
      () => batch.forEach((w) => w.resolve()),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  }

  private async write(items: Item[]): Promise<void> {
    // One request may not name a key twice (a retried fold beside its first try): keep the last.
    const byKey = new Map(items.map((item) => [`${String(item[STATE_TABLE.partitionKey])}\u0000${String(item[STATE_TABLE.sortKey])}`, item]));
    let requests: unknown[] = [...byKey.values()].map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 1; requests.length > 0; attempt++) {
      const out = await awsCall(this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } })));
      requests = out.UnprocessedItems?.[this.tableName] ?? [];
      if (requests.length === 0) return;
      if (attempt >= UNPROCESSED_ATTEMPTS) throw new Error(`DynamoDB left ${requests.length} item(s) of a batch write unprocessed ${attempt} times`);
      await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
    }
  }
}
