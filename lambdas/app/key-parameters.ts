/**
 * The custom resource that makes one key parameter (KEY_PARAMETERS): a CloudFormation
 * request in, what domain/key-parameters.ts decides done against the store, one response
 * out. Every request is answered, failures included: an unanswered request holds the stack
 * operation for an hour. Neither the response nor the log carries a value.
 */
import { generateClusterKey, keyParameterSource, planKeyParameter, type KeyParameterKind, type KeyParameterRequest, type LegacySecret } from '../domain/key-parameters';
import type { Logger } from './runtime';

/** Parameter Store and the secrets the parameters replace (adapters/key-parameter-store.ts). */
export interface KeyParameterStore {
  parameterExists(name: string): Promise<boolean>;
  legacySecret(secretName: string): Promise<LegacySecret>;
  /** Creates the parameter; fails (ParameterAlreadyExists) when it exists: never overwrites. */
  create(name: string, value: string, description: string): Promise<void>;
}

/** The custom resource's properties (lib/cluster-secrets.ts): names and words only, never a value. */
export interface KeyParameterProperties {
  readonly Name: string;
  readonly Kind: KeyParameterKind;
  readonly Description: string;
  /** The Secrets Manager secret whose value a new parameter takes when it exists. */
  readonly LegacySecretName: string;
}

/** The parts of a CloudFormation custom resource request this resource reads. */
export interface CustomResourceRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

/** CloudFormation's response object (PUT to the request's ResponseURL). No Data: no value leaves. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly NoEcho: true;
}

export interface KeyParameterDeps {
  readonly store: KeyParameterStore;
  readonly respond: (url: string, response: CustomResourceResponse) => Promise<void>;
  /** A uniform integer in [0, n) from a cryptographic source. */
  readonly randomIndex: (n: number) => number;
  readonly logger: Logger;
  /** Where CloudFormation can read more (the log stream), named in a failure's Reason. */
  readonly logStream: string;
}

const KINDS: ReadonlySet<string> = new Set<KeyParameterKind>(['key', 'placeholder']);

function propertiesOf(raw: Readonly<Record<string, unknown>>): KeyParameterProperties {
  const { Name, Kind, Description, LegacySecretName } = raw;
  if (typeof Name !== 'string' || !/^\/[A-Za-z0-9_.\-/]+$/.test(Name)) throw new Error(`Name must be a parameter name starting with "/", got ${JSON.stringify(Name)}`);
  if (typeof Kind !== 'string' || !KINDS.has(Kind)) throw new Error(`Kind must be one of ${[...KINDS].join(', ')}, got ${JSON.stringify(Kind)}`);
  if (typeof Description !== 'string') throw new Error('Description must be a string');
  if (typeof LegacySecretName !== 'string' || LegacySecretName === '') throw new Error('LegacySecretName must be a secret name');
  return { Name, Kind: Kind as KeyParameterKind, Description, LegacySecretName };
}

function redacted(err: unknown, value: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (!e.message.includes(value)) return e;
  const out = new Error(e.message.split(value).join('<value>'));
  out.name = e.name;
  return out;
}

export function keyParameterHandler(deps: KeyParameterDeps): (request: CustomResourceRequest) => Promise<void> {
  const { store, logger } = deps;

  async function apply(request: CustomResourceRequest): Promise<string> {
    const props = propertiesOf(request.ResourceProperties);
    const input: KeyParameterRequest =
      request.RequestType === 'Create'
        ? { type: 'Create', name: props.Name }
        : { type: request.RequestType, name: props.Name, physicalId: request.PhysicalResourceId ?? '' };
    const plan = planKeyParameter(input);
    if (plan.action === 'none') {
      logger.info('key parameter: nothing to delete', { request: request.RequestType, physicalId: plan.physicalId });
    } else if (plan.action === 'retain') {
      logger.info('key parameter retained: its resource is deleted, the key is kept', { name: plan.name });
    } else {
      const exists = await store.parameterExists(plan.name);
      // An existing parameter is kept without asking for the secret: no read of a value it would not use.
      const legacy = exists ? ({ state: 'absent' } as const) : await store.legacySecret(props.LegacySecretName);
      const source = keyParameterSource(plan.name, exists, props.LegacySecretName, legacy);
      if (source.source === 'refuse') throw new Error(source.reason);
      if (source.source !== 'keep') {
        const value = source.source === 'copy' ? source.value : generateClusterKey(deps.randomIndex);
        try {
          await store.create(plan.name, value, props.Description);
        } catch (err) {
          // Validation errors may quote the value they refused: it must not reach CloudFormation's events or the log.
          throw redacted(err, value);
        }
      }
      logger.info('key parameter ensured', { request: request.RequestType, name: plan.name, kind: props.Kind, source: source.source, ...(source.source === 'copy' ? { from: props.LegacySecretName } : {}) });
    }
    return plan.physicalId;
  }

  return async (request) => {
    const base = { StackId: request.StackId, RequestId: request.RequestId, LogicalResourceId: request.LogicalResourceId, NoEcho: true as const };
    let response: CustomResourceResponse;
    try {
      response = { ...base, Status: 'SUCCESS', PhysicalResourceId: await apply(request) };
    } catch (err) {
      const reason = err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
      logger.error('key parameter request failed', { request: request.RequestType, logicalId: request.LogicalResourceId, error: reason });
      // A failed Create has made nothing: its id is no parameter name, so the rollback's Delete deletes nothing.
      const physicalId = request.PhysicalResourceId ?? `failed-create:${request.RequestId}`;
      response = { ...base, Status: 'FAILED', Reason: `${reason} (log stream ${deps.logStream})`.slice(0, 1000), PhysicalResourceId: physicalId };
    }
    await deps.respond(request.ResponseURL, response);
  };
}
