/**
 * The custom resource that makes the cluster key parameters (SecureString, which
 * CloudFormation cannot create): the decisions from a table, then the handler against the
 * local Parameter Store and Secrets Manager (real SDK clients, the services' contract) with
 * its answer PUT to a real HTTP server standing in for CloudFormation's ResponseURL.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import { putCloudFormationResponse } from '../../lambdas/adapters/cloudformation-response';
import { AwsKeyParameterStore } from '../../lambdas/adapters/key-parameter-store';
import { keyParameterHandler, type CustomResourceRequest, type CustomResourceResponse } from '../../lambdas/app/key-parameters';
import { jsonLogger } from '../../lambdas/commons/logger';
import { CLUSTER_KEY_LENGTH, generateClusterKey, keyParameterSource, planKeyParameter, type KeyParameterRequest, type LegacySecret } from '../../lambdas/domain/key-parameters';
import { fakeParameterStore } from '../support/fake-parameter-store';

const NAME = '/tocsin/Tocsin/cluster/prod';
const LEGACY = 'tocsin/Tocsin/cluster/prod';

describe('planKeyParameter', () => {
  it.each<[string, KeyParameterRequest, ReturnType<typeof planKeyParameter>]>([
    ['create: ensure it, named by its id', { type: 'Create', name: NAME }, { action: 'ensure', name: NAME, physicalId: NAME }],
    ['update, same name: ensure (kept when it exists)', { type: 'Update', name: NAME, physicalId: NAME }, { action: 'ensure', name: NAME, physicalId: NAME }],
    ['update to a new name: ensure the new one; CloudFormation deletes the old id', { type: 'Update', name: '/tocsin/New/cluster/prod', physicalId: NAME }, { action: 'ensure', name: '/tocsin/New/cluster/prod', physicalId: '/tocsin/New/cluster/prod' }],
    ['delete: the parameter is retained (a re-created resource of a new logical id holds the same name)', { type: 'Delete', name: NAME, physicalId: NAME }, { action: 'retain', name: NAME, physicalId: NAME }],
    ['delete after a failed create: nothing was made', { type: 'Delete', name: NAME, physicalId: 'failed-create:r1' }, { action: 'none', physicalId: 'failed-create:r1' }],
    ["delete of a renamed resource's old id retains the old parameter", { type: 'Delete', name: '/tocsin/Old/cluster/prod', physicalId: '/tocsin/Old/cluster/prod' }, { action: 'retain', name: '/tocsin/Old/cluster/prod', physicalId: '/tocsin/Old/cluster/prod' }],
  ])('%s', (_name, request, plan) => {
    expect(planKeyParameter(request)).toEqual(plan);
  });
});

describe('keyParameterSource', () => {
  it.each<[string, boolean, LegacySecret, string]>([
    ['an existing parameter is kept, whatever the secret holds', true, { state: 'present', value: 'other' }, 'keep'],
    ['an existing parameter is kept without a secret', true, { state: 'absent' }, 'keep'],
    ['no parameter, a secret: its key is copied', false, { state: 'present', value: 'NEW OLD' }, 'copy'],
    ['no parameter, no secret: a new key', false, { state: 'absent' }, 'generate'],
    ['a secret pending deletion: refused (its key may be on nodes)', false, { state: 'scheduledForDeletion' }, 'refuse'],
    ['an empty secret: refused', false, { state: 'present', value: '  ' }, 'refuse'],
    ['a secret over the standard tier 4 KB: refused', false, { state: 'present', value: 'k'.repeat(4097) }, 'refuse'],
    ['a secret of exactly 4 KB: copied', false, { state: 'present', value: 'k'.repeat(4096) }, 'copy'],
  ])('%s', (_name, exists, legacy, source) => {
    const out = keyParameterSource(NAME, exists, LEGACY, legacy);
    expect(out.source).toBe(source);
    if (out.source === 'copy' && legacy.state === 'present') expect(out.value).toBe(legacy.value);
  });

  it('a refusal says what to do', () => {
    const out = keyParameterSource(NAME, false, LEGACY, { state: 'scheduledForDeletion' });
    expect(out).toEqual({ source: 'refuse', reason: expect.stringContaining(`aws secretsmanager restore-secret --secret-id ${LEGACY}`) });
  });
});

describe('generateClusterKey', () => {
  it('48 alphanumeric characters with each class, uniform over 62 symbols', () => {
    const keys = Array.from({ length: 200 }, () => generateClusterKey((n) => randomInt(n)));
    for (const k of keys) expect(k).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[A-Za-z0-9]{48}$/);
    expect(new Set(keys).size).toBe(keys.length);
    expect(CLUSTER_KEY_LENGTH).toBe(48);
    // A source that first yields only digits is retried until every class appears.
    let i = 0;
    const key = generateClusterKey((n) => (i++ < 48 ? 61 : i % n));
    expect(key).toMatch(/[A-Z]/);
    expect(i).toBe(96);
  });
});

describe('the custom resource handler', () => {
  let server: Server;
  let responses: Array<{ contentType: string | undefined; body: CustomResourceResponse }>;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        expect(req.method).toBe('PUT');
        responses.push({ contentType: req.headers['content-type'], body: JSON.parse(body) as CustomResourceResponse });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cfn-response?X-Amz-Signature=abc`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const setup = () => {
    responses = [];
    const fake = fakeParameterStore();
    const lines: string[] = [];
    const handle = keyParameterHandler({
      store: new AwsKeyParameterStore(fake.ssm, fake.secretsManager),
      respond: putCloudFormationResponse,
      randomIndex: (n) => randomInt(n),
      logger: jsonLogger((l) => lines.push(l)),
      logStream: '2026/12/02/[$LATEST]abc',
    });
    return { fake, lines, handle };
  };
  const request = (type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown> = {}, physicalId?: string): CustomResourceRequest => ({
    RequestType: type,
    ResponseURL: url,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Tocsin/1',
    RequestId: `req-${type}`,
    LogicalResourceId: 'ClusterSecretsKeyParameterclusterprod',
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:fn', Name: NAME, Kind: 'key', Description: 'tocsin: HMAC key of cluster "prod"', LegacySecretName: LEGACY, ...props },
  });

  it('create: copies the secret it replaces into a standard-tier SecureString; no value in the response or the log', async () => {
    const { fake, lines, handle } = setup();
    fake.secrets.set(LEGACY, 'NEWKEY OLDKEY');
    await handle(request('Create'));
    expect(fake.parameters.get(NAME)).toEqual({ value: 'NEWKEY OLDKEY', type: 'SecureString', tier: 'Standard', version: 1, description: 'tocsin: HMAC key of cluster "prod"' });
    expect(responses).toEqual([{ contentType: undefined, body: { Status: 'SUCCESS', PhysicalResourceId: NAME, StackId: expect.any(String), RequestId: 'req-Create', LogicalResourceId: 'ClusterSecretsKeyParameterclusterprod', NoEcho: true } }]);
    expect(JSON.stringify(responses) + lines.join('\n')).not.toMatch(/NEWKEY|OLDKEY/);
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ message: 'key parameter ensured', source: 'copy', from: LEGACY })]);
  });

  it('create without a secret generates a key; update, a retried create and a delete keep it', async () => {
    const { fake, handle } = setup();
    await handle(request('Create'));
    const key = fake.parameters.get(NAME)?.value;
    expect(key).toMatch(/^[A-Za-z0-9]{48}$/);
    await handle(request('Update', { Description: 'changed' }, NAME));
    await handle(request('Create'));
    expect(fake.parameters.get(NAME)).toMatchObject({ value: key, version: 1 });
    // Never asked for the secret once the parameter existed, nor for a value.
    expect(fake.calls.filter((c) => c.startsWith('secretsmanager.'))).toHaveLength(1);
    // A resource moved to a new logical id: created again (kept), then the old one deleted: the key stays.
    await handle(request('Delete', {}, NAME));
    expect(fake.parameters.get(NAME)).toMatchObject({ value: key, version: 1 });
    expect(fake.calls.filter((c) => c.includes('Delete'))).toEqual([]);
    expect(responses.map((r) => r.body.Status)).toEqual(['SUCCESS', 'SUCCESS', 'SUCCESS', 'SUCCESS']);
  });

  it('the Consul token digest gets a placeholder no token matches', async () => {
    const { fake, handle } = setup();
    const name = `${NAME}/consul-http-token-sha256`;
    await handle(request('Create', { Name: name, Kind: 'placeholder', LegacySecretName: `${LEGACY}/consul-http-token-sha256` }));
    expect(fake.parameters.get(name)?.value).toMatch(/^[A-Za-z0-9]{48}$/); // not 64 hex digits: no SHA-256 equals it
  });

  it('failures are answered FAILED with the reason, never leave the request unanswered, and make nothing', async () => {
    const { fake, lines, handle } = setup();
    fake.secrets.set(LEGACY, { scheduledForDeletion: true });
    await handle(request('Create'));
    fake.secrets.delete(LEGACY);
    fake.failNext('secretsmanager.GetSecretValue', 'AccessDeniedException');
    await handle(request('Create'));
    await handle(request('Create', { Name: 'tocsin/no-leading-slash' }));
    await handle(request('Create', { Kind: 'password' }));
    expect(fake.parameters.size).toBe(0);
    expect(responses.map((r) => [r.body.Status, r.body.PhysicalResourceId])).toEqual(Array(4).fill(['FAILED', 'failed-create:req-Create']));
    expect(responses[0]?.body.Reason).toContain('is scheduled for deletion: restore it');
    expect(responses[1]?.body.Reason).toMatch(/^AccessDeniedException: injected \(log stream /);
    expect(responses[2]?.body.Reason).toContain('Name must be a parameter name starting with "/"');
    expect(lines.filter((l) => l.includes('"level":"error"'))).toHaveLength(4);
    // The rollback's Delete of a failed create deletes nothing, even where a parameter of that name exists.
    fake.parameters.set(NAME, { value: 'operator-made', type: 'SecureString', tier: 'Standard', version: 1 });
    await handle(request('Delete', {}, 'failed-create:req-Create'));
    expect(fake.parameters.get(NAME)?.value).toBe('operator-made');
    expect(responses.at(-1)?.body.Status).toBe('SUCCESS');
  });

  it('an error quoting the refused value is answered without it', async () => {
    const { fake, lines, handle } = setup();
    fake.secrets.set(LEGACY, 'SECRETKEY42');
    fake.failNext('AmazonSSM.PutParameter', 'ValidationException', 400, "1 validation error detected: Value '{Value}' at 'value' failed to satisfy constraint");
    await handle(request('Create'));
    expect(responses[0]?.body.Reason).toMatch(/^ValidationException: 1 validation error detected: Value '<value>' at 'value'/);
    expect(JSON.stringify(responses) + lines.join('\n')).not.toContain('SECRETKEY42');
  });

  it('an update whose parameter went missing recreates it from the secret, else a new key', async () => {
    const { fake, handle } = setup();
    fake.secrets.set(LEGACY, 'still-on-the-nodes');
    await handle(request('Update', {}, NAME));
    expect(fake.parameters.get(NAME)?.value).toBe('still-on-the-nodes');
  });
});
