/** fauxqs as a child process (it is ESM-only, so jest cannot load it in-process). */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { LOCAL_DEFAULTS } from '../../local/names';
import { freePort, waitFor } from './ports';

export interface TestSnsSqs {
  endpoint: string;
  sns: SNSClient;
  sqs: SQSClient;
  stop(): Promise<void>;
}

export function awsClients(endpoint: string) {
  const config = { region: LOCAL_DEFAULTS.region, endpoint, credentials: LOCAL_CREDENTIALS };
  return { sns: new SNSClient(config), sqs: new SQSClient(config) };
}

// fauxqs's package exports hide its CLI from require.resolve.
const FAUXQS_CLI = resolve(__dirname, '../../node_modules/fauxqs/dist/cli.js');

export async function startTestSnsSqs(): Promise<TestSnsSqs> {
  const port = await freePort();
  const child = spawn(process.execPath, [FAUXQS_CLI], {
    env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_LOGGER: 'false' },
    stdio: 'ignore',
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitFor('fauxqs', async () => ((await fetch(`${endpoint}/health`)).ok ? true : undefined), 30000);
  const { sns, sqs } = awsClients(endpoint);
  return {
    endpoint,
    sns,
    sqs,
    stop: async () => {
      sns.destroy();
      sqs.destroy();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A queue subscribed to `topicArn`, as a machine subscriber would be. */
export async function subscribeQueue(sns: SNSClient, sqs: SQSClient, topicArn: string, name: string, filterPolicy?: object): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: attrs.Attributes?.QueueArn,
      ...(filterPolicy ? { Attributes: { FilterPolicy: JSON.stringify(filterPolicy) } } : {}),
    }),
  );
  return QueueUrl as string;
}

/** Creates (or finds) a queue; its URL and ARN. */
export async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl as string, arn: attrs.Attributes?.QueueArn as string };
}

export async function createTopic(sns: SNSClient, name: string): Promise<string> {
  return (await sns.send(new CreateTopicCommand({ Name: name }))).TopicArn as string;
}

export interface ReceivedNotification {
  message: string;
  attributes: Record<string, { Type: string; Value: string }>;
  subject?: string;
}

/**
 * fauxqs puts an SNS message on its subscribed queues before it answers the Publish, so
 * in a harness whose ingest awaits its publishes, all of them are on the queue when the
 * ingest returns: the wait then only has to see them, not wait for them.
 */
export const AWAITED_PUBLISH_WAIT_MS = 250;

/**
 * Receives (and deletes) everything that arrives on the queue within `waitMs`, and
 * goes on past it while messages keep coming: on a loaded machine a burst can take
 * longer than the window to drain, and a cut-off burst would leak into the next test.
 * Long polls (whole seconds) while a second or more of the window is left, then short
 * polls, so that the window is what it says and not rounded up to a second.
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string, waitMs: number): Promise<ReceivedNotification[]> {
  const got: ReceivedNotification[] = [];
  const deadline = Date.now() + waitMs;
  const hardStop = deadline + 120_000;
  while (Date.now() < hardStop) {
    const left = deadline - Date.now();
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: left >= 1000 ? 1 : 0 }));
    const messages = out.Messages ?? [];
    for (const m of messages) {
      const body = JSON.parse(m.Body ?? '{}') as { Message: string; Subject?: string; MessageAttributes?: ReceivedNotification['attributes'] };
      got.push({ message: body.Message, attributes: body.MessageAttributes ?? {}, ...(body.Subject ? { subject: body.Subject } : {}) });
    }
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }),
      );
    } else if (Date.now() >= deadline) {
      break;
    } else if (left < 1000) {
      await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now()))));
    }
  }
  return got;
}
