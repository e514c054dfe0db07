/**
 * The move of the cluster keys from Secrets Manager to SSM parameters, end to end over the
 * real template: the custom resources of a synthesized stack, run through the handler as
 * CloudFormation would send them, against the local Parameter Store and Secrets Manager
 * seeded with the secrets a stack deployed before the move holds (their names as the old
 * lib/cluster-secrets.ts made them). Every key must come out the same, read by the ingest
 * function's adapters with the prefixes the template gives it; a second deploy changes none.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import type { CfnElement } from 'aws-cdk-lib';
import { putCloudFormationResponse } from '../../lambdas/adapters/cloudformation-response';
import { SsmClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { SsmConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { AwsKeyParameterStore } from '../../lambdas/adapters/key-parameter-store';
import { keyParameterHandler, type CustomResourceResponse } from '../../lambdas/app/key-parameters';
import { KEY_PARAMETERS, LAMBDA_ENV } from '../../lambdas/commons/deployment';
import { tokenDigest } from '../../lambdas/domain/consul/tokens';
import { fakeParameterStore } from '../support/fake-parameter-store';
import { synth } from './helpers';

const CLUSTERS = ['prod', 'staging-eu'];
/** The secret names a stack "Tocsin" deployed before the move holds (tocsin/<stack>/<kind>/<cluster>[suffix]). */
const OLD_SECRETS = (cluster: string): Record<string, string> => ({
  [`tocsin/Tocsin/cluster/${cluster}`]: `hmac-${cluster}-NEWKEY hmac-${cluster}-OLDKEY`,
  [`tocsin/Tocsin/cluster/${cluster}/consul-http-token-sha256`]: tokenDigest(`token-${cluster}`),
  [`tocsin/Tocsin/admin/${cluster}`]: `admin-${cluster}`,
  [`tocsin/Tocsin/viewer/${cluster}`]: `viewer-${cluster}`,
});

let server: Server;
let url: string;
const responses: CustomResourceResponse[] = [];
beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      responses.push(JSON.parse(body) as CustomResourceResponse);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test('upgrading a deployed stack copies every key into its parameter, the ingest adapters read the same keys, and a redeploy changes nothing', async () => {
  const s = synth({ bundle: false, nag: false, config: `clusters: [${CLUSTERS.join(', ')}]\n` });
  const resources = s.template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const keyResources = Object.entries(resources).filter(([, r]) => r.Type === KEY_PARAMETERS.resourceType);
  expect(keyResources).toHaveLength(4 * CLUSTERS.length);

  const fake = fakeParameterStore();
  for (const c of CLUSTERS) for (const [name, value] of Object.entries(OLD_SECRETS(c))) fake.secrets.set(name, value);
  const handle = keyParameterHandler({
    store: new AwsKeyParameterStore(fake.ssm, fake.secretsManager),
    respond: putCloudFormationResponse,
    randomIndex: (n) => randomInt(n),
    logger: { info: () => undefined, error: () => undefined },
    logStream: 'stream',
  });
  const deploy = async (type: 'Create' | 'Update') => {
    for (const [id, r] of keyResources) {
      await handle({
        RequestType: type,
        ResponseURL: url,
        StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Tocsin/1',
        RequestId: `${type}-${id}`,
        LogicalResourceId: id,
        ...(type === 'Update' ? { PhysicalResourceId: String(r.Properties.Name) } : {}),
        ResourceProperties: r.Properties,
      });
    }
  };
  await deploy('Create');
  expect(responses.map((r) => r.Status)).toEqual(Array(keyResources.length).fill('SUCCESS'));
  // Every old secret's value, now a standard-tier SecureString at "/" + its name.
  const expected = Object.fromEntries(CLUSTERS.flatMap((c) => Object.entries(OLD_SECRETS(c)).map(([name, value]) => [`/${name}`, value])));
  expect(Object.fromEntries([...fake.parameters].map(([name, p]) => [name, p.value]))).toEqual(expected);
  for (const p of fake.parameters.values()) expect({ type: p.type, tier: p.tier }).toEqual({ type: 'SecureString', tier: 'Standard' });

  // The ingest function, with the environment the template gives it, reads the keys nodes and operators hold.
  const ingestId = s.stack.getLogicalId(s.stack.ingestApi.ingestFunction.node.defaultChild as CfnElement);
  const env = (resources[ingestId]!.Properties.Environment as { Variables: Record<string, string> }).Variables;
  const clusters = new Set(CLUSTERS);
  for (const c of CLUSTERS) {
    expect(await new SsmClusterKeys(fake.ssm, env[LAMBDA_ENV.clusterSecretPrefix]!, clusters).keyFor(c)).toBe(`hmac-${c}-NEWKEY hmac-${c}-OLDKEY`);
    expect(await new SsmClusterKeys(fake.ssm, env[LAMBDA_ENV.adminSecretPrefix]!, clusters).keyFor(c)).toBe(`admin-${c}`);
    expect(await new SsmClusterKeys(fake.ssm, env[LAMBDA_ENV.viewerSecretPrefix]!, clusters).keyFor(c)).toBe(`viewer-${c}`);
    expect(await new SsmConsulTokens(fake.ssm, env[LAMBDA_ENV.clusterSecretPrefix]!, clusters).verify(c, `token-${c}`)).toBe(true);
  }

  // A later deploy (CloudFormation deleted the old secrets; an operator rotated a key since) changes no key.
  fake.secrets.clear();
  fake.parameters.get('/tocsin/Tocsin/admin/prod')!.value = 'rotated-admin';
  await deploy('Update');
  expect(fake.parameters.get('/tocsin/Tocsin/admin/prod')?.value).toBe('rotated-admin');
  expect(fake.parameters.get('/tocsin/Tocsin/cluster/prod')?.value).toBe('hmac-prod-NEWKEY hmac-prod-OLDKEY');
  expect([...fake.parameters.values()].every((p) => p.version === 1)).toBe(true);
  expect(responses.filter((r) => r.Status !== 'SUCCESS')).toEqual([]);
});
