/**
 * The notification side of `npm start`: rules, silences, storm grouping, the delayed
 * worker (timers queue) and one Slack worker per Slack channel that has a webhookUrl,
 * all on fauxqs and the local DynamoDB. Same application code as the Lambdas.
 *
 * fauxqs does not match String.Array attributes in subscription filter policies, so
 * each local Slack queue subscribes unfiltered and the notifier itself skips messages
 * whose `channels` attribute does not name its channel (harmless in AWS, where the
 * subscription filter already did it).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Dispatcher } from '../lambdas/app/dispatcher';
import { systemClock, type Logger } from '../lambdas/app/runtime';
import { createSilenceApi } from '../lambdas/app/silence-api';
import { deliverBatch } from '../lambdas/app/slack-notifier';
import { handleTimer, parseTimer } from '../lambdas/app/timer-worker';
import type { HttpRequest, HttpResponse } from '../lambdas/app/http';
import { StaticClusterKeys } from '../lambdas/adapters/cluster-keys';
import { DynamoDigestStore, DynamoSilenceStore, DynamoStormGate } from '../lambdas/adapters/dynamo-notify-store';
import { DynamoReplayGuard } from '../lambdas/adapters/dynamo-replay-guard';
import { DynamoSubjectStore } from '../lambdas/adapters/dynamo-state-store';
import { SnsAlertPublisher } from '../lambdas/adapters/sns-publisher';
import { FetchWebhookPoster, StaticWebhookUrls } from '../lambdas/adapters/slack-webhook';
import { SqsTimerQueue } from '../lambdas/adapters/sqs-timers';
import { LOCAL_NAMES } from './names';
import type { FileConfig } from '../lambdas/commons/config-file';
import { compileRules, type RuleSet } from '../lambdas/domain/rules/evaluate';
import { alertLink } from '../lambdas/domain/render';
import { sleep } from '../lambdas/app/concurrency';
import { startQueueWorker, type QueueWorker } from './queue-worker';

/** Local knobs (environment), mostly for tests. */
export const LOCAL_NOTIFY_ENV = {
  /** First retry delay (s) of a failed Slack post other than 429; default 5. */
  retrySeconds: 'TOCSIN_LOCAL_RETRY_SECONDS',
  /** How long the dispatcher reuses a cluster's silence list (ms); default 1000. */
  silenceCacheMs: 'TOCSIN_LOCAL_SILENCE_CACHE_MS',
} as const;

export interface LocalNotify {
  rules: RuleSet;
  publisher: Dispatcher;
  silenceApi: (req: HttpRequest) => Promise<HttpResponse>;
  adminKeys: Record<string, string>;
  timersQueueUrl: string;
  slackQueues: Record<string, string>;
  slackDeadLetterQueueUrl?: string;
  /** Lines for the runner's banner. */
  banner: string[];
  stop(): Promise<void>;
}

function loadOrCreateAdminKeys(path: string, clusters: readonly string[]): Record<string, string> {
  const keys: Record<string, string> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
  let changed = false;
  for (const c of clusters) {
    if (!keys[c]) {
      keys[c] = randomBytes(32).toString('base64url');
      changed = true;
    }
  }
  if (changed) writeFileSync(path, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return Object.fromEntries(clusters.map((c) => [c, keys[c] as string]));
}

async function queue(sqs: SQSClient, name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl as string, arn: attrs.Attributes?.QueueArn as string };
}

export async function startLocalNotify(opts: {
  config: FileConfig;
  clusters: readonly string[];
  doc: DynamoDBDocumentClient;
  sns: SNSClient;
  sqs: SQSClient;
  alertsTopicArn: string;
  adminKeysPath: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}): Promise<LocalNotify> {
  const env = opts.env ?? process.env;
  const { runtime, delivery } = opts.config;
  const table = LOCAL_NAMES.stateTable;
  const rules = compileRules(runtime);
  const clock = systemClock;
  const linkTemplate = runtime.links?.alert;
  const channels = new SnsAlertPublisher(opts.sns, opts.alertsTopicArn, (a) => alertLink(linkTemplate, a));
  const timersQueue = await queue(opts.sqs, LOCAL_NAMES.timersQueue);
  const timers = new SqsTimerQueue(opts.sqs, timersQueue.url, clock);
  const silences = new DynamoSilenceStore(opts.doc, table, Number(env[LOCAL_NOTIFY_ENV.silenceCacheMs] ?? 1000));
  const publisher = new Dispatcher({
    rules,
    channels,
    timers,
    clock,
    silences,
    storm: new DynamoStormGate(opts.doc, table, runtime.grouping),
    logger: opts.logger,
  });
  const adminKeys = loadOrCreateAdminKeys(opts.adminKeysPath, opts.clusters);
  const silenceApi = createSilenceApi({
    adminKeys: new StaticClusterKeys(adminKeys),
    replay: new DynamoReplayGuard(opts.doc, table),
    silences,
    clock,
    logger: opts.logger,
  });

  const workers: QueueWorker[] = [];
  const onError = (what: string) => (err: Error) => opts.logger.error(`${what} worker failed`, { error: err.message });
  const timerDeps = {
    subjects: new DynamoSubjectStore(opts.doc, table),
    publisher,
    channels,
    timers,
    digests: new DynamoDigestStore(opts.doc, table),
    grouping: runtime.grouping,
    clock,
  };
  workers.push(
    startQueueWorker({
      sqs: opts.sqs,
      queueUrl: timersQueue.url,
      handle: async (messages) =>
        Promise.all(
          messages.map(async (m) => {
            try {
              const outcome = await handleTimer(timerDeps, parseTimer(m.body));
              opts.logger.info('timer', { outcome });
              return { id: m.id, ok: true as const };
            } catch (err) {
              opts.logger.error('timer failed', { error: (err as Error).message });
              return { id: m.id, ok: false as const, retryAfterSeconds: 1 };
            }
          }),
        ),
      onError: onError('timers'),
    }),
  );

  const banner = [`# timers queue: ${timersQueue.url}`];
  const slackQueues: Record<string, string> = {};
  const webhooks: Record<string, string> = {};
  for (const [name, ch] of Object.entries(runtime.channels)) {
    if (ch.type !== 'slack') continue;
    if (!ch.webhookUrl) banner.push(`# slack channel ${name}: no webhookUrl in ${opts.config.file}, not delivered locally`);
    else webhooks[name] = ch.webhookUrl;
  }
  let slackDeadLetterQueueUrl: string | undefined;
  if (Object.keys(webhooks).length > 0) {
    const dlq = await queue(opts.sqs, LOCAL_NAMES.slackDeadLetterQueue);
    slackDeadLetterQueueUrl = dlq.url;
    banner.push(`# slack dead-letter queue: ${dlq.url}`);
    const urls = new StaticWebhookUrls(webhooks);
    const notifierDeps = {
      poster: new FetchWebhookPoster(),
      urls,
      clock,
      sleep,
      minIntervalMs: delivery.slack.minIntervalMs ?? 1000,
      retryBaseSeconds: Number(env[LOCAL_NOTIFY_ENV.retrySeconds] ?? 5),
      ...(linkTemplate ? { linkTemplate } : {}),
      logger: opts.logger,
    };
    for (const name of Object.keys(webhooks)) {
      const q = await queue(opts.sqs, LOCAL_NAMES.slackQueue(name), {
        VisibilityTimeout: '30',
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: String(delivery.slack.maxReceiveCount) }),
      });
      await opts.sns.send(new SubscribeCommand({ TopicArn: opts.alertsTopicArn, Protocol: 'sqs', Endpoint: q.arn }));
      slackQueues[name] = q.url;
      banner.push(`# slack channel ${name}: ${webhooks[name]} (queue ${q.url})`);
      workers.push(
        startQueueWorker({
          sqs: opts.sqs,
          queueUrl: q.url,
          handle: async (messages) => (await deliverBatch(notifierDeps, name, messages)).map((r) => (r.ok ? { id: r.id, ok: true as const } : r)),
          onError: onError(`slack ${name}`),
        }),
      );
    }
  }

  return {
    rules,
    publisher,
    silenceApi,
    adminKeys,
    timersQueueUrl: timersQueue.url,
    slackQueues,
    ...(slackDeadLetterQueueUrl ? { slackDeadLetterQueueUrl } : {}),
    banner,
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}
