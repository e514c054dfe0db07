/**
 * AWS SDK failures as the application's ports know them: throttling and server-side errors
 * become TransientError (app/errors.ts), anything else passes unchanged. Every adapter over
 * an AWS client sends through awsCall, so no code above the adapters knows AWS error names.
 */
import { TransientError } from '../app/errors';

/** Throttling and server-side failures of AWS services: worth a retry. */
const TRANSIENT_ERRORS: ReadonlySet<string> = new Set([
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'InternalServerError',
  'InternalFailure',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'TimeoutError',
]);

export function isTransientAwsError(err: unknown): boolean {
  const e = err as { name?: string; $retryable?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number } } | null;
  if (!e || typeof e !== 'object') return false;
  return Boolean(e.$retryable) || e.$fault === 'server' || TRANSIENT_ERRORS.has(e.name ?? '') || (e.$metadata?.httpStatusCode ?? 0) >= 500;
}

/** The call's result; an AWS throttling or server-side failure as a TransientError naming it. */
export async function awsCall<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (!isTransientAwsError(err)) throw err;
    const { name, message } = err as Error;
    throw new TransientError(`${name}: ${message}`, { cause: err });
  }
}
