/**
 * Stateful resources keep their CloudFormation logical ids: a new id replaces the resource
 * on the next deploy (queued messages lost, admin and cluster keys regenerated, and a
 * named secret cannot be replaced at all: the deploy fails). The ids below are those of
 * the first deployed layout; moving a construct must keep them (lib/logical-ids.ts).
 */
import type { CfnElement } from 'aws-cdk-lib';
import { logicalIdAt } from '../../lib/logical-ids';
import { synth, type Synth } from './helpers';

const CONFIG = `
clusters: [prod, staging-eu]
channels:
  ops: { type: email, addresses: [ops@example.com] }
  oncall: { type: email, addresses: [oncall@example.com, pager@example.com], minSeverity: critical }
  team: { type: slack, secretName: tocsin/slack/team }
  noise: { type: slack, secretName: tocsin/slack/noise }
deployment: { customerManagedKey: true }   # the key of the first layout: opted into, it keeps its id
`;

const STATEFUL: Readonly<Record<string, readonly string[]>> = {
  'AWS::DynamoDB::Table': ['StateTable962DE04C'],
  'AWS::KMS::Key': ['TopicsKey64CE8550'],
  'AWS::SNS::Topic': ['TopicsAlertsTopic35C80786', 'TopicsOpsTopicABD451A0'],
  'AWS::SNS::TopicPolicy': ['TopicsAlertsTopicPolicy90F375D0', 'TopicsOpsTopicPolicy93D0E751'],
  'AWS::SNS::Subscription': [
    'NotificationsSlacknoiseTocsinTopicsAlertsTopic20895E38A57C7181',
    'NotificationsSlackteamTocsinTopicsAlertsTopic20895E38D85C5EB4',
    'TopicsEmailoncalloncallexamplecom18F14C92',
    'TopicsEmailoncallpagerexamplecomA4EDD5E3',
    'TopicsEmailopsopsexamplecom2135BD12',
    'TopicsOpsoncallexamplecomB397C0CB',
    'TopicsOpsopsexamplecom25EFE9F5',
    'TopicsOpspagerexamplecom2E1D5C91',
  ],
  'AWS::SQS::Queue': [
    'NotificationsSlackDlq21B896E1',
    'NotificationsSlacknoise1BA790FF',
    'NotificationsSlackteamE94953B5',
    'NotificationsTimersDlq5FF02C80',
    'NotificationsTimersQueueDDFBF79B',
    'SweeperDlqB2EC2E6F',
    'TopicsDeliveryDlqE62D750E',
  ],
  'AWS::SQS::QueuePolicy': [
    'NotificationsSlackDlqPolicy3B2F0BCC',
    'NotificationsSlacknoisePolicyEE495B2E',
    'NotificationsSlackteamPolicy13305CBD',
    'NotificationsTimersDlqPolicyE7BCEF22',
    'NotificationsTimersQueuePolicy37BB425D',
    'SweeperDlqPolicy3F4B6452',
    'TopicsDeliveryDlqPolicyCE5C50E8',
  ],
  // Issue 16: the per-cluster keys moved from Secrets Manager secrets (gone from the template) to
  // SecureString parameters made by a custom resource, which copies each secret's value when it
  // creates the parameter: the keys survive the move. From here on these ids must stay.
  'Custom::TocsinKeyParameter': [
    'ClusterSecretsKeyParameteradminprod5735CFB1',
    'ClusterSecretsKeyParameteradminstagingeu19EE9139',
    'ClusterSecretsKeyParameterconsulTokenprodA2D6A72B',
    'ClusterSecretsKeyParameterconsulTokenstagingeu40EB0AE8',
    'ClusterSecretsKeyParameterhmacprod61CA63F1',
    'ClusterSecretsKeyParameterhmacstagingeu8060A3B5',
    'ClusterSecretsKeyParameterviewerprod76480B76',
    'ClusterSecretsKeyParameterviewerstagingeu5032B2CE',
  ],
  'AWS::SecretsManager::Secret': [],
};

let s: Synth;
beforeAll(() => {
  s = synth({ bundle: false, nag: false, config: CONFIG });
});

test.each(Object.entries(STATEFUL))('%s: the logical ids of the deployed layout', (type, ids) => {
  expect(Object.keys(s.template.findResources(type)).sort()).toEqual([...ids].sort());
});

test('logicalIdAt computes the id CDK allocates at a construct path', () => {
  const table = s.stack.stateTable.table.node.defaultChild as CfnElement;
  expect(logicalIdAt('State/Table/Resource')).toBe(s.stack.getLogicalId(table));
  const parameter = s.stack.clusterSecrets.ofRole('hmac').find((p) => p.cluster === 'staging-eu')!.resource.node.defaultChild as CfnElement;
  expect(logicalIdAt('ClusterSecrets/KeyParameter-hmac-staging-eu/Default')).toBe(s.stack.getLogicalId(parameter));
  // Repeated components are dropped from the readable part, "Default" from both parts.
  expect(logicalIdAt('Ingest/HttpApi/POST--v1--ingest/IngestIntegration-Permission')).toBe('IngestHttpApiPOSTv1ingestIngestIntegrationPermissionC9C14BB6');
  expect(logicalIdAt('Topics/Default/Key/Resource')).toBe('TopicsKey64CE8550');
});
