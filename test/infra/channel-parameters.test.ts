/**
 * Channels whose secrets are SSM SecureString parameters (secretParameter, botTokenParameter),
 * deployed: the channel worker may call ssm:GetParameter on exactly those parameters' ARNs
 * (a name with or without its leading slash gives parameter/<name without it>), and the
 * ingest function on the Slack app's (its signing secret); neither gets a Secrets Manager
 * grant or a KMS one (aws/ssm's key policy allows decrypting through Parameter Store); the
 * Lambdas' config names the parameters; cdk-nag stays clean; figure 8's template reader
 * counts them.
 */
import type { CfnElement } from 'aws-cdk-lib';
import { channelSecretsOf } from '../../bench/cost/template';
import { lambdaConfig } from '../../channels';
import { synth, type Synth } from './helpers';

const CONFIG = `
clusters: [prod]
channels:
  team: { type: slack, secretParameter: /tocsin/slack/team, webhookUrl: "http://127.0.0.1:9/local-only" }
  app: { type: slack, channel: C0123ABCD, botTokenParameter: /tocsin/slack/bot }
  pager: { type: pagerduty, secretParameter: pd-oncall }
  hook: { type: webhook, url: "https://hooks.example.com/tocsin", secretParameter: /tocsin/webhook/ops }
  ops-teams: { type: teams, secretParameter: /tocsin/teams/ops }
rules:
  - name: all
    channels: [team, app, pager, hook, ops-teams]
`;

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
type R = { Type: string; Properties: Record<string, any> };
let s: Synth;
let resources: Record<string, R>;

const roleIdOf = (fn: { role?: unknown }) => s.stack.getLogicalId((fn.role as { node: { defaultChild: CfnElement } }).node.defaultChild);
const statementsOf = (roleId: string): Statement[] =>
  Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
const actions = (st: Statement) => [st.Action].flat();
/** The ARN's text after the account: `parameter/...` for SSM. */
const arnTail = (arn: unknown) => {
  const parts = (arn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return String(parts[parts.length - 1]).replace(/^:/, '');
};

beforeAll(() => {
  // With the cdk-nag packs registered as bin/tocsin.ts does: an unacknowledged finding fails synthesis.
  s = synth({ bundle: false, config: CONFIG });
  resources = s.template.toJSON().Resources;
});

test('the channel worker may GetParameter exactly the five parameters, and nothing of Secrets Manager or KMS', () => {
  const statements = statementsOf(roleIdOf(s.stack.channels.worker!.function));
  const ssm = statements.filter((st) => actions(st).some((a) => a.startsWith('ssm:')));
  expect(ssm.every((st) => st.Effect === 'Allow' && actions(st).join() === 'ssm:GetParameter')).toBe(true);
  const arns = ssm.flatMap((st) => [st.Resource].flat());
  expect(arns.map(arnTail).sort()).toEqual(['parameter/pd-oncall', 'parameter/tocsin/slack/bot', 'parameter/tocsin/slack/team', 'parameter/tocsin/teams/ops', 'parameter/tocsin/webhook/ops']);
  // Each in the stack's own partition, region and account.
  for (const arn of arns) expect(JSON.stringify(arn)).toMatch(/^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ssm:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":parameter\//);
  expect(statements.flatMap(actions).filter((a) => a.startsWith('secretsmanager:') || a.startsWith('kms:'))).toEqual([]);
});

test("the ingest function may read the Slack app's parameter (its signing secret), besides the cluster keys, and no secret", () => {
  const statements = statementsOf(roleIdOf(s.stack.ingestApi.ingestFunction));
  const parameters = statements.filter((st) => actions(st).includes('ssm:GetParameter')).flatMap((st) => [st.Resource].flat()).map(arnTail);
  expect(parameters).toContain('parameter/tocsin/slack/bot');
  expect(parameters.filter((p) => !p.startsWith('parameter/tocsin/Tocsin/'))).toEqual(['parameter/tocsin/slack/bot']);
  expect(statements.flatMap(actions).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
});

test("no Secrets Manager grant anywhere but the key parameters' provider (it copies the cluster keys' secrets of before 2026-12)", () => {
  const provider = roleIdOf(s.stack.clusterSecrets.provider);
  const withSecrets = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.PolicyDocument.Statement as Statement[]).some((st) => actions(st).some((a) => a.startsWith('secretsmanager:'))))
    .map((r) => JSON.stringify(r.Properties.Roles));
  expect(withSecrets).toEqual([JSON.stringify([{ Ref: provider }])]);
});

test('the Lambdas are told the parameter names (forLambda), not the local-only webhook URL', () => {
  const { channels } = lambdaConfig(s.stack.config.runtime);
  expect(channels.team).toEqual({ type: 'slack', secretParameter: '/tocsin/slack/team' });
  expect(channels.app).toEqual({ type: 'slack', channel: 'C0123ABCD', botTokenParameter: '/tocsin/slack/bot' });
  expect(channels.pager).toEqual({ type: 'pagerduty', secretParameter: 'pd-oncall' });
});

test("figure 8's template reader counts the worker's parameters and secrets", () => {
  expect(channelSecretsOf(resources)).toEqual({ channelParameters: 5, channelSecrets: 0 });
});
