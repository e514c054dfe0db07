/**
 * The alerts `npm start` published, as they are recorded in <data dir>/notifications.jsonl
 * (local/bus/recorder.ts), read continuously: when did each alert arrive? Woken by the file
 * system on every append (fs.watch), with a slow poll behind it in case an event is missed.
 */
import { watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { Alert } from '../../lambdas/domain/types';
import { NotificationLog } from '../../test/support/notifications';
import { nowMs } from './stats';

export interface Arrival {
  alert: Alert;
  /** performance-clock ms when the record was read. */
  at: number;
}

const FALLBACK_POLL_MS = 100;

export class NotificationsTail {
  readonly arrivals: Arrival[] = [];
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private waiters: Array<() => void> = [];

  private constructor(private readonly log: NotificationLog) {}

  /** From the end of the record as it is now; reading starts with start() (or at once when `start`). */
  static follow(dataDir: string, opts: { start?: boolean } = {}): NotificationsTail {
    const tail = new NotificationsTail(NotificationLog.of(dataDir));
    if (opts.start !== false) tail.start();
    return tail;
  }

  start(): void {
    if (this.poll) return;
    this.watcher = watch(dirname(this.log.file), () => this.read());
    this.poll = setInterval(() => this.read(), FALLBACK_POLL_MS);
    this.read();
  }

  private read(): void {
    const fresh = this.log.readNew();
    if (fresh.length === 0) return;
    const at = nowMs();
    for (const n of fresh) this.arrivals.push({ alert: n.alert, at });
    this.waiters.splice(0).forEach((w) => w());
  }

  /** Resolves once `count` alerts have arrived in total, or after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = nowMs() + timeoutMs;
    while (this.arrivals.length < count) {
      const left = deadline - nowMs();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    this.read();
  }
}
