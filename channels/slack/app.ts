/**
 * Slack as an app (a bot token and the Web API): one thread per alert episode and channel.
 *   first notification of an episode  chat.postMessage; its ts and channel are remembered
 *   reminder                          chat.postMessage in the thread (thread_ts)
 *   severity change                   chat.update of the parent (colour, status) + a thread reply
 *   resolved                          chat.update of the parent (green, resolved) + a thread reply
 *   no episode (events, digests), or its thread forgotten: a message of its own
 *
 * Exactly once, as far as Slack allows (chat.postMessage has no idempotency key): the parent
 * is claimed in the store before it is posted, and each call of a notification is marked
 * "sending" before and "done" after it; a retried notification skips the calls marked done.
 * A call whose answer was lost (a timeout, a dropped connection after Slack took it) stays
 * "sending" and is made again on retry: the one case that can post twice. A call Slack
 * surely refused or never took (an ok:false answer, 429, 5xx) drops its mark at once.
 */
import type { SendResponse } from '../../lambdas/app/channel-delivery';
import type { Logger } from '../../lambdas/app/runtime';
import type { ChannelSecrets } from '../queue-delivered/secrets';
import { withActionButtons } from './actions';
import type { SlackPayload } from './payload';
import { THREAD_CLAIM_STALE_MS, type SlackThread, type SlackThreadStore } from './threads';
import { callSlack, classifySlackAnswer, SLACK_API_URL, type SlackAnswer, type SlackMethod, type SlackOutcome } from './web-api';

/** One Web API call of a notification. */
export type SlackCall =
  | { method: 'chat.postMessage'; role: 'parent' | 'reply' | 'single'; body: Record<string, unknown> }
  | { method: 'chat.update'; role: 'update'; body: Record<string, unknown> };

export interface SlackAppChannel {
  /** Slack's channel ID (C..., G...). */
  channel: string;
  apiUrl?: string;
}

/** What the calls of a notification are, given the episode's thread (if any). */
export function planSlackCalls(payload: SlackPayload, channelId: string, thread: SlackThread | undefined): SlackCall[] {
  const { alert } = payload;
  const plain = { text: payload.message.text, attachments: payload.message.attachments };
  // The episode's parent message carries the action buttons while it fires (actions.ts); thread replies and resolutions none.
  const withButtons = alert.state === 'firing' && alert.episode && alert.cluster ? withActionButtons(payload.message, { cluster: alert.cluster, episode: alert.episode }) : payload.message;
  const message = { text: withButtons.text, attachments: withButtons.attachments };
  if (!alert.episode) return [{ method: 'chat.postMessage', role: 'single', body: { channel: channelId, ...message, unfurl_links: false } }];
  if (!thread) {
    // A resolution whose thread is forgotten (TTL, or its parent went to the DLQ) stands alone.
    if (alert.state === 'resolved') return [{ method: 'chat.postMessage', role: 'single', body: { channel: channelId, ...message, unfurl_links: false } }];
    return [{ method: 'chat.postMessage', role: 'parent', body: { channel: channelId, ...message, unfurl_links: false } }];
  }
  const reply: SlackCall = { method: 'chat.postMessage', role: 'reply', body: { channel: thread.channelId, thread_ts: thread.ts, ...plain, unfurl_links: false } };
  if (alert.state === 'firing' && alert.reminder) return [reply];
  return [{ method: 'chat.update', role: 'update', body: { channel: thread.channelId, ts: thread.ts, ...message } }, reply];
}

interface AppSenderDeps {
  channels: Readonly<Record<string, SlackAppChannel>>;
  tokens: ChannelSecrets;
  threads: SlackThreadStore;
  nowMs: () => number;
  sleep: (ms: number) => Promise<void>;
  /** At least this long between two chat.postMessage calls of this process to one Slack channel (Slack: ≈1/s). */
  postIntervalMs: number;
  timeoutMs?: number;
  logger?: Logger;
  /** Test seam: the HTTP call. */
  call?: (apiUrl: string, token: string, method: SlackMethod, body: Record<string, unknown>, timeoutMs: number) => Promise<SlackAnswer>;
}

/** What a notification's delivery answers, in the channel worker's terms. */
function asResponse(outcome: Exclude<SlackOutcome, { kind: 'ok' }>): SendResponse {
  switch (outcome.kind) {
    case 'ratelimited':
      return { status: 429, ...(outcome.retryAfter !== undefined ? { retryAfter: outcome.retryAfter } : {}), body: outcome.reason };
    case 'retry':
      return { status: 503, body: outcome.reason };
    case 'permanent':
      return { status: 400, body: outcome.reason, permanent: true };
  }
}

export class SlackAppSender {
  private readonly lastPost = new Map<string, number>();

  constructor(private readonly deps: AppSenderDeps) {}

  private channel(name: string): SlackAppChannel {
    const ch = this.deps.channels[name];
    if (!ch) throw new Error(`no Slack app channel ${name}`);
    return ch;
  }

  /** Slack limits chat.postMessage per channel: pacing is per API and channel ID. */
  destinationOf(name: string): string {
    const ch = this.channel(name);
    return `${ch.apiUrl ?? SLACK_API_URL}#${ch.channel}`;
  }

  async send(payload: SlackPayload, name: string): Promise<SendResponse> {
    const ch = this.channel(name);
    const { threads } = this.deps;
    const { alert } = payload;
    let thread: SlackThread | undefined;
    let ownsParent = false;
    if (alert.episode) {
      const claim = await threads.claimThread(name, alert.episode, alert.id, this.deps.nowMs());
      // A second delivery of the notification that posted the parent (SNS and SQS deliver at least once): done.
      if (claim.kind === 'thread' && claim.postedBy === alert.id) return { status: 200 };
      if (claim.kind === 'thread') thread = claim.thread;
      else if (claim.kind === 'claimed') ownsParent = alert.state !== 'resolved';
      else if (claim.claimedBy === alert.id) ownsParent = true; // our own earlier attempt, its answer lost
      else if (this.deps.nowMs() - claim.claimedAtMs < THREAD_CLAIM_STALE_MS) {
        // The parent is being posted by another notification: come back once it has its ts.
        return { status: 503, body: 'the episode\'s first Slack message is being posted; retried after it' };
      } else if (await threads.takeOverThread(name, alert.episode, claim.claimedBy, alert.id, this.deps.nowMs())) {
        this.deps.logger?.error('slack: took over a stale thread claim (its sender died); the parent may be posted twice', { channel: name, episode: alert.episode });
        ownsParent = true;
      } else {
        return { status: 503, body: 'the episode\'s Slack thread changed meanwhile; retried' };
      }
      // A resolution that claimed a thread nobody posted stands alone: give the claim back.
      if (claim.kind === 'claimed' && alert.state === 'resolved') await threads.releaseThread(name, alert.episode, alert.id);
    }
    const calls = planSlackCalls(payload, ch.channel, thread);
    for (const [index, call] of calls.entries()) {
      const failed = await this.run(name, ch, payload, call, index, ownsParent);
      if (failed) return failed;
    }
    return { status: 200 };
  }

  /** One call with its mark; undefined when done (now or before), else the failure. */
  private async run(name: string, ch: SlackAppChannel, payload: SlackPayload, call: SlackCall, index: number, ownsParent: boolean): Promise<SendResponse | undefined> {
    const { threads, logger } = this.deps;
    const { alert } = payload;
    const parent = call.role === 'parent' && ownsParent && alert.episode;
    // The parent's mark is its thread claim; other calls have their own.
    const step = `${alert.id}#${index}`;
    if (!parent) {
      const mark = await threads.claimStep(name, step);
      if (mark === 'done') return undefined;
      if (mark === 'sending') logger?.error('slack: retrying a call whose answer was lost; it may show twice', { channel: name, alert: alert.id, method: call.method });
    }
    const token = await this.deps.tokens.secretOf(name);
    if (call.method === 'chat.postMessage') await this.pace(`${ch.apiUrl ?? SLACK_API_URL}#${String(call.body.channel)}`);
    let answer: SlackAnswer;
    try {
      answer = await (this.deps.call ?? callSlack)(ch.apiUrl ?? SLACK_API_URL, token, call.method, call.body, this.deps.timeoutMs ?? 10_000);
    } catch (err) {
      // Unknown whether Slack took it: the mark (or claim) stays, the retry posts again.
      throw new Error(`${call.method}: ${(err as Error).message} (answer lost)`, { cause: err });
    }
    const outcome = classifySlackAnswer(call.method, answer);
    if (outcome.kind === 'ok') {
      if (parent) await threads.setThread(name, alert.episode as string, alert.id, { channelId: outcome.channel, ts: outcome.ts });
      else await threads.finishStep(name, step);
      return undefined;
    }
    if (call.method === 'chat.update' && outcome.kind === 'permanent' && ['message_not_found', 'cant_update_message', 'edit_window_closed'].includes(outcome.error)) {
      // The parent was deleted or can no longer be edited: the thread reply still says it.
      logger?.info('slack: parent message not updated', { channel: name, alert: alert.id, error: outcome.error });
      await threads.finishStep(name, step);
      return undefined;
    }
    if (parent) await threads.releaseThread(name, alert.episode as string, alert.id);
    else await threads.releaseStep(name, step);
    return asResponse(outcome);
  }

  private async pace(key: string): Promise<void> {
    const wait = (this.lastPost.get(key) ?? 0) + this.deps.postIntervalMs - this.deps.nowMs();
    if (wait > 0) await this.deps.sleep(wait);
    this.lastPost.set(key, this.deps.nowMs());
  }
}
