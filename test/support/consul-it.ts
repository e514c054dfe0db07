/**
 * Integration harness for the Consul sources: a DynamoDB-compatible server (DynamoDB
 * Local when Java is present, else dynalite), fauxqs for SNS/SQS, the real adapters,
 * and a queue subscribed to the alerts topic to read what was published.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { handlerFor, type SourceContext, type SourceResult } from '../../lambdas/app/sources';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { alertFromNotification } from '../../lambdas/domain/render';
import type { Alert, Envelope } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { startTestDynamo, type TestDynamo } from './dynamodb';
import { AWAITED_PUBLISH_WAIT_MS, createTopic, drainQueue, startTestSnsSqs, subscribeQueue, type TestSnsSqs } from './fauxqs';
import { publishUnrouted } from './unrouted-publisher';

export interface ConsulIt {
  dynamo: TestDynamo;
  snsSqs: TestSnsSqs;
  doc: DynamoDBDocumentClient;
  table: string;
  ctx: SourceContext;
  /** Runs the registered handler of `consul/<type>`, as the API does after authentication. */
  ingest(envelope: Envelope, ctx?: Partial<SourceContext>): Promise<SourceResult>;
  /**
   * Alerts published since the last call (waits `waitMs` for stragglers). `ingest` and the
   * API await their publishes, so by default the wait is only long enough to see them.
   */
  alerts(waitMs?: number): Promise<Alert[]>;
  stop(): Promise<void>;
}

export async function startConsulIt(table: string): Promise<ConsulIt> {
  const snsSqs = await startTestSnsSqs();
  const dynamo = await startTestDynamo();
  const { client, doc } = dynamoClients(dynamo.endpoint);
  await ensureStateTable(client, table);
  const topicArn = await createTopic(snsSqs.sns, `${table}-alerts`);
  const queueUrl = await subscribeQueue(snsSqs.sns, snsSqs.sqs, topicArn, `${table}-subscriber`);
  const ctx: SourceContext = {
    subjects: new DynamoSubjectStore(doc, table),
    scopes: new DynamoScopeStore(doc, table),
    publisher: publishUnrouted(new SnsAlertPublisher(snsSqs.sns, topicArn)),
    checkPolicy: defaultCheckPolicy,
    clock: { nowMs: () => Date.now() },
  };
  return {
    dynamo,
    snsSqs,
    doc,
    table,
    ctx,
    ingest: (envelope, extra = {}) => {
      const handler = handlerFor(envelope.source, envelope.type);
      if (!handler) throw new Error(`no handler registered for ${envelope.source}/${envelope.type}`);
      return handler(envelope, { ...ctx, ...extra });
    },
    alerts: async (waitMs = AWAITED_PUBLISH_WAIT_MS) => (await drainQueue(snsSqs.sqs, queueUrl, waitMs)).map((n) => alertFromNotification(n.message)),
    stop: async () => {
      await Promise.all([dynamo.stop(), snsSqs.stop()]);
    },
  };
}

/** Each test gets its own cluster so state does not leak between them. */
export const newCluster = (): string => `c-${randomUUID().slice(0, 8)}`;

/** `title` of each alert, sorted: order of SNS/SQS delivery is not part of the contract. */
export const titles = (alerts: Alert[]): string[] => alerts.map((a) => a.title).sort();
