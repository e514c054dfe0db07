/**
 * The seam between AWS and the application: adapters turn throttling and server-side
 * failures into TransientError (adapters/aws-errors.ts); the ingest API answers 503 to
 * that port-level error only, whatever names AWS gives its errors.
 */
import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { awsCall, isTransientAwsError } from '../../lambdas/adapters/aws-errors';
import { TransientError } from '../../lambdas/app/errors';
import { healthCheck } from '../support/consul-fixtures';
import { ingestHarness } from '../support/ingest-harness';
import { checksEnvelope, signedEnvelope } from '../support/signed-requests';

const aws = (name: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${name} happened`), { name, ...extra });

describe('AWS errors at the adapter boundary', () => {
  it.each([
    ['throttling by name', aws('ProvisionedThroughputExceededException')],
    ['throttling, SDK-marked retryable', aws('SomethingNew', { $retryable: { throttling: true } })],
    ['a server fault', aws('SomethingNew', { $fault: 'server' })],
    ['an HTTP 5xx', aws('SomethingNew', { $metadata: { httpStatusCode: 503 } })],
    ['an SDK exception instance', new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } })],
  ])('%s becomes a TransientError that names it and keeps it as the cause', async (_what, err) => {
    expect(isTransientAwsError(err)).toBe(true);
    const thrown = await awsCall(Promise.reject(err)).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(TransientError);
    expect((thrown as Error).message).toBe(`${err.name}: ${err.message}`);
    expect((thrown as Error).cause).toBe(err);
  });

  it.each([
    ['a failed condition', new ConditionalCheckFailedException({ message: 'no', $metadata: { httpStatusCode: 400 } })],
    ['a validation error', aws('ValidationException', { $fault: 'client', $metadata: { httpStatusCode: 400 } })],
    ['a plain error', new Error('bug')],
    ['not even an error', 'text'],
  ])('%s passes unchanged', async (_what, err) => {
    expect(await awsCall(Promise.reject(err)).catch((e: unknown) => e)).toBe(err);
  });

  it('passes results through', async () => {
    expect(await awsCall(Promise.resolve(42))).toBe(42);
  });
});

describe('the ingest API and transient failures', () => {
  const KEY = 'k'.repeat(32);
  const send = async (failure: unknown) => {
    const h = ingestHarness({ keys: { prod: KEY } });
    h.store.getScope = async () => {
      throw failure;
    };
    const envelope = checksEnvelope('prod', [healthCheck({ CheckID: 'a', Status: 'critical', ModifyIndex: 7 })]);
    return h.handle(signedEnvelope(envelope, { key: KEY, cluster: 'prod' }));
  };

  it('answers a TransientError with 503 and retry-after', async () => {
    const res = await send(new TransientError('ThrottlingException: rate exceeded'));
    expect(res.status).toBe(503);
    expect(res.headers).toEqual({ 'retry-after': '5' });
    expect(res.body.error).toBe('unavailable');
  });

  it('does not read AWS error names itself: an unmapped one is an internal error', async () => {
    const res = await send(aws('ThrottlingException', { $retryable: {}, $fault: 'server', $metadata: { httpStatusCode: 500 } }));
    expect(res.status).toBe(500);
  });
});
