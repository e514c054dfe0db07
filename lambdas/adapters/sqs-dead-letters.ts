/**
 * The channel worker's "to the dead-letter queue now" (app/channel-delivery.ts `deadLetter`):
 * a notification the far end refused for good is sent to the dead-letter queue of its
 * queue's redrive policy, unchanged (an SQS DLQ redrive can move it back), with the reason
 * as the DEAD_LETTER_REASON_ATTRIBUTE message attribute. Each queue's DLQ is read from its
 * RedrivePolicy once per process (no environment per channel: Lambda's 4 KB).
 */
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_REASON_ATTRIBUTE } from '../commons/deployment';
import { awsCall } from './aws-errors';

/** SQS message attribute values count toward the 256 KB message; a reason is short, cut anyway. */
const MAX_REASON_CHARS = 4000;

export class SqsDeadLetters {
  private readonly deadLetterUrls = new Map<string, Promise<string>>();

  constructor(
    private readonly sqs: SQSClient,
    /** A queue's URL from its ARN. */
    private readonly queueUrlOf: (arn: string) => string,
  ) {}

  /** Sends `body` to the DLQ of the queue `queueArn` with `reason`; throws if it could not. */
  async send(queueArn: string, body: string, reason: string): Promise<void> {
    const QueueUrl = await this.deadLetterUrlOf(queueArn);
    await awsCall(
      this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body, MessageAttributes: { [DEAD_LETTER_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: reason.slice(0, MAX_REASON_CHARS) } } })),
    );
  }

  private deadLetterUrlOf(queueArn: string): Promise<string> {
    let url = this.deadLetterUrls.get(queueArn);
    if (!url) {
      url = awsCall(this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrlOf(queueArn), AttributeNames: ['RedrivePolicy'] }))).then((out) => {
        const target = (JSON.parse(out.Attributes?.RedrivePolicy ?? '{}') as { deadLetterTargetArn?: string }).deadLetterTargetArn;
        if (!target) throw new Error(`queue ${queueArn} has no redrive policy: no dead-letter queue to send to`);
        return this.queueUrlOf(target);
      });
      // A failed lookup is tried again next time.
      url.catch(() => this.deadLetterUrls.delete(queueArn));
      this.deadLetterUrls.set(queueArn, url);
    }
    return url;
  }
}
