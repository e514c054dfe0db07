/**
 * A backing service is throttling or briefly unavailable: the same call may well succeed
 * later. Adapters raise it (adapters/aws-errors.ts); the ingest API answers it with 503 and
 * retry-after, so the sender keeps the request and retries.
 */
export class TransientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TransientError';
  }
}
