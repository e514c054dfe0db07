/**
 * The local runner's message bus: named queues and one fan-out topic, in-process, kept in
 * LevelDB (classic-level) so that nothing queued is lost when `npm start` stops or is killed.
 * SQS and SNS semantics where the pipeline relies on them (docs/local-bus.md):
 * - a message is written before `send`/`publish` returns; it becomes visible after its delay;
 * - a received message is invisible for the queue's visibility timeout, or until `retryLater`
 *   makes it visible again after the given delay; `ack` deletes it; each receive counts;
 * - a queue with a dead-letter queue moves a message there once it has been received
 *   maxReceiveCount times without being acknowledged;
 * - a topic copies each publication to every subscribed queue whose filter policy matches,
 *   in one atomic write, as an SNS notification envelope (what an SQS subscriber reads);
 * - consumers are woken in-process when a message becomes visible (no polling);
 * - LevelDB lets one process open the store: what the previous process had received and not
 *   acknowledged (it was killed mid-delivery) is made visible again when the bus opens.
 *
 * Layout: one key per message, `q!<queue>!<visibleAt ms, 15 digits>!<message id>`, so a
 * queue's visible messages are a key range and the oldest come first; moving a message
 * (visibility, redrive) is a delete and a put in one batch.
 */
import { randomBytes } from 'node:crypto';
import { ClassicLevel } from 'classic-level';
import { checkFilterPolicy, matchesFilterPolicy, type FilterPolicy, type MessageAttributes } from './filter-policy';

export interface QueueOptions {
  /** How long a received message stays invisible unless acknowledged or retried (s); default 30. */
  readonly visibilityTimeoutSeconds?: number;
  /** Messages received this many times without an `ack` move to `queue`. */
  readonly deadLetter?: { readonly queue: string; readonly maxReceiveCount: number };
}

export interface BusMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: MessageAttributes;
  /** 1 on the first receive. */
  readonly receiveCount: number;
  readonly sentAtMs: number;
  /** Hands the message back to `ack` / `retryLater`. */
  readonly receipt: string;
}

/** A message as stored (the value of its key). */
interface StoredMessage {
  id: string;
  body: string;
  attributes: MessageAttributes;
  receiveCount: number;
  sentAtMs: number;
  /** Received and neither acknowledged nor retried yet. */
  inFlight?: boolean;
  /** Set when it was moved to a dead-letter queue. */
  deadLetteredFrom?: string;
}

export interface Publication {
  readonly subject: string;
  readonly message: string;
  readonly attributes: MessageAttributes;
}

export interface BusOptions {
  /** fsync every write (LevelDB `sync`): survives power loss, at a cost per write (npm start: on, docs/local-bus.md). */
  readonly sync?: boolean;
  readonly nowMs?: () => number;
  /** Told when a message is moved to a dead-letter queue. */
  readonly onDeadLetter?: (event: { queue: string; deadLetterQueue: string; id: string; receiveCount: number; body: string }) => void;
}

type WriteOp = { type: 'put'; key: string; value: StoredMessage } | { type: 'del'; key: string };

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_DELAY_MS = 366 * 24 * 3600 * 1000;
const pad = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');
const queuePrefix = (queue: string) => `q!${queue}!`;
const messageKey = (queue: string, visibleAtMs: number, id: string) => `${queuePrefix(queue)}${pad(visibleAtMs)}!${id}`;

function parseKey(key: string): { queue: string; visibleAtMs: number; id: string } {
  const [, queue, visibleAt, id] = key.split('!');
  return { queue: queue as string, visibleAtMs: Number(visibleAt), id: id as string };
}

function checkDelay(what: string, ms: number): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_DELAY_MS) throw new Error(`${what} ${ms} ms is not between 0 and one year`);
  return ms;
}

export class LocalBus {
  private readonly queues = new Map<string, QueueOptions>();
  private readonly subscriptions = new Map<string, Array<{ queue: string; policy?: FilterPolicy }>>();
  private readonly wakers = new Map<string, Set<() => void>>();
  private readonly versions = new Map<string, number>();
  /** One operation per queue at a time: a receive never hands out what another is moving. */
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly nowMs: () => number;
  private counter = 0;
  private closed = false;
  /** Writes waiting for the batch under way (group commit, see `write`). */
  private queuedWrites: Array<{ ops: WriteOp[]; done: (err?: Error) => void }> = [];
  private flushing: Promise<void> | undefined;
  /**
   * SCAN FLOOR, per queue: no message of the queue is stored under a visibility time below
   * it, so receives and wake-ups start their key range there. A consumed message leaves a
   * deletion marker that LevelDB walks over (and reads from its files) on every scan of the
   * range until a compaction drops it; starting at the floor skips them. Lowered at once by
   * every put issued to the queue; raised only by a receive, past what it consumed, and never
   * above a put issued before it could see it (`pendingPuts`, `scans`). In memory: 0 at open.
   */
  private readonly floors = new Map<string, number>();
  /** Puts issued to a queue and not yet written: how many, and the lowest visibility time since there were none. */
  private readonly pendingPuts = new Map<string, { count: number; lowest: number }>();
  /** The receive scanning a queue (one at a time, under its lock): the lowest put issued to it since it began. */
  private readonly scans = new Map<string, { lowest: number }>();

  private constructor(
    private readonly db: ClassicLevel<string, StoredMessage>,
    private readonly options: BusOptions,
  ) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Opens (or creates) the bus in `directory`; what a killed process held in flight becomes visible again. */
  static async open(directory: string, options: BusOptions = {}): Promise<LocalBus> {
    const db = new ClassicLevel<string, StoredMessage>(directory, { valueEncoding: 'json' });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new Error(`cannot open the message bus in ${directory}: ${cause}`);
    }
    const bus = new LocalBus(db, options);
    await bus.releaseInFlight();
    return bus;
  }

  get location(): string {
    return this.db.location;
  }

  /** Declares a queue (every start: the configuration is code, the messages are stored). */
  declareQueue(name: string, options: QueueOptions = {}): void {
    if (!QUEUE_NAME.test(name)) throw new Error(`queue name ${JSON.stringify(name)}: letters, digits, - and _ only, at most 80`);
    const dl = options.deadLetter;
    if (dl) {
      if (!this.queues.has(dl.queue)) throw new Error(`queue ${name}: dead-letter queue ${dl.queue} is not declared`);
      if (!Number.isInteger(dl.maxReceiveCount) || dl.maxReceiveCount < 1) throw new Error(`queue ${name}: maxReceiveCount ${dl.maxReceiveCount} is not a positive integer`);
    }
    checkDelay(`queue ${name}: visibility timeout`, (options.visibilityTimeoutSeconds ?? 30) * 1000);
    this.queues.set(name, options);
  }

  /** Copies every publication on `topic` whose attributes match `filterPolicy` into `queue`. */
  subscribe(topic: string, queue: string, filterPolicy?: unknown): void {
    this.options_(queue);
    const policy = filterPolicy === undefined ? undefined : checkFilterPolicy(filterPolicy);
    const subs = this.subscriptions.get(topic) ?? [];
    subs.push({ queue, ...(policy ? { policy } : {}) });
    this.subscriptions.set(topic, subs);
  }

  /** Durable in every matching subscribed queue when it resolves; the queues it went to. */
  async publish(topic: string, publication: Publication): Promise<{ id: string; queues: string[] }> {
    const id = this.newId();
    const now = this.nowMs();
    const targets = (this.subscriptions.get(topic) ?? []).filter((s) => matchesFilterPolicy(s.policy, publication.attributes)).map((s) => s.queue);
    // What an SQS queue subscribed to an SNS topic receives (raw delivery off).
    const envelope = JSON.stringify({
      Type: 'Notification',
      MessageId: id,
      TopicArn: topic,
      Subject: publication.subject,
      Message: publication.message,
      Timestamp: new Date(now).toISOString(),
      MessageAttributes: Object.fromEntries(Object.entries(publication.attributes).map(([k, v]) => [k, { Type: v.DataType, Value: v.StringValue }])),
    });
    if (targets.length > 0) {
      await this.write(
        targets.map((queue) => ({ type: 'put' as const, key: messageKey(queue, now, id), value: { id, body: envelope, attributes: publication.attributes, receiveCount: 0, sentAtMs: now } })),
      );
      for (const queue of targets) this.wake(queue);
    }
    return { id, queues: targets };
  }

  /** Durable when it resolves; visible after `delayMs`. */
  async send(queue: string, body: string, opts: { delayMs?: number; attributes?: MessageAttributes } = {}): Promise<string> {
    this.options_(queue);
    const id = this.newId();
    const now = this.nowMs();
    const visibleAt = now + checkDelay('delay', opts.delayMs ?? 0);
    await this.write([{ type: 'put', key: messageKey(queue, visibleAt, id), value: { id, body, attributes: opts.attributes ?? {}, receiveCount: 0, sentAtMs: now } }]);
    this.wake(queue);
    return id;
  }

  /** Up to `max` visible messages, oldest first, each made invisible for the visibility timeout. */
  receive(queue: string, max = 10): Promise<BusMessage[]> {
    const options = this.options_(queue);
    return this.locked(queue, async () => {
      const now = this.nowMs();
      const pending = this.pendingPuts.get(queue);
      // Puts on their way to disk may land after the iterator's snapshot: the floor stays below them.
      const scan = { lowest: pending ? pending.lowest : Infinity };
      this.scans.set(queue, scan);
      try {
        return await this.receiveFrom(queue, options, now, max, scan);
      } finally {
        this.scans.delete(queue);
      }
    });
  }

  private async receiveFrom(queue: string, options: QueueOptions, now: number, max: number, scan: { lowest: number }): Promise<BusMessage[]> {
    const entries = await this.db.iterator({ gte: this.scanStart(queue), lt: `${queuePrefix(queue)}${pad(now + 1)}`, limit: max * 4 }).all();
    const ops: WriteOp[] = [];
    const received: BusMessage[] = [];
    const hidden = now + (options.visibilityTimeoutSeconds ?? 30) * 1000;
    const deadLettered: Array<{ stored: StoredMessage; dlq: string }> = [];
    // Below the first message left in the range, or the range's end when all of it was taken.
    let consumedBelow = entries.length < max * 4 ? now + 1 : undefined;
    for (const [key, stored] of entries) {
      if (received.length >= max) {
        consumedBelow = parseKey(key).visibleAtMs;
        break;
      }
      const receiveCount = stored.receiveCount + 1;
      ops.push({ type: 'del', key });
      const dl = options.deadLetter;
      if (dl && receiveCount > dl.maxReceiveCount) {
        // Its earlier receives were lost with a killed process: it has had its attempts.
        ops.push(this.deadLetterPut(queue, dl.queue, stored, now));
        deadLettered.push({ stored, dlq: dl.queue });
        continue;
      }
      const receipt = messageKey(queue, hidden, stored.id);
      ops.push({ type: 'put', key: receipt, value: { ...stored, receiveCount, inFlight: true } });
      received.push({ id: stored.id, body: stored.body, attributes: stored.attributes, receiveCount, sentAtMs: stored.sentAtMs, receipt });
    }
    if (ops.length > 0) await this.write(ops);
    // Every key of the scanned range below consumedBelow was deleted by this receive's write.
    if (consumedBelow !== undefined) this.floors.set(queue, Math.min(consumedBelow, scan.lowest));
    for (const d of deadLettered) this.reportDeadLetter(queue, d.dlq, d.stored);
    return received;
  }

  /** Delivered: deleted. A receipt that is no longer current (the message was received again since) is ignored. */
  ack(receipt: string): Promise<void> {
    return this.ackAll([receipt]);
  }

  /**
   * Delivered, each of them: deleted in one write per queue (one fsync for a consumer's
   * whole batch rather than one per message). A receipt names the key the message was
   * hidden under; one that is no longer current names no message (receiving again or
   * retrying moves it to another key), and deleting it does nothing: no read first.
   */
  async ackAll(receipts: readonly string[]): Promise<void> {
    const byQueue = new Map<string, WriteOp[]>();
    for (const receipt of receipts) {
      const { queue } = parseKey(receipt);
      this.options_(queue);
      const ops = byQueue.get(queue) ?? [];
      ops.push({ type: 'del', key: receipt });
      byQueue.set(queue, ops);
    }
    await Promise.all([...byQueue].map(([queue, ops]) => this.locked(queue, () => this.write(ops))));
  }

  /**
   * Not delivered: visible again after `delaySeconds`, or moved to the dead-letter queue at
   * once when it has had maxReceiveCount receives.
   */
  retryLater(receipt: string, delaySeconds: number): Promise<void> {
    const { queue } = parseKey(receipt);
    const options = this.options_(queue);
    const delayMs = checkDelay('retry delay', delaySeconds * 1000);
    return this.locked(queue, async () => {
      const stored = await this.db.get(receipt);
      if (stored === undefined) return;
      const now = this.nowMs();
      const dl = options.deadLetter;
      if (dl && stored.receiveCount >= dl.maxReceiveCount) {
        await this.write([{ type: 'del', key: receipt }, this.deadLetterPut(queue, dl.queue, stored, now)]);
        this.reportDeadLetter(queue, dl.queue, stored);
        return;
      }
      const visibleAt = now + delayMs;
      const { inFlight: _, ...rest } = stored;
      await this.write([{ type: 'del', key: receipt }, { type: 'put', key: messageKey(queue, visibleAt, stored.id), value: rest }]);
      this.wake(queue);
    });
  }

  /**
   * Resolves when a message of `queue` may have become visible (a send, a publication, a
   * delay or visibility timeout running out), or when `signal` aborts or the bus closes.
   */
  async waitForMessages(queue: string, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closed) return;
    // Every write to the queue bumps its version: one made while the next visibility time
    // is being read is not missed.
    const version = this.versions.get(queue) ?? 0;
    const next = await this.nextVisibleAt(queue);
    if ((this.versions.get(queue) ?? 0) !== version || signal.aborted || this.closed) return;
    await new Promise<void>((resolve) => {
      const wakers = this.wakers.get(queue) ?? new Set<() => void>();
      this.wakers.set(queue, wakers);
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      // Capped so that a change of the system clock is noticed within a minute.
      const timer = setTimeout(done, next === undefined ? 60_000 : Math.min(60_000, Math.max(0, next - this.nowMs())));
      wakers.add(done);
      signal.addEventListener('abort', done);
    });
  }

  /** Every stored message of `queue` (visible, delayed or in flight), oldest visibility first. */
  async list(queue: string): Promise<Array<Omit<BusMessage, 'receipt'> & { visibleAtMs: number; deadLetteredFrom?: string }>> {
    const entries = await this.db.iterator({ gte: queuePrefix(queue), lt: `${queuePrefix(queue)}~` }).all();
    return entries.map(([key, s]) => ({
      id: s.id,
      body: s.body,
      attributes: s.attributes,
      receiveCount: s.receiveCount,
      sentAtMs: s.sentAtMs,
      visibleAtMs: parseKey(key).visibleAtMs,
      ...(s.deadLetteredFrom ? { deadLetteredFrom: s.deadLetteredFrom } : {}),
    }));
  }

  /** How many messages each queue holds, declared or not (e.g. a channel removed from tocsin.yaml). */
  async sizes(): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    for await (const key of this.db.keys({ gte: 'q!', lt: 'q~' })) {
      const { queue } = parseKey(key);
      sizes.set(queue, (sizes.get(queue) ?? 0) + 1);
    }
    return sizes;
  }

  /** Whether the store answers (the sweeper's check that alerts can go out). */
  async probe(): Promise<void> {
    if (this.closed || this.db.status !== 'open') throw new Error(`the message bus in ${this.location} is ${this.closed ? 'closed' : this.db.status}`);
    await this.db.get('probe');
  }

  isDeclared(queue: string): boolean {
    return this.queues.has(queue);
  }

  /** Wakes every waiting consumer and closes the store once the operations under way are done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wakers of this.wakers.values()) for (const w of [...wakers]) w();
    await Promise.allSettled([...this.locks.values()]);
    await this.flushing;
    await this.db.close();
  }

  private options_(queue: string): QueueOptions {
    const options = this.queues.get(queue);
    if (!options) throw new Error(`queue ${queue} is not declared on the message bus`);
    return options;
  }

  /** Unique and increasing within a process, time-ordered across restarts. */
  private newId(): string {
    this.counter = (this.counter + 1) % 1_000_000;
    return `${pad(Date.now())}-${String(this.counter).padStart(6, '0')}-${randomBytes(3).toString('hex')}`;
  }

  private deadLetterPut(queue: string, deadLetterQueue: string, stored: StoredMessage, now: number) {
    const { inFlight: _, ...rest } = stored;
    return { type: 'put' as const, key: messageKey(deadLetterQueue, now, stored.id), value: { ...rest, deadLetteredFrom: queue } };
  }

  private reportDeadLetter(queue: string, deadLetterQueue: string, stored: StoredMessage): void {
    this.options.onDeadLetter?.({ queue, deadLetterQueue, id: stored.id, receiveCount: stored.receiveCount, body: stored.body });
    this.wake(deadLetterQueue);
  }

  /**
   * GROUP COMMIT: a write goes to LevelDB at once when none is under way; writes made
   * while one is (concurrent publishes, sends, receives) wait for it and then go together
   * as one batch, one fsync with `sync`. Each still resolves only once it is on disk, and
   * each caller's operations stay in order and atomic; no timer, no added wait when idle.
   * Under figure 6's load this turns one fsync per publish into one per group, and keeps
   * writers from holding libuv's pool threads (which dynalite's LevelDB reads share) while
   * LevelDB queues them behind each other's fsync.
   */
  private write(ops: WriteOp[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`the message bus in ${this.location} is closed`));
    const puts = this.issuePuts(ops);
    return new Promise<void>((resolve, reject) => {
      this.queuedWrites.push({
        ops,
        done: (err) => {
          this.settlePuts(puts);
          if (err) reject(err);
          else resolve();
        },
      });
      this.flushing ??= this.flush();
    });
  }

  /** Lowers the scan floor of every queue `ops` put a message in, before the write can land. */
  private issuePuts(ops: readonly WriteOp[]): string[] {
    const queues: string[] = [];
    for (const op of ops) {
      if (op.type !== 'put') continue;
      const { queue, visibleAtMs } = parseKey(op.key);
      const floor = this.floors.get(queue);
      if (floor !== undefined && visibleAtMs < floor) this.floors.set(queue, visibleAtMs);
      const pending = this.pendingPuts.get(queue);
      if (pending) {
        pending.count++;
        pending.lowest = Math.min(pending.lowest, visibleAtMs);
      } else this.pendingPuts.set(queue, { count: 1, lowest: visibleAtMs });
      const scan = this.scans.get(queue);
      if (scan) scan.lowest = Math.min(scan.lowest, visibleAtMs);
      queues.push(queue);
    }
    return queues;
  }

  private settlePuts(queues: readonly string[]): void {
    for (const queue of queues) {
      const pending = this.pendingPuts.get(queue);
      if (pending && --pending.count === 0) this.pendingPuts.delete(queue);
    }
  }

  /** Where a scan of `queue`'s messages starts: its floor (the range's start until a receive has raised it). */
  private scanStart(queue: string): string {
    return `${queuePrefix(queue)}${pad(this.floors.get(queue) ?? 0)}`;
  }

  private async flush(): Promise<void> {
    while (this.queuedWrites.length > 0) {
      const group = this.queuedWrites;
      this.queuedWrites = [];
      try {
        await this.db.batch(group.length === 1 ? group[0]!.ops : group.flatMap((w) => w.ops), { sync: this.options.sync ?? false });
        for (const w of group) w.done();
      } catch (err) {
        if (group.length === 1) group[0]!.done(err as Error);
        // One caller's bad write must not fail the others: each on its own, as without grouping.
        else for (const w of group) await this.db.batch(w.ops, { sync: this.options.sync ?? false }).then(() => w.done(), (e: Error) => w.done(e));
      }
    }
    this.flushing = undefined;
  }

  private locked<T>(queue: string, run: () => Promise<T>): Promise<T> {
    const before = this.locks.get(queue) ?? Promise.resolve();
    const result = before.then(run, run);
    const settled = result.catch(() => undefined);
    this.locks.set(queue, settled);
    void settled.then(() => {
      if (this.locks.get(queue) === settled) this.locks.delete(queue);
    });
    return result;
  }

  /** A write changed `queue`: its consumers look again (and wait for its next visibility time). */
  private wake(queue: string): void {
    this.versions.set(queue, (this.versions.get(queue) ?? 0) + 1);
    for (const w of [...(this.wakers.get(queue) ?? [])]) w();
  }

  private async nextVisibleAt(queue: string): Promise<number | undefined> {
    const [first] = await this.db.keys({ gte: this.scanStart(queue), lt: `${queuePrefix(queue)}~`, limit: 1 }).all();
    return first === undefined ? undefined : parseKey(first).visibleAtMs;
  }

  /** At open: messages received by a process that died before acknowledging them are visible now. */
  private async releaseInFlight(): Promise<void> {
    const now = this.nowMs();
    const ops: WriteOp[] = [];
    for await (const [key, stored] of this.db.iterator({ gte: 'q!', lt: 'q~' })) {
      if (!stored.inFlight) continue;
      const { inFlight: _, ...rest } = stored;
      ops.push({ type: 'del', key }, { type: 'put', key: messageKey(parseKey(key).queue, now, stored.id), value: rest });
    }
    if (ops.length > 0) await this.write(ops);
  }
}
