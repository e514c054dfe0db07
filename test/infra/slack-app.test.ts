/**
 * Slack app channels deployed: the bot token's secret readable by the channel worker, the
 * state table's `slack#` items (threads, call marks) and no others, the table's name in the
 * worker's environment, the Slack DLQ writable (a refused message goes there at once); the
 * Lambdas see no local-only token; deploying without botTokenSecret or over http is refused;
 * cdk-nag clean (the packs are registered by synth).
 */
import type { CfnElement } from 'aws-cdk-lib';
import { LAMBDA_ENV, SLACK_STATE_PARTITION_PREFIX } from '../../lambdas/commons/deployment';
import { deployChannels } from '../../channels/infra';
import { slackChannel } from '../../channels/slack';
import { synth, type Synth } from './helpers';

const CONFIG = `
clusters: [prod]
channels:
  ops: { type: slack, channel: C0123ABCD, botTokenSecret: tocsin/slack/bot, botTokenEnv: LOCAL_ONLY_SLACK_TOKEN }
  team: { type: slack, secretName: tocsin/slack/team }
rules:
  - name: all
    channels: [ops, team]
`;

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
let s: Synth;
let statements: Statement[];
const idOf = (c: { node: { defaultChild?: unknown } }) => s.stack.getLogicalId(c.node.defaultChild as CfnElement);

beforeAll(() => {
  s = synth({ bundle: false, config: CONFIG });
  const roleId = idOf(s.stack.channels.worker!.function.role as never);
  statements = Object.values(s.template.toJSON().Resources as Record<string, { Type: string; Properties: any }>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
});

test('the worker reads the bot token and the webhook secret, and may send to the Slack DLQ', () => {
  const secrets = statements.filter((st) => JSON.stringify(st.Action).includes('secretsmanager:GetSecretValue')).map((st) => JSON.stringify(st.Resource));
  expect(secrets.sort()).toEqual(['tocsin/slack/bot', 'tocsin/slack/team'].map((n) => expect.stringContaining(`secret:${n}-??????`)));
  const dlqArn = JSON.stringify(s.stack.resolve(s.stack.channels.resources.slack.deadLetterQueue!.queueArn));
  expect(statements.some((st) => JSON.stringify(st.Action).includes('sqs:SendMessage') && JSON.stringify(st.Resource) === dlqArn)).toBe(true);
});

test('the worker may touch the state table items of Slack threads only, and knows the table', () => {
  const tableArn = s.stack.resolve(s.stack.stateTable.table.tableArn);
  const dynamo = statements.filter((st) => JSON.stringify(st.Action).includes('dynamodb:'));
  expect(dynamo).toEqual([
    expect.objectContaining({
      Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      Resource: tableArn,
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${SLACK_STATE_PARTITION_PREFIX}*`] } },
    }),
  ]);
  const worker = s.template.toJSON().Resources[idOf(s.stack.channels.worker!.function)];
  expect(worker.Properties.Environment.Variables[LAMBDA_ENV.tableName]).toEqual(s.stack.resolve(s.stack.stateTable.table.tableName));
});

test('the Lambdas get no local-only token', () => {
  expect(slackChannel.forLambda({ type: 'slack', channel: 'C0123ABCD', botTokenSecret: 's', botTokenEnv: 'E', botToken: 'xoxb-1', apiUrl: 'https://slack.example/api' })).toEqual({
    type: 'slack',
    channel: 'C0123ABCD',
    botTokenSecret: 's',
    apiUrl: 'https://slack.example/api',
  });
});

test.each<[string, Record<string, unknown>, string]>([
  ['an app channel without botTokenSecret', { a: { type: 'slack', channel: 'C0123ABCD', botTokenEnv: 'T' } }, 'channels.a.botTokenSecret: a slack app channel needs botTokenSecret'],
  ['an app channel over http', { a: { type: 'slack', channel: 'C0123ABCD', botTokenSecret: 's', apiUrl: 'http://127.0.0.1:1/api' } }, 'channels.a.apiUrl: a deployed slack app channel calls the Web API over https only'],
])('deploying %s is refused', (_name, channels, reason) => {
  const out = deployChannels(channels as never);
  expect('issues' in out && out.issues.map((i) => `${i.path.join('.')}: ${i.reason}`).join('\n')).toContain(reason);
});
