/**
 * Delivery infrastructure from tocsin.yaml: Slack channel queues subscribed with a
 * channels filter policy, the notifier's event sources (bounded concurrency, partial
 * batch failures), the timers delay queue and worker, the bundled runtime config.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { readBundledConfig } from '../../lambdas/commons/bundled-config';
import { BUNDLED_CONFIG, CHANNEL_QUEUES, CHANNELS_ATTRIBUTE, LAMBDA_ENV } from '../../lambdas/commons/deployment';
import { SLACK_EVENT_SOURCE } from '../../channels/slack/infra';
import { CHANNEL_WORKER_TIMEOUT_SECONDS } from '../../lib/channel-worker';
import { synth, type Synth } from './helpers';

const CONFIG = `
clusters: [prod]
channels:
  oncall: { type: email, addresses: [oncall@example.com] }
  team: { type: slack, secretName: tocsin/slack/team, webhookUrl: "http://127.0.0.1:9/local-only" }
  noise: { type: slack, secretName: tocsin/slack/noise }
delivery: { slack: { maxReceiveCount: 7 } }
links: { alert: "https://consul.example.com/ui/{cluster}/nodes/{node}" }
rules:
  - name: web
    match: { service: { glob: "web*" } }
    channels: [team, oncall]
    for: 2m
    repeat: 1h
`;

type R = { Type: string; Properties: Record<string, any> };
let s: Synth;
let resources: Record<string, R>;
const idOf = (c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

beforeAll(() => {
  s = synth({ bundle: false, config: CONFIG });
  resources = s.template.toJSON().Resources;
});

describe('Slack channels', () => {
  test('one encrypted queue per channel (SSE-SQS: lean default), redriving to the Slack DLQ after delivery.slack.maxReceiveCount', () => {
    const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;
    const dlqArn = plain(s.stack.resolve(s.stack.channels.resources.slack.deadLetterQueue!.queueArn));
    for (const channel of ['team', 'noise']) {
      const q = resources[idOf(s.stack.channels.resources.slack.queues.get(channel)!)]!;
      expect(q.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 6 * CHANNEL_WORKER_TIMEOUT_SECONDS,
        RedrivePolicy: { deadLetterTargetArn: dlqArn, maxReceiveCount: 7 },
      });
    }
  });

  test('each queue subscribes to the alerts topic with the filter { channels: [<channel>] }', () => {
    for (const channel of ['team', 'noise']) {
      s.template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'sqs',
        TopicArn: s.stack.resolve(s.stack.alertTopics.alertsTopic.topicArn),
        Endpoint: s.stack.resolve(s.stack.channels.resources.slack.queues.get(channel)!.queueArn),
        FilterPolicy: { [CHANNELS_ATTRIBUTE]: [channel] },
        RedrivePolicy: { deadLetterTargetArn: s.stack.resolve(s.stack.alertTopics.deliveryDeadLetterQueue.queueArn) },
      });
    }
  });

  test('the notifier drains each queue with at most 2 pollers, batches of 5, reporting partial batch failures', () => {
    const fnId = idOf(s.stack.channels.worker!.function);
    const mappings = ofType('AWS::Lambda::EventSourceMapping').filter(([, m]) => JSON.stringify(m.Properties.FunctionName).includes(fnId));
    expect(mappings).toHaveLength(2);
    for (const [, m] of mappings) {
      expect(m.Properties).toMatchObject({
        BatchSize: SLACK_EVENT_SOURCE.batchSize,
        ScalingConfig: { MaximumConcurrency: SLACK_EVENT_SOURCE.maxConcurrency },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    const env = resources[fnId]!.Properties.Environment.Variables;
    // A record's channel is its queue's name without the prefix (CHANNEL_QUEUES).
    const prefix = env[LAMBDA_ENV.channelQueuePrefix];
    expect(prefix).toBe('Tocsin-channel-');
    for (const channel of ['team', 'noise']) {
      const queue = resources[idOf(s.stack.channels.resources.slack.queues.get(channel)!)]!;
      expect(queue.Properties.QueueName).toBe(`${prefix}${channel}`);
      expect(CHANNEL_QUEUES.channelOf(prefix, `arn:aws:sqs:eu-west-1:123456789012:${queue.Properties.QueueName}`)).toBe(channel);
    }
  });

  test('the notifier may read exactly the webhook secrets, by name, and change message visibility (Retry-After)', () => {
    const roleId = idOf(s.stack.channels.worker!.function.role as never);
    const statements = ofType('AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const secretResources = JSON.stringify(statements.filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')).map((st) => st.Resource));
    expect(secretResources).toContain('secret:tocsin/slack/team-??????');
    expect(secretResources).toContain('secret:tocsin/slack/noise-??????');
    expect(statements.some((st) => JSON.stringify(st.Action).includes('sqs:ChangeMessageVisibility'))).toBe(true);
  });

  test('the Slack DLQ alarms to the ops topic', () => {
    const dlqId = idOf(s.stack.channels.resources.slack.deadLetterQueue!);
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => String(JSON.stringify(a.Properties.Dimensions)).includes(dlqId));
    expect(alarms.map(([, a]) => a.Properties.AlarmActions)).toEqual([[s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn)]]);
  });

  test('email channels keep their SNS email subscriptions', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['oncall'] } });
  });
});

describe('timers (for, repeat, storm digests)', () => {
  test('an encrypted delay queue with a redrive policy, drained by the timers worker with partial batch failures', () => {
    const q = resources[idOf(s.stack.timers.queue)]!;
    expect(q.Properties).toMatchObject({ SqsManagedSseEnabled: true, RedrivePolicy: { maxReceiveCount: 5 } });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: idOf(s.stack.timers.worker) },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('the ingest Lambda may send timers and knows the queue, the admin key prefix and the config digest', () => {
    const env = resources[idOf(s.stack.ingestApi.ingestFunction)]!.Properties.Environment.Variables;
    expect(env[LAMBDA_ENV.timersQueueUrl]).toEqual({ Ref: idOf(s.stack.timers.queue) });
    expect(env[LAMBDA_ENV.adminSecretPrefix]).toBe('/tocsin/Tocsin/admin/'); // SSM parameter names (KEY_PARAMETERS)
    expect(env[LAMBDA_ENV.viewerSecretPrefix]).toBe('/tocsin/Tocsin/viewer/');
    expect(env[LAMBDA_ENV.configDigest]).toMatch(/^[0-9a-f]{64}$/);
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: idOf(s.stack.ingestApi.ingestFunction.executionRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']), Resource: s.stack.resolve(s.stack.timers.queue.queueArn) })]) },
    });
  });
});

describe('the runtime config is bundled into the Lambdas', () => {
  test('the ingest bundle holds the validated rules, without webhook URLs or addresses', () => {
    const bundled = synth({ bundle: true, nag: false, config: CONFIG });
    const fn = bundled.template.toJSON().Resources[bundled.stack.getLogicalId(bundled.stack.ingestApi.ingestFunction.node.defaultChild as CfnElement)];
    const assetDir = path.join(bundled.app.outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
    const code = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');
    const file = fs.readFileSync(path.join(assetDir, BUNDLED_CONFIG.file), 'utf8');
    const { config, rules } = readBundledConfig(assetDir);
    expect(config.rules).toEqual([{ name: 'web', match: { service: { glob: 'web*' } }, channels: ['team', 'oncall'], for: 120, repeat: 3600 }]);
    expect(config.channels).toEqual({ oncall: { type: 'email' }, team: { type: 'slack', secretName: 'tocsin/slack/team' }, noise: { type: 'slack', secretName: 'tocsin/slack/noise' } });
    expect(rules.rules).toHaveLength(1);
    expect(code).not.toContain('local-only');
    expect(file).not.toContain('local-only');
    expect(file).not.toContain('oncall@example.com');
  }, 120000);
});
