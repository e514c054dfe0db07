/**
 * What `npm start` published, read from its record, <data dir>/notifications.jsonl (one line
 * per notification: local/bus/recorder.ts): how the tests observe alerts now that the runner
 * has no SNS topic to subscribe a queue to. Each reader starts at the end of the record (what
 * a queue subscribed now would see) and reads what is appended after; a line the recorder
 * repeated after a kill -9 (same messageId) is read once.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationRecord } from '../../local/bus/recorder';
import { LOCAL_NAMES } from '../../local/names';
import type { Alert } from '../../lambdas/domain/types';

export interface ReceivedNotification {
  alert: Alert;
  /** The alert as the SQS subscriber's Message read it (alertFromNotification takes it). */
  message: string;
  subject: string;
  channels: string[];
  attributes: Record<string, { Type: string; Value: string }>;
}

export class NotificationLog {
  private offset: number;
  private partial = '';
  private readonly seen = new Set<string>();

  /** `fromStart`: every notification recorded so far too. */
  constructor(
    readonly file: string,
    opts: { fromStart?: boolean } = {},
  ) {
    this.offset = opts.fromStart || !existsSync(file) ? 0 : statSync(file).size;
  }

  static of(dataDir: string, opts: { fromStart?: boolean } = {}): NotificationLog {
    return new NotificationLog(join(dataDir, LOCAL_NAMES.notificationsFile), opts);
  }

  /** What was appended since the last read (complete lines only). */
  readNew(): ReceivedNotification[] {
    if (!existsSync(this.file)) return [];
    const size = statSync(this.file).size;
    if (size <= this.offset) return [];
    const buf = Buffer.alloc(size - this.offset);
    const fd = openSync(this.file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const text = this.partial + buf.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const out: ReceivedNotification[] = [];
    for (const line of lines.filter(Boolean)) {
      const r = JSON.parse(line) as NotificationRecord;
      if (this.seen.has(r.messageId)) continue;
      this.seen.add(r.messageId);
      out.push({ alert: r.alert, message: JSON.stringify(r.alert), subject: r.subject, channels: r.channels, attributes: r.attributes });
    }
    return out;
  }

  /**
   * Everything recorded within `waitMs`, and on past it while notifications keep coming (a
   * burst on a loaded machine can take longer than the window; a cut-off one would leak
   * into the next test).
   */
  async drain(waitMs: number): Promise<ReceivedNotification[]> {
    const got: ReceivedNotification[] = [];
    const deadline = Date.now() + waitMs;
    const hardStop = deadline + 120_000;
    let lastNewAt = Date.now();
    while (Date.now() < hardStop) {
      const fresh = this.readNew();
      got.push(...fresh);
      if (fresh.length > 0) lastNewAt = Date.now();
      else if (Date.now() >= deadline && Date.now() - lastNewAt >= 500) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return got;
  }

  /** Reads until `count` notifications arrived (or `timeoutMs`), then `quietMs` more for extras. */
  async collect(count: number, timeoutMs: number, quietMs: number): Promise<ReceivedNotification[]> {
    const got: ReceivedNotification[] = [];
    const deadline = Date.now() + timeoutMs;
    let quietUntil = count === 0 ? Date.now() + quietMs : Number.POSITIVE_INFINITY;
    while (Date.now() < Math.min(deadline, quietUntil)) {
      got.push(...this.readNew());
      if (got.length >= count && quietUntil === Number.POSITIVE_INFINITY) quietUntil = Date.now() + quietMs;
      await new Promise((r) => setTimeout(r, 100));
    }
    return got;
  }
}
