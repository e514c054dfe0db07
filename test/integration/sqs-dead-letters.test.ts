/**
 * The channel worker's dead-lettering adapter against fauxqs (SQS): a refused notification
 * lands in the DLQ named by its queue's RedrivePolicy, body unchanged, the reason as the
 * tocsin-failure attribute; a queue without a redrive policy is an error (the worker then
 * retries the message, so nothing is lost).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { SqsDeadLetters } from '../../lambdas/adapters/sqs-dead-letters';
import { DEAD_LETTER_REASON_ATTRIBUTE } from '../../lambdas/commons/deployment';
import { startTestSnsSqs, type TestSnsSqs } from '../support/fauxqs';

let aws: TestSnsSqs;
const urls = new Map<string, string>();

async function queue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const out = await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes!.QueueArn!;
  urls.set(arn, QueueUrl!);
  return { url: QueueUrl!, arn };
}

beforeAll(async () => {
  aws = await startTestSnsSqs();
}, 60000);
afterAll(() => aws?.stop());

test('a refused notification goes to the DLQ of the queue it came from, with its reason', async () => {
  const dlq = await queue('pd-dlq');
  const source = await queue('Tocsin-channel-pager', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }) });
  const deadLetters = new SqsDeadLetters(aws.sqs, (arn) => urls.get(arn)!);
  const body = JSON.stringify({ Message: '{"id":"a1"}', MessageAttributes: {} });
  await deadLetters.send(source.arn, body, 'PagerDuty refused it (400): {"status":"invalid event"}');
  await deadLetters.send(source.arn, body, 'again: the DLQ is looked up once');
  const out = await aws.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq.url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], WaitTimeSeconds: 1 }));
  expect(out.Messages?.map((m) => [m.Body, m.MessageAttributes?.[DEAD_LETTER_REASON_ATTRIBUTE]?.StringValue])).toEqual([
    [body, 'PagerDuty refused it (400): {"status":"invalid event"}'],
    [body, 'again: the DLQ is looked up once'],
  ]);
});

test('a queue without a redrive policy: an error naming it', async () => {
  const lone = await queue('lone');
  await expect(new SqsDeadLetters(aws.sqs, (arn) => urls.get(arn)!).send(lone.arn, '{}', 'x')).rejects.toThrow(`queue ${lone.arn} has no redrive policy`);
});
