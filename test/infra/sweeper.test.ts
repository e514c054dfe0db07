/**
 * The sweeper in the template: an EventBridge schedule every minute invoking the sweeper
 * function asynchronously (failures to an alarmed queue), the alarm when it has not run for
 * 5 minutes (missing data breaching), the watchdog URL only when configured, the
 * permissions a sweep needs, and cdk-nag clean with all of it.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { LAMBDA_ENV, SWEEPER } from '../../lambdas/commons/deployment';
import { STATE_TABLE_ACTIONS } from '../../lib/state-table';
import { synth, type Synth } from './helpers';

type Resource = { Type: string; Properties: Record<string, any> };

const WATCHDOG = 'https://hc-ping.com/0b1c2d3e-aaaa-bbbb-cccc-000000000000';

let s: Synth;
let resources: Record<string, Resource>;
const idOf = (c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const refersTo = (value: unknown, id: string) => JSON.stringify(value).includes(`"${id}"`);

beforeAll(() => {
  // nag registered (the default): synthesis throws on any unacknowledged finding.
  s = synth({ bundle: false, config: `clusters: [prod, staging]\ndeployment:\n  watchdog: { url: "${WATCHDOG}" }\n` });
  resources = s.template.toJSON().Resources;
});

test('an EventBridge rule invokes the sweeper every minute, with a dead-letter queue for undeliverable events', () => {
  const fnId = idOf(s.stack.sweeper.function);
  const rules = ofType('AWS::Events::Rule');
  expect(rules).toHaveLength(1);
  const [, rule] = rules[0]!;
  expect(SWEEPER.periodSeconds).toBe(60);
  expect(rule.Properties).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
  expect(rule.Properties.Targets).toHaveLength(1);
  const target = rule.Properties.Targets[0];
  expect(target.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
  expect(refersTo(target.DeadLetterConfig?.Arn, idOf(s.stack.sweeper.deadLetterQueue))).toBe(true);
  const permission = ofType('AWS::Lambda::Permission').filter(([, p]) => refersTo(p.Properties.FunctionName, fnId));
  expect(permission.map(([, p]) => p.Properties.Principal)).toEqual(['events.amazonaws.com']);
});

test('the function is invoked asynchronously: no Lambda retry, failures to the same alarmed queue', () => {
  const fnId = idOf(s.stack.sweeper.function);
  const configs = ofType('AWS::Lambda::EventInvokeConfig').filter(([, c]) => refersTo(c.Properties.FunctionName, fnId));
  expect(configs).toHaveLength(1);
  const [, c] = configs[0]!;
  expect(c.Properties.MaximumRetryAttempts).toBe(0);
  expect(refersTo(c.Properties.DestinationConfig.OnFailure.Destination, idOf(s.stack.sweeper.deadLetterQueue))).toBe(true);
  const depth = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' && refersTo(a.Properties.Dimensions, idOf(s.stack.sweeper.deadLetterQueue)));
  expect(depth).toHaveLength(1);
});

test('an alarm fires when the sweeper has not run for 5 minutes, missing data breaching, to the ops topic on ALARM and OK', () => {
  const opsRef = JSON.parse(JSON.stringify(s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn)));
  const fnId = idOf(s.stack.sweeper.function);
  const notRunning = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === 'Invocations');
  expect(notRunning).toHaveLength(1);
  expect(notRunning[0]![1].Properties).toMatchObject({
    Namespace: 'AWS/Lambda',
    Statistic: 'Sum',
    Period: 300,
    EvaluationPeriods: 1,
    Threshold: 1,
    ComparisonOperator: 'LessThanThreshold',
    TreatMissingData: 'breaching',
    AlarmActions: [opsRef],
    OKActions: [opsRef],
  });
  expect(refersTo(notRunning[0]![1].Properties.Dimensions, fnId)).toBe(true);
  // Lean default: a failed sweep reaches the alarmed dead-letter queue (no retry); its Errors and
  // Throttles alarms, and late sweeps, come with deployment.detailedAlarms (lean-default.test.ts).
  for (const metric of ['Errors', 'Throttles']) {
    expect(ofType('AWS::CloudWatch::Alarm').some(([, a]) => a.Properties.MetricName === metric && refersTo(a.Properties.Dimensions, fnId))).toBe(false);
  }
});

test('the sweeper gets the table, the alerts topic, the timers queue and the watchdog URL; the ingest function never sees the URL', () => {
  const fn = resources[idOf(s.stack.sweeper.function)]!;
  const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
  expect(vars[LAMBDA_ENV.watchdogUrl]).toBe(WATCHDOG);
  expect(Object.keys(vars)).toEqual(expect.arrayContaining([LAMBDA_ENV.tableName, LAMBDA_ENV.alertsTopicArn, LAMBDA_ENV.timersQueueUrl, LAMBDA_ENV.configDigest]));
  expect(fn.Properties).toMatchObject({ Timeout: 50, MemorySize: 256, Runtime: 'nodejs22.x' });
  const ingest = resources[idOf(s.stack.ingestApi.ingestFunction)]!;
  expect(ingest.Properties.Environment.Variables[LAMBDA_ENV.watchdogUrl]).toBeUndefined();

  const roleId = idOf(s.stack.sweeper.function.executionRole);
  const statements = ofType('AWS::IAM::Policy')
    .filter(([, p]) => refersTo(p.Properties.Roles, roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
  const actions = statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
  expect(actions).toEqual(expect.arrayContaining([...STATE_TABLE_ACTIONS, 'sns:Publish', 'sns:GetTopicAttributes', 'sqs:SendMessage']));
  expect(actions).not.toContain('dynamodb:Scan');
  const alertsTopicRef = JSON.parse(JSON.stringify(s.stack.resolve(s.stack.alertTopics.alertsTopic.topicArn)));
  expect(statements.find((st) => st.Action === 'sns:GetTopicAttributes')?.Resource).toEqual(alertsTopicRef);
});

test('without deployment.watchdog the sweeper has no watchdog URL', () => {
  const bare = synth({ bundle: false, nag: false, config: 'clusters: [prod]\n' });
  const fn = bare.template.toJSON().Resources[bare.stack.getLogicalId(bare.stack.sweeper.function.node.defaultChild as CfnElement)];
  expect(fn.Properties.Environment.Variables[LAMBDA_ENV.watchdogUrl]).toBeUndefined();
});

test('cdk-nag: no unacknowledged finding with the sweeper and the watchdog', () => {
  for (const pack of s.packs) {
    const report = pack.validateScope(s.app);
    expect({ pack: pack.name, findings: report.violations.map((v) => v.ruleName) }).toEqual({ pack: pack.name, findings: [] });
  }
});
