/**
 * Storm grouping's DynamoDB items, in the state table under the cluster's partition
 * (`pk = cluster#<c>`):
 *   storm#<channel>#<window>           per severity level, notifications at least that severe
 *                                      sent one by one in the window (sent_info, sent_warning,
 *                                      sent_critical); the admit rule is its update's condition
 *   fold#<channel>#<window>#<alertId>  one notification folded into the window's digest
 *   digest#<channel>#<window>          the digest's "scheduled" / "sent" marks and its sender's claim
 * They live for a day (TTL).
 *
 * In a storm most notifications fold, and each fold used to cost three calls: the counter
 * update that fails its condition, the fold item, the digest mark that fails its condition.
 * Both failures are facts that stay true for the rest of the window (the counters only
 * grow; the mark is only removed by this process when its timer could not be scheduled),
 * so the gate remembers them per (cluster, channel) for the current window and skips the
 * calls, and fold items go out in shared BatchWriteItem calls: a fold then costs 1/16 to
 * 1/25 of a call (docs/ARCHITECTURE.md "Storm grouping", "Mass outage").
 *
 * Below the budget every delivered notification used to cost its own counter update. The
 * admits of one (cluster, channel, window) that arrive while its counter update is in
 * flight now wait for it and then share the next one: one update adds n, under the
 * condition that all n go out one by one, most severe first (domain groupCharge). When
 * that fails (the budget ends inside the group), the group is admitted one by one as
 * separate dispatches would be: exactly as many go out as the budget allows, the most
 * severe first, the rest fold. A crash loses nothing: the update is atomic, and a dispatch
 * not answered is retried from its outbox entry, as before.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DigestStore, StormGate } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { DigestTimer } from '../domain/rules/outbox';
import { BatchedWrites } from './dynamo-batched-writes';
import { chargedLevels, digestTimer, foldedOf, groupCharge, mostSevereFirst, stormLevel, tallyFolds, windowStart, worstFirst, type FoldedAlert, type FoldTally, type StormSent } from '../domain/rules/storm';
import type { GroupingSpec } from '../domain/rules/types';
import type { Alert, Severity } from '../domain/types';
import { isConditionFailure, keys } from './dynamo-state-store';
import { awsCall } from './aws-errors';
import { queryPages } from './dynamo-query';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;
const GROUPING_RETENTION_SECONDS = 24 * 3600;

const stormKeys = {
  count: (channel: string, window: number) => `storm#${channel}#${window}`,
  foldPrefix: (channel: string, window: number) => `fold#${channel}#${window}#`,
  digest: (channel: string, window: number) => `digest#${channel}#${window}`,
};

/** The counter item's attribute for a level's budget. */
const sentAttribute = (level: string) => `sent_${level}`;

/** Folded notifications kept in memory while reading a window, before cutting to the worst. */
const FOLD_READ_SLACK = 4;

/** What this process learnt of a (cluster, channel)'s current window; both only ever become true in it. */
interface WindowFacts {
  window: number;
  /** Levels whose budget is spent (a spent level's lower levels are spent too: they are charged with it). */
  spent: Set<Severity>;
  /** The digest's "scheduled" mark is set. */
  scheduled: boolean;
}

/** An admit waiting for its window's counter update. */
interface WaitingCharge {
  alert: Pick<Alert, 'severity' | 'state'>;
  expires: number;
  resolve(delivered: boolean): void;
  reject(err: unknown): void;
}

/** The admits of one (cluster, channel, window): at most one counter update in flight, the others wait to share the next. */
interface ChargeLine {
  waiting: WaitingCharge[];
  busy: boolean;
}

export class DynamoStormGate implements StormGate {
  private readonly windows = new Map<string, WindowFacts>();
  private readonly lines = new Map<string, ChargeLine>();
  private readonly folds: BatchedWrites;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly grouping: GroupingSpec,
    /** Shared with the table's other batched writers (aws-ports.ts): folds and index entries of one moment share calls. */
    folds?: BatchedWrites,
  ) {
    this.folds = folds ?? new BatchedWrites(doc, tableName);
  }

  /** The facts of (cluster, channel)'s window; one entry per pair, replaced when the window moves on. */
  private factsOf(cluster: string, channel: string, window: number): WindowFacts {
    const key = `${cluster}\u0000${channel}`;
    let facts = this.windows.get(key);
    if (!facts || facts.window !== window) {
      facts = { window, spent: new Set(), scheduled: false };
      this.windows.set(key, facts);
    }
    return facts;
  }

  async admit(cluster: string, channel: string, alert: Alert, nowMs: number): Promise<{ verdict: 'deliver' } | { verdict: 'fold'; digest?: DigestTimer }> {
    const window = windowStart(nowMs, this.grouping);
    const pk = keys.cluster(cluster);
    const expires = Math.floor(nowMs / 1000) + GROUPING_RETENTION_SECONDS;
    // domain/rules/storm.ts stormVerdict, atomically: deliver while fewer than `threshold`
    // notifications at least as severe went out one by one, and charge every level up to it.
    const level = stormLevel(alert);
    const facts = this.factsOf(cluster, channel, window);
    if (!facts.spent.has(level) && (await this.charge(pk, channel, window, facts, alert, expires))) return { verdict: 'deliver' };
    chargedLevels(level).forEach((l) => facts.spent.add(l));
    // Keyed by the alert's id: a retry rewrites the same item, so an unconditional (batched) put is enough.
    await this.folds.put({ [PK]: pk, [SK]: `${stormKeys.foldPrefix(channel, window)}${alert.id}`, folded: foldedOf(alert), [TTL]: expires });
    if (facts.scheduled) return { verdict: 'fold' };
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: pk, [SK]: stormKeys.digest(channel, window) },
          UpdateExpression: 'SET scheduled = :t, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(scheduled)',
          ExpressionAttributeNames: { '#ttl': TTL },
          ExpressionAttributeValues: { ':t': true, ':ttl': expires },
        }),
      ));
      facts.scheduled = true;
      return { verdict: 'fold', digest: digestTimer(cluster, channel, window, this.grouping) };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      facts.scheduled = true;
      return { verdict: 'fold' };
    }
  }

  foldsForSure(cluster: string, channel: string, alert: Alert, nowMs: number): boolean {
    const facts = this.windows.get(`${cluster}\u0000${channel}`);
    return facts !== undefined && facts.window === windowStart(nowMs, this.grouping) && facts.scheduled && facts.spent.has(stormLevel(alert));
  }

  async foldAhead(cluster: string, channel: string, alert: Alert, nowMs: number): Promise<void> {
    const window = windowStart(nowMs, this.grouping);
    const expires = Math.floor(nowMs / 1000) + GROUPING_RETENTION_SECONDS;
    await this.folds.put({ [PK]: keys.cluster(cluster), [SK]: `${stormKeys.foldPrefix(channel, window)}${alert.id}`, folded: foldedOf(alert), [TTL]: expires });
  }

  /**
   * domain/rules/storm.ts stormVerdict's charge, atomically; false when the level's budget
   * is spent. Shares the counter update with the admits of the same window in flight.
   */
  private charge(pk: string, channel: string, window: number, facts: WindowFacts, alert: Alert, expires: number): Promise<boolean> {
    const key = `${pk}\u0000${channel}\u0000${window}`;
    let line = this.lines.get(key);
    if (!line) {
      line = { waiting: [], busy: false };
      this.lines.set(key, line);
    }
    const waiting = line.waiting;
    const answer = new Promise<boolean>((resolve, reject) => waiting.push({ alert, expires, resolve, reject }));
    if (!line.busy) void this.drain(key, line, pk, channel, window, facts);
    return answer;
  }

  /** One counter update at a time per line; whatever queued meanwhile goes in the next. */
  private async drain(key: string, line: ChargeLine, pk: string, channel: string, window: number, facts: WindowFacts): Promise<void> {
    line.busy = true;
    await new Promise((r) => setImmediate(r)); // admits of this moment (one snapshot's subjects) join the first update too
    while (line.waiting.length > 0) {
      const group = line.waiting.splice(0);
      try {
        await this.chargeGroup(pk, channel, window, facts, group);
      } catch (err) {
        group.forEach((c) => c.reject(err)); // no effect on those already answered
      }
    }
    line.busy = false;
    this.lines.delete(key);
  }

  private async chargeGroup(pk: string, channel: string, window: number, facts: WindowFacts, group: WaitingCharge[]): Promise<void> {
    const open = group.filter((c) => {
      if (!facts.spent.has(stormLevel(c.alert))) return true;
      c.resolve(false); // learnt spent by an update of this line meanwhile
      return false;
    });
    if (open.length === 0) return;
    const together = groupCharge(open.map((c) => c.alert), this.grouping.threshold);
    if (together && (await this.update(pk, channel, window, together, Math.max(...open.map((c) => c.expires))))) {
      open.forEach((c) => c.resolve(true));
      return;
    }
    // The budget ends inside the group: one by one, most severe first, as separate
    // dispatches would; the first refusal of a level tells the rest of it (and below) to fold.
    for (const c of open.sort((a, b) => mostSevereFirst(a.alert, b.alert))) {
      const level = stormLevel(c.alert);
      const alone = facts.spent.has(level) ? undefined : groupCharge([c.alert], this.grouping.threshold);
      const delivered = alone !== undefined && (await this.update(pk, channel, window, alone, c.expires));
      if (!delivered) chargedLevels(level).forEach((l) => facts.spent.add(l));
      c.resolve(delivered);
    }
  }

  /** Adds `add` to the window's counters if every level in `atMost` is at most that; false when not (condition failed). */
  private async update(pk: string, channel: string, window: number, charge: { add: StormSent; atMost: StormSent }, expires: number): Promise<boolean> {
    const names: Record<string, string> = { '#ttl': TTL };
    const values: Record<string, number> = { ':ttl': expires };
    const adds: string[] = [];
    const conditions: string[] = [];
    for (const [level, n] of Object.entries(charge.add)) {
      names[`#${level}`] = sentAttribute(level);
      values[`:add_${level}`] = n;
      adds.push(`#${level} :add_${level}`);
    }
    for (const [level, most] of Object.entries(charge.atMost)) {
      values[`:most_${level}`] = most;
      conditions.push(`(attribute_not_exists(#${level}) OR #${level} <= :most_${level})`);
    }
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: pk, [SK]: stormKeys.count(channel, window) },
          UpdateExpression: `ADD ${adds.join(', ')} SET #ttl = if_not_exists(#ttl, :ttl)`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ));
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // a level's budget would be exceeded
      return false;
    }
  }

  async digestNotScheduled(timer: DigestTimer): Promise<void> {
    this.factsOf(timer.cluster, timer.channel, timer.window).scheduled = false;
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) },
        UpdateExpression: 'REMOVE scheduled',
      }),
    ));
  }
}

/** What the digest worker reads and marks. */
export class DynamoDigestStore implements DigestStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The `limit` worst folded notifications (domain worstFirst), how many there are in all, and their tally. */
  async folded(timer: DigestTimer, limit: number): Promise<{ items: FoldedAlert[]; total: number; tally: FoldTally }> {
    const base = {
      TableName: this.tableName,
      KeyConditionExpression: `${PK} = :pk AND begins_with(${SK}, :prefix)`,
      ExpressionAttributeValues: { ':pk': keys.cluster(timer.cluster), ':prefix': stormKeys.foldPrefix(timer.channel, timer.window) },
      ConsistentRead: true,
    };
    let items: FoldedAlert[] = [];
    let total = 0;
    const tally = new FoldCounter();
    for await (const page of queryPages(this.doc, base)) {
      for (const item of page) {
        total++;
        tally.add(item.folded as FoldedAlert);
        items.push(item.folded as FoldedAlert);
        if (items.length >= limit * FOLD_READ_SLACK) items = items.sort(worstFirst).slice(0, limit);
      }
    }
    return { items: items.sort(worstFirst).slice(0, limit), total, tally: tally.result() };
  }

  async wasSent(timer: DigestTimer): Promise<boolean> {
    const out = await awsCall(this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) }, ConsistentRead: true }),
    ));
    return out.Item?.sent === true;
  }

  async claim(timer: DigestTimer, nowMs: number, leaseMs: number): Promise<boolean> {
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) },
          UpdateExpression: 'SET claimedUntil = :until',
          ConditionExpression: 'attribute_not_exists(sent) AND (attribute_not_exists(claimedUntil) OR claimedUntil < :now)',
          ExpressionAttributeValues: { ':until': nowMs + leaseMs, ':now': nowMs },
        }),
      ));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async markSent(timer: DigestTimer): Promise<void> {
    await awsCall(this.doc.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { [PK]: keys.cluster(timer.cluster), [SK]: stormKeys.digest(timer.channel, timer.window) },
        UpdateExpression: 'SET sent = :t',
        ExpressionAttributeValues: { ':t': true },
      }),
    ));
  }
}

/** tallyFolds over a window read page by page, keeping only what it counts (state, severity, node). */
class FoldCounter {
  private readonly seen: Array<Pick<FoldedAlert, 'state' | 'severity' | 'node'>> = [];
  add(f: FoldedAlert): void {
    this.seen.push({ state: f.state, severity: f.severity, node: f.node });
  }
  result(): FoldTally {
    return tallyFolds(this.seen);
  }
}
