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
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DigestStore, StormGate } from '../app/delivery-ports';
import { STATE_TABLE } from '../commons/deployment';
import type { DigestTimer } from '../domain/rules/outbox';
import { BatchedWrites } from './dynamo-batched-writes';
import { chargedLevels, digestTimer, foldedOf, stormLevel, tallyFolds, windowStart, worstFirst, type FoldedAlert, type FoldTally } from '../domain/rules/storm';
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

export class DynamoStormGate implements StormGate {
  private readonly windows = new Map<string, WindowFacts>();
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
    const charged = chargedLevels(level);
    const facts = this.factsOf(cluster, channel, window);
    if (!facts.spent.has(level) && (await this.charge(pk, channel, window, level, charged, expires))) return { verdict: 'deliver' };
    charged.forEach((l) => facts.spent.add(l));
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

  /** domain/rules/storm.ts stormVerdict's charge, atomically; false when the level's budget is spent. */
  private async charge(pk: string, channel: string, window: number, level: Severity, charged: Severity[], expires: number): Promise<boolean> {
    const names: Record<string, string> = { '#ttl': TTL, '#level': sentAttribute(level) };
    charged.forEach((l, i) => (names[`#c${i}`] = sentAttribute(l)));
    try {
      await awsCall(this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: pk, [SK]: stormKeys.count(channel, window) },
          UpdateExpression: `ADD ${charged.map((_, i) => `#c${i} :one`).join(', ')} SET #ttl = if_not_exists(#ttl, :ttl)`,
          ConditionExpression: 'attribute_not_exists(#level) OR #level < :threshold',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':one': 1, ':ttl': expires, ':threshold': this.grouping.threshold },
        }),
      ));
      return true;
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // the level's budget is spent: fold
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
