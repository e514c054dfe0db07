/**
 * PagerDuty, webhook and Teams channels deployed: per channel an encrypted queue (SSE-SQS) named for the
 * channel worker, subscribed with { channels: [<name>] } (and minSeverity's severities),
 * redriving to the kind's DLQ after delivery.<kind>.maxReceiveCount; the DLQ alarmed on;
 * the worker may read exactly the channels' secrets and send to the DLQs (a refused
 * notification goes there at once); the Lambdas see no local-only secrets; cdk-nag clean.
 * Slack app channels (in this synth, to share it): the bot token's secret, the state
 * table's `slack#` items and no others, the table's name in the worker, the Slack DLQ.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { CHANNELS_ATTRIBUTE, LAMBDA_ENV, SLACK_STATE_PARTITION_PREFIX } from '../../lambdas/commons/deployment';
import { channelSecretsOf } from '../../bench/cost/template';
import { QUEUE_EVENT_SOURCE } from '../../channels/queue-delivered/infra';
import { CHANNEL_WORKER_TIMEOUT_SECONDS } from '../../lib/channel-worker';
import { deployChannels } from '../../channels/infra';
import { pagerdutyChannel } from '../../channels/pagerduty';
import { slackChannel } from '../../channels/slack';
import { webhookChannel } from '../../channels/webhook';
import { synth, type Synth } from './helpers';

const CONFIG = `
clusters: [prod]
channels:
  pager: { type: pagerduty, secretName: tocsin/pagerduty/oncall, routingKey: "local-only-0123456789abcdef01234", minSeverity: warning }
  pager-eu: { type: pagerduty, secretName: tocsin/pagerduty/eu, url: "https://events.eu.pagerduty.com/v2/enqueue" }
  hook: { type: webhook, secretName: tocsin/webhook/ops, url: "https://hooks.example.com/tocsin", signingKeyEnv: LOCAL_ONLY_HOOK_KEY }
  team: { type: slack, secretName: tocsin/slack/team, minSeverity: critical }
  ops-teams: { type: teams, secretName: tocsin/teams/ops, url: "http://127.0.0.1:9/local-only", minSeverity: warning }
  app: { type: slack, channel: C0123ABCD, botTokenSecret: tocsin/slack/bot, botTokenEnv: LOCAL_ONLY_SLACK_TOKEN }
delivery: { pagerduty: { maxReceiveCount: 4 }, webhook: { maxReceiveCount: 6 }, teams: { maxReceiveCount: 3 } }
rules:
  - name: all
    channels: [pager, pager-eu, hook, team, ops-teams, app]
`;

type R = { Type: string; Properties: Record<string, any> };
let s: Synth;
let resources: Record<string, R>;
const idOf = (c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

beforeAll(() => {
  // With the cdk-nag packs registered as bin/tocsin.ts does: an unacknowledged finding fails synthesis.
  s = synth({ bundle: false, config: CONFIG });
  resources = s.template.toJSON().Resources;
});

describe.each([
  ['pagerduty', ['pager', 'pager-eu'], 4],
  ['webhook', ['hook'], 6],
  ['teams', ['ops-teams'], 3],
] as const)('%s channels', (type, channels, maxReceiveCount) => {
  const res = () => s.stack.channels.resources[type];

  test('an SSE-SQS encrypted queue per channel (lean default), named for the worker, redriving to the DLQ after maxReceiveCount', () => {
    const dlqArn = plain(s.stack.resolve(res().deadLetterQueue!.queueArn));
    for (const channel of channels) {
      expect(resources[idOf(res().queues.get(channel)!)]!.Properties).toMatchObject({
        QueueName: `Tocsin-channel-${channel}`,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 6 * CHANNEL_WORKER_TIMEOUT_SECONDS,
        RedrivePolicy: { deadLetterTargetArn: dlqArn, maxReceiveCount },
      });
    }
  });

  test('the channel worker drains each queue (2 pollers, batches of 5, partial batch failures)', () => {
    for (const channel of channels) {
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: s.stack.resolve(res().queues.get(channel)!.queueArn),
        FunctionName: { Ref: idOf(s.stack.channels.worker!.function) },
        BatchSize: QUEUE_EVENT_SOURCE.batchSize,
        ScalingConfig: { MaximumConcurrency: QUEUE_EVENT_SOURCE.maxConcurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  test('the DLQ alarms to the ops topic', () => {
    const dlqId = idOf(res().deadLetterQueue!);
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => String(JSON.stringify(a.Properties.Dimensions)).includes(dlqId));
    expect(alarms.map(([, a]) => a.Properties.AlarmActions)).toEqual([[s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn)]]);
    expect(alarms[0]![1].Properties).toMatchObject({ MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
  });
});

test('subscriptions filter on the channel, and on the severities of minSeverity', () => {
  const sub = (channel: string, type: 'pagerduty' | 'webhook' | 'teams') => ({
    Protocol: 'sqs',
    Endpoint: s.stack.resolve(s.stack.channels.resources[type].queues.get(channel)!.queueArn),
    RedrivePolicy: { deadLetterTargetArn: s.stack.resolve(s.stack.alertTopics.deliveryDeadLetterQueue.queueArn) },
  });
  s.template.hasResourceProperties('AWS::SNS::Subscription', { ...sub('pager', 'pagerduty'), FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['pager'], severity: ['critical', 'warning'] } });
  s.template.hasResourceProperties('AWS::SNS::Subscription', { ...sub('pager-eu', 'pagerduty'), FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['pager-eu'] } });
  s.template.hasResourceProperties('AWS::SNS::Subscription', { ...sub('hook', 'webhook'), FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['hook'] } });
  s.template.hasResourceProperties('AWS::SNS::Subscription', { ...sub('ops-teams', 'teams'), FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['ops-teams'], severity: ['critical', 'warning'] } });
  // Slack's minSeverity, the same way.
  s.template.hasResourceProperties('AWS::SNS::Subscription', {
    Endpoint: s.stack.resolve(s.stack.channels.resources.slack.queues.get('team')!.queueArn),
    FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['team'], severity: ['critical'] },
  });
});

test('the worker may read exactly these secrets (the Slack one too), and send to the three DLQs', () => {
  const roleId = idOf(s.stack.channels.worker!.function.role as never);
  const statements = ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
  const secretResources = statements.filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')).map((st) => JSON.stringify(st.Resource));
  expect(secretResources.sort()).toEqual(['tocsin/pagerduty/eu', 'tocsin/pagerduty/oncall', 'tocsin/slack/bot', 'tocsin/slack/team', 'tocsin/teams/ops', 'tocsin/webhook/ops'].map((n) => expect.stringContaining(`secret:${n}-??????`)));
  expect(secretResources).toHaveLength(6);
  // Figure 8's template reader counts them (channels made outside the stack, $0.40 a month each).
  expect(channelSecretsOf(resources)).toEqual({ channelParameters: 0, channelSecrets: 6 });
  for (const type of ['pagerduty', 'webhook', 'teams'] as const) {
    const dlqArn = JSON.stringify(s.stack.resolve(s.stack.channels.resources[type].deadLetterQueue!.queueArn));
    expect(statements.some((st) => JSON.stringify(st.Action).includes('sqs:SendMessage') && JSON.stringify(st.Resource) === dlqArn)).toBe(true);
  }
});

test('Slack app channels: the worker may send to the Slack DLQ, touch the state table items of Slack threads only, and knows the table', () => {
  const tableArn = s.stack.resolve(s.stack.stateTable.table.tableArn);
  const roleId = idOf(s.stack.channels.worker!.function.role as never);
  const statements = ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: unknown }>);
  const slackDlq = JSON.stringify(s.stack.resolve(s.stack.channels.resources.slack.deadLetterQueue!.queueArn));
  expect(statements.some((st) => JSON.stringify(st.Action).includes('sqs:SendMessage') && JSON.stringify(st.Resource) === slackDlq)).toBe(true);
  const dynamo = statements.filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
  expect(dynamo).toEqual([
    expect.objectContaining({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Resource: tableArn,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SLACK_STATE_PARTITION_PREFIX}*`] } },
    }),
  ]);
  const worker = resources[idOf(s.stack.channels.worker!.function)]!;
  expect(worker.Properties.Environment.Variables[LAMBDA_ENV.tableName]).toEqual(s.stack.resolve(s.stack.stateTable.table.tableName));
});

test("Slack actions: the ingest function may read the app channel's bot token secret (it holds the signing secret), not the webhook ones; the interactivity route exists", () => {
  const roleId = idOf(s.stack.ingestApi.ingestFunction.role as never);
  const statements = ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
  const secrets = statements.filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')).map((st) => JSON.stringify(st.Resource));
  expect(secrets.filter((r) => r.includes('secret:tocsin/slack/'))).toEqual([expect.stringContaining('secret:tocsin/slack/bot-??????')]);
  s.template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /v1/slack/interactions' });
});

test('the Lambdas get no local-only secret (forLambda)', () => {
  expect(pagerdutyChannel.forLambda({ type: 'pagerduty', secretName: 's', routingKey: 'k'.repeat(32), routingKeyEnv: 'E', url: 'https://x.example', minSeverity: 'warning' })).toEqual({
    type: 'pagerduty',
    secretName: 's',
    url: 'https://x.example',
    minSeverity: 'warning',
  });
  expect(slackChannel.forLambda({ type: 'slack', channel: 'C0123ABCD', botTokenSecret: 's', botTokenEnv: 'E', botToken: 'xoxb-1', apiUrl: 'https://slack.example/api' })).toEqual({
    type: 'slack',
    channel: 'C0123ABCD',
    botTokenSecret: 's',
    apiUrl: 'https://slack.example/api',
  });
  expect(webhookChannel.forLambda({ type: 'webhook', url: 'https://x.example', secretName: 's', signingKey: 'k'.repeat(32), signingKeyEnv: 'E' })).toEqual({ type: 'webhook', url: 'https://x.example', secretName: 's' });
});

test.each<[string, Record<string, unknown>, string]>([
  ['pagerduty without secretParameter or secretName', { p: { type: 'pagerduty', routingKey: 'x'.repeat(32) } }, 'channels.p.secretParameter: a pagerduty channel needs secretParameter (the SSM SecureString parameter holding its routing key) or secretName'],
  ['pagerduty over http', { p: { type: 'pagerduty', secretName: 's', url: 'http://127.0.0.1/v2/enqueue' } }, 'channels.p.url: a deployed pagerduty channel sends over https only'],
  ['webhook without secretParameter or secretName', { h: { type: 'webhook', url: 'https://x.example' } }, 'channels.h.secretParameter: a webhook channel needs secretParameter (the SSM SecureString parameter holding its signing key) or secretName'],
  ['a slack app channel without botTokenParameter or botTokenSecret', { a: { type: 'slack', channel: 'C0123ABCD', botTokenEnv: 'T' } }, 'channels.a.botTokenParameter: a slack app channel needs botTokenParameter (the SSM SecureString parameter holding its bot token) or botTokenSecret'],
  ['a slack app channel over http', { a: { type: 'slack', channel: 'C0123ABCD', botTokenSecret: 's', apiUrl: 'http://127.0.0.1:1/api' } }, 'channels.a.apiUrl: a deployed slack app channel calls the Web API over https only'],
  ['webhook over http', { h: { type: 'webhook', url: 'http://x.example', secretName: 's' } }, 'channels.h.url: a deployed webhook channel posts over https only'],
])('deploying %s is refused', (_name, channels, reason) => {
  const out = deployChannels(channels as never);
  expect('issues' in out && out.issues.map((i) => `${i.path.join('.')}: ${i.reason}`).join('\n')).toContain(reason);
});
