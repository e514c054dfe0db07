/**
 * What the Slack app mode remembers (the port; DynamoDB adapter in dynamo-threads.ts, the
 * same code deployed and under `npm start`, where the state table is dynalite's):
 *   the thread of an episode per channel: the parent message's `ts` and channel ID, claimed
 *   by the notification that posts it before it posts (record-before-post);
 *   a mark per Web API call of a notification ("sending", then "done"), so that a retried
 *   notification skips the calls that took effect.
 * Items are small and bounded: one per (channel, episode) and per call, each with a TTL.
 */

export interface SlackThread {
  /** Slack's channel ID (C..., as chat.postMessage answered). */
  channelId: string;
  ts: string;
}

export type ThreadClaim =
  /** Nobody had it: post the parent now, then `setThread` (or `releaseThread` if it surely failed). */
  | { kind: 'claimed' }
  /** The parent is posted, by the notification `postedBy`. */
  | { kind: 'thread'; thread: SlackThread; postedBy: string }
  /** Claimed by `claimedBy` at `claimedAtMs`, not (yet) posted. */
  | { kind: 'pending'; claimedBy: string; claimedAtMs: number };

export type StepMark = 'sending' | 'done';

export interface SlackThreadStore {
  /** Claims the episode's thread for `claimant` (a notification id), or says who has it. */
  claimThread(channel: string, episode: string, claimant: string, nowMs: number): Promise<ThreadClaim>;
  /** Takes over a claim left by `from` (a crashed sender); false if the item changed meanwhile. */
  takeOverThread(channel: string, episode: string, from: string, claimant: string, nowMs: number): Promise<boolean>;
  setThread(channel: string, episode: string, claimant: string, thread: SlackThread): Promise<void>;
  /** Drops `claimant`'s claim (the post surely failed): another notification may claim again. */
  releaseThread(channel: string, episode: string, claimant: string): Promise<void>;
  getThread(channel: string, episode: string): Promise<SlackThread | undefined>;
  /** The call's mark, set to "sending" when it had none. */
  claimStep(channel: string, step: string): Promise<'claimed' | StepMark>;
  finishStep(channel: string, step: string): Promise<void>;
  releaseStep(channel: string, step: string): Promise<void>;
}

/** A thread is remembered this long after its last message (an episode longer than that starts a new one). */
export const THREAD_RETENTION_SECONDS = 30 * 24 * 3600;
/** Call marks only matter while the notification may be retried (SQS keeps it 4 days at most). */
export const STEP_RETENTION_SECONDS = 4 * 24 * 3600;
/** A claim older than this without a post is taken over (its sender died); younger, the notification waits. */
export const THREAD_CLAIM_STALE_MS = 2 * 60 * 1000;

/** In memory: for unit tests only (npm start uses dynalite through the DynamoDB adapter). */
export class MemorySlackThreads implements SlackThreadStore {
  readonly threads = new Map<string, { claimant: string; claimedAtMs: number; thread?: SlackThread }>();
  readonly steps = new Map<string, StepMark>();

  async claimThread(channel: string, episode: string, claimant: string, nowMs: number): Promise<ThreadClaim> {
    const key = `${channel}#${episode}`;
    const item = this.threads.get(key);
    if (!item) {
      this.threads.set(key, { claimant, claimedAtMs: nowMs });
      return { kind: 'claimed' };
    }
    return item.thread ? { kind: 'thread', thread: item.thread, postedBy: item.claimant } : { kind: 'pending', claimedBy: item.claimant, claimedAtMs: item.claimedAtMs };
  }

  async takeOverThread(channel: string, episode: string, from: string, claimant: string, nowMs: number): Promise<boolean> {
    const item = this.threads.get(`${channel}#${episode}`);
    if (!item || item.thread || item.claimant !== from) return false;
    this.threads.set(`${channel}#${episode}`, { claimant, claimedAtMs: nowMs });
    return true;
  }

  async setThread(channel: string, episode: string, claimant: string, thread: SlackThread): Promise<void> {
    this.threads.set(`${channel}#${episode}`, { claimant, claimedAtMs: 0, thread });
  }

  async releaseThread(channel: string, episode: string, claimant: string): Promise<void> {
    const item = this.threads.get(`${channel}#${episode}`);
    if (item && !item.thread && item.claimant === claimant) this.threads.delete(`${channel}#${episode}`);
  }

  async getThread(channel: string, episode: string): Promise<SlackThread | undefined> {
    return this.threads.get(`${channel}#${episode}`)?.thread;
  }

  async claimStep(channel: string, step: string): Promise<'claimed' | StepMark> {
    const mark = this.steps.get(`${channel}#${step}`);
    if (mark) return mark;
    this.steps.set(`${channel}#${step}`, 'sending');
    return 'claimed';
  }

  async finishStep(channel: string, step: string): Promise<void> {
    this.steps.set(`${channel}#${step}`, 'done');
  }

  async releaseStep(channel: string, step: string): Promise<void> {
    this.steps.delete(`${channel}#${step}`);
  }
}
