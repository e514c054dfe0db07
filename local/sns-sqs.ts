/** SNS and SQS for the local runner: fauxqs in-process, with the stack's topic and a delivery queue. */
import { SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_DEFAULTS, LOCAL_NAMES } from './names';
import { LOCAL_CREDENTIALS } from './dynamodb';

export interface RunningSnsSqs {
  endpoint: string;
  alertsTopicArn: string;
  notificationsQueueUrl: string;
  sns: SNSClient;
  sqs: SQSClient;
  stop(): Promise<void>;
}

interface FauxqsServer {
  address: string;
  stop(): Promise<void>;
  createQueue(name: string): { queueUrl: string; queueArn: string };
  createTopic(name: string): { topicArn: string };
  subscribe(opts: { topic: string; queue: string }): unknown;
}

export async function startSnsSqs(port = 0): Promise<RunningSnsSqs> {
  // fauxqs is ESM-only; a dynamic import keeps this module CommonJS-compatible.
  const { startFauxqs } = (await import('fauxqs')) as unknown as {
    startFauxqs(opts: { port: number; logger: boolean; defaultRegion?: string }): Promise<FauxqsServer>;
  };
  const server = await startFauxqs({ port, logger: false, defaultRegion: LOCAL_DEFAULTS.region });
  const { topicArn } = server.createTopic(LOCAL_NAMES.alertsTopic);
  const { queueUrl } = server.createQueue(LOCAL_NAMES.notificationsQueue);
  server.subscribe({ topic: LOCAL_NAMES.alertsTopic, queue: LOCAL_NAMES.notificationsQueue });
  const endpoint = server.address;
  const config = { region: LOCAL_DEFAULTS.region, endpoint, credentials: LOCAL_CREDENTIALS };
  return {
    endpoint,
    alertsTopicArn: topicArn,
    notificationsQueueUrl: queueUrl,
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    stop: () => server.stop(),
  };
}

/** Creates (or finds) a queue; its URL and ARN. */
export async function createQueue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl as string, arn: attrs.Attributes?.QueueArn as string };
}
