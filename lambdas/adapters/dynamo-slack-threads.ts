/**
 * The Slack app mode's memory (channels/slack/threads.ts) in the state table, under
 * `pk = slack#<channel>`:
 *   thread#<episode>   claimant, claimedAt (ms), then channelId and ts of the parent message;
 *                      TTL THREAD_RETENTION_SECONDS after its last write
 *   step#<alertId>#<n> state "sending" | "done" of a notification's n-th Web API call; TTL
 *                      STEP_RETENTION_SECONDS
 * Every write that decides who posts is conditional, so that two pollers of one queue (or a
 * retry racing a late first attempt) cannot both post an episode's parent message.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SlackThread, SlackThreadStore, StepMark, ThreadClaim } from '../../channels/slack/threads';
import { STEP_RETENTION_SECONDS, THREAD_RETENTION_SECONDS } from '../../channels/slack/threads';
import { SLACK_STATE_PARTITION_PREFIX, STATE_TABLE } from '../commons/deployment';
import { awsCall } from './aws-errors';

/**
 * A failed condition, by the error's name (as dynamo-state-store's isConditionFailure also
 * checks): importing that module would bring the subject store into the CLI, which loads
 * the channel kinds to read tocsin.yaml.
 */
function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string }).name === 'ConditionalCheckFailedException';
}

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;
const TTL = STATE_TABLE.ttlAttribute;

const slackKeys = {
  partition: (channel: string) => `${SLACK_STATE_PARTITION_PREFIX}${channel}`,
  thread: (episode: string) => `thread#${episode}`,
  step: (step: string) => `step#${step}`,
};

const expiresAt = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

export class DynamoSlackThreads implements SlackThreadStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(channel: string, sk: string) {
    return { [PK]: slackKeys.partition(channel), [SK]: sk };
  }

  async claimThread(channel: string, episode: string, claimant: string, nowMs: number): Promise<ThreadClaim> {
    try {
      await awsCall(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.key(channel, slackKeys.thread(episode)), claimant, claimedAt: nowMs, [TTL]: expiresAt(THREAD_RETENTION_SECONDS) },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      );
      return { kind: 'claimed' };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const item = await this.readThread(channel, episode);
    if (!item) return this.claimThread(channel, episode, claimant, nowMs); // released meanwhile
    if (typeof item.ts === 'string' && typeof item.channelId === 'string') return { kind: 'thread', thread: { channelId: item.channelId, ts: item.ts }, postedBy: String(item.claimant ?? '') };
    return { kind: 'pending', claimedBy: String(item.claimant ?? ''), claimedAtMs: Number(item.claimedAt ?? 0) };
  }

  async takeOverThread(channel: string, episode: string, from: string, claimant: string, nowMs: number): Promise<boolean> {
    try {
      await awsCall(
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: this.key(channel, slackKeys.thread(episode)),
            UpdateExpression: 'SET claimant = :me, claimedAt = :now',
            ConditionExpression: 'claimant = :from AND attribute_not_exists(ts)',
            ExpressionAttributeValues: { ':me': claimant, ':now': nowMs, ':from': from },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async setThread(channel: string, episode: string, claimant: string, thread: SlackThread): Promise<void> {
    await awsCall(
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(channel, slackKeys.thread(episode)), claimant, channelId: thread.channelId, ts: thread.ts, [TTL]: expiresAt(THREAD_RETENTION_SECONDS) },
        }),
      ),
    );
  }

  async releaseThread(channel: string, episode: string, claimant: string): Promise<void> {
    try {
      await awsCall(
        this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: this.key(channel, slackKeys.thread(episode)),
            ConditionExpression: 'claimant = :me AND attribute_not_exists(ts)',
            ExpressionAttributeValues: { ':me': claimant },
          }),
        ),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err; // someone else's claim or a posted thread: keep it
    }
  }

  async getThread(channel: string, episode: string): Promise<SlackThread | undefined> {
    const item = await this.readThread(channel, episode);
    return item && typeof item.ts === 'string' && typeof item.channelId === 'string' ? { channelId: item.channelId, ts: item.ts } : undefined;
  }

  private async readThread(channel: string, episode: string): Promise<Record<string, unknown> | undefined> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(channel, slackKeys.thread(episode)), ConsistentRead: true })));
    return out.Item;
  }

  async claimStep(channel: string, step: string): Promise<'claimed' | StepMark> {
    try {
      await awsCall(
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...this.key(channel, slackKeys.step(step)), state: 'sending', [TTL]: expiresAt(STEP_RETENTION_SECONDS) },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PK },
          }),
        ),
      );
      return 'claimed';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: this.key(channel, slackKeys.step(step)), ConsistentRead: true })));
    if (!out.Item) return this.claimStep(channel, step);
    return out.Item.state === 'done' ? 'done' : 'sending';
  }

  async finishStep(channel: string, step: string): Promise<void> {
    await awsCall(
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...this.key(channel, slackKeys.step(step)), state: 'done', [TTL]: expiresAt(STEP_RETENTION_SECONDS) } })),
    );
  }

  async releaseStep(channel: string, step: string): Promise<void> {
    await awsCall(this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(channel, slackKeys.step(step)) })));
  }
}
