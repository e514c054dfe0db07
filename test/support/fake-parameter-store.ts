/**
 * A local Parameter Store and Secrets Manager behind real SDK v3 clients (SSMClient,
 * SecretsManagerClient: their serializers and error parsing run), answering the awsJson1_1
 * wire the way the services do for the calls tocsin makes, with their contract enforced:
 * - PutParameter: Type required on create; Overwrite false (the default) on an existing name
 *   fails with ParameterAlreadyExists; names of [a-zA-Z0-9_.-/], a name with "/" fully
 *   qualified (leading "/"), no "aws"/"ssm" prefix, at most 15 levels and 1011 characters;
 *   standard-tier values at most 4096 bytes (ValidationException);
 * - GetParameter: ParameterNotFound; a SecureString without WithDecryption returns ciphertext;
 * - DeleteParameter: ParameterNotFound;
 * - GetSecretValue: ResourceNotFoundException; a secret pending deletion InvalidRequestException.
 * Sources: the SSM API reference (PutParameter, GetParameter) and the user guide's
 * "Managing parameter tiers"; Secrets Manager's GetSecretValue reference.
 */
import { Readable } from 'node:stream';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm';

export interface StoredParameter {
  value: string;
  type: 'String' | 'StringList' | 'SecureString';
  tier: 'Standard' | 'Advanced';
  version: number;
  description?: string;
}

export interface FakeParameterStore {
  ssm: SSMClient;
  secretsManager: SecretsManagerClient;
  parameters: Map<string, StoredParameter>;
  /** Secret name -> value, or 'scheduled-for-deletion'. */
  secrets: Map<string, string | { scheduledForDeletion: true }>;
  /** Every call, as `Service.Operation name` (never a value). */
  calls: string[];
  /** Makes the next call of this operation fail with this error type (an outage, a throttle); the message may quote the request's Value as `{Value}`. */
  failNext: (operation: string, type: string, status?: number, message?: string) => void;
  /** The next `times` calls of `operation` fail with `type` (e.g. ThrottlingException, 400). */
  failTimes: (operation: string, type: string, times: number, status?: number) => void;
}

class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const STANDARD_MAX_BYTES = 4096;

function checkName(name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new ServiceError('ValidationException', 'Parameter name is required');
  if (name.length > 1011) throw new ServiceError('ValidationException', 'Parameter name is longer than 1011 characters');
  if (!/^[a-zA-Z0-9_.\-/]+$/.test(name)) throw new ServiceError('ValidationException', 'Parameter name: can only include a-zA-Z0-9_.-/');
  if (name.includes('/') && !name.startsWith('/')) throw new ServiceError('ValidationException', 'Parameter name must be a fully qualified name.');
  if (/^\/?(aws|ssm)/i.test(name)) throw new ServiceError('ValidationException', 'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive).');
  if (name.split('/').filter(Boolean).length > 15) throw new ServiceError('HierarchyLevelLimitExceededException', 'Parameter hierarchies are limited to 15 levels');
  return name;
}

/** `ssmConfig`: settings of the SSM client over the defaults here (one attempt), e.g. the stack's PARAMETER_STORE_CLIENT. */
export function fakeParameterStore(ssmConfig: Pick<SSMClientConfig, 'maxAttempts'> = {}): FakeParameterStore {
  const fake: FakeParameterStore = {
    ssm: undefined as unknown as SSMClient,
    secretsManager: undefined as unknown as SecretsManagerClient,
    parameters: new Map(),
    secrets: new Map(),
    calls: [],
    failNext: (operation, type, status = 400, message = 'injected') => injected.set(operation, { type, status, message, times: 1 }),
    failTimes: (operation, type, times, status = 400) => injected.set(operation, { type, status, message: 'Rate exceeded', times }),
  };
  const injected = new Map<string, { type: string; status: number; message: string; times: number }>();

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    'AmazonSSM.GetParameter': (input) => {
      const name = checkName(input.Name);
      const p = fake.parameters.get(name);
      if (!p) throw new ServiceError('ParameterNotFound', '');
      const value = p.type === 'SecureString' && input.WithDecryption !== true ? Buffer.from(`kms-ciphertext:${name}`).toString('base64') : p.value;
      return { Parameter: { Name: name, Type: p.type, Value: value, Version: p.version, ARN: `arn:aws:ssm:us-east-1:123456789012:parameter${name}`, DataType: 'text' } };
    },
    'AmazonSSM.PutParameter': (input) => {
      const name = checkName(input.Name);
      const value = input.Value;
      if (typeof value !== 'string' || value === '') throw new ServiceError('ValidationException', 'Value is required');
      const tier = (input.Tier as StoredParameter['tier'] | undefined) ?? 'Standard';
      if (tier === 'Standard' && Buffer.byteLength(value) > STANDARD_MAX_BYTES) {
        throw new ServiceError('ValidationException', `Standard tier parameters support a maximum parameter value of ${STANDARD_MAX_BYTES} characters.`);
      }
      const existing = fake.parameters.get(name);
      if (existing && input.Overwrite !== true) throw new ServiceError('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
      const type = (input.Type as StoredParameter['type'] | undefined) ?? existing?.type;
      if (!type) throw new ServiceError('ValidationException', 'A parameter type is required when you create a parameter.');
      const version = (existing?.version ?? 0) + 1;
      fake.parameters.set(name, { value, type, tier, version, ...(typeof input.Description === 'string' ? { description: input.Description } : {}) });
      return { Version: version, Tier: tier };
    },
    'AmazonSSM.DeleteParameter': (input) => {
      const name = checkName(input.Name);
      if (!fake.parameters.delete(name)) throw new ServiceError('ParameterNotFound', '');
      return {};
    },
    'secretsmanager.GetSecretValue': (input) => {
      const id = String(input.SecretId);
      const s = fake.secrets.get(id);
      if (s === undefined) throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      if (typeof s !== 'string') throw new ServiceError('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
      return { ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`, Name: id, SecretString: s, VersionId: 'v1', CreatedDate: 1_800_000_000 };
    },
  };

  const handle = async (request: { headers: Record<string, string>; body?: unknown }) => {
    const target = request.headers['x-amz-target'] ?? '';
    const body = request.body === undefined ? '{}' : request.body instanceof Uint8Array ? new TextDecoder().decode(request.body) : String(request.body);
    const input = JSON.parse(body) as Record<string, unknown>;
    fake.calls.push(`${target} ${String(input.Name ?? input.SecretId ?? '')}`);
    const reply = (statusCode: number, body: unknown) => ({
      response: { statusCode, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(JSON.stringify(body))]) },
    });
    const op = operations[target];
    if (!op) return reply(400, { __type: 'UnknownOperationException', message: target });
    const fault = injected.get(target);
    if (fault) {
      if (--fault.times <= 0) injected.delete(target);
      return reply(fault.status, { __type: fault.type, message: fault.message.replace('{Value}', String(input.Value ?? '')) });
    }
    try {
      return reply(200, op(input));
    } catch (err) {
      if (err instanceof ServiceError) return reply(err.status, { __type: err.type, message: err.message });
      throw err;
    }
  };
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'fake', secretAccessKey: 'fake' }, maxAttempts: 1, requestHandler: { handle } };
  fake.ssm = new SSMClient({ ...config, ...ssmConfig });
  fake.secretsManager = new SecretsManagerClient(config);
  return fake;
}
