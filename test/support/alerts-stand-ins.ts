/**
 * What the integration tests of the AWS adapters share: a DynamoDB-compatible server with
 * the state table, fauxqs with an alerts topic, and a queue subscribed to it (where the
 * tests read what was published).
 */
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from './dynamodb';
import { createTopic, startTestSnsSqs, subscribeQueue, type TestSnsSqs } from './fauxqs';

export interface AlertsStandIns {
  readonly dynamo: TestDynamo;
  readonly snsSqs: TestSnsSqs;
  readonly doc: ReturnType<typeof dynamoClients>['doc'];
  readonly topicArn: string;
  /** Subscribed to `topicArn`, unfiltered. */
  readonly queueUrl: string;
  stop(): Promise<void>;
}

/** `name` names the topic (`<name>-alerts`) and its subscriber queue (`<name>-subscriber`). */
export async function startAlertsStandIns(table: string, name: string): Promise<AlertsStandIns> {
  const [snsSqs, dynamo] = await Promise.all([startTestSnsSqs(), startTestDynamo()]);
  const { client, doc } = dynamoClients(dynamo.endpoint);
  await ensureStateTable(client, table);
  const topicArn = await createTopic(snsSqs.sns, `${name}-alerts`);
  const queueUrl = await subscribeQueue(snsSqs.sns, snsSqs.sqs, topicArn, `${name}-subscriber`);
  return { dynamo, snsSqs, doc, topicArn, queueUrl, stop: async () => void (await Promise.all([dynamo.stop(), snsSqs.stop()])) };
}
