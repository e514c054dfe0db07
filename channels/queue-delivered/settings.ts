/** `delivery.<kind>` of a queue-delivered kind (PagerDuty, webhook): attempts before the DLQ, local pacing. */
import type { JsonSchema } from '../kind';

export interface QueueDeliverySettings {
  /** Delivery attempts per notification before the dead-letter queue. */
  maxReceiveCount: number;
  /** `npm start`: pacing per destination (default: the kind's deployed pacing). */
  minIntervalMs?: number;
}

export function queueDeliverySettings(what: string): { schema: JsonSchema; read(raw: Record<string, unknown> | undefined): QueueDeliverySettings } {
  return {
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxReceiveCount: {
          description: `Delivery attempts per ${what} notification (429, 5xx, network errors) before it goes to the dead-letter queue.`,
          type: 'integer',
          minimum: 1,
          maximum: 100,
          default: 5,
        },
        minIntervalMs: {
          description: 'npm start: at least this long between two sends to one destination.',
          type: 'integer',
          minimum: 0,
          maximum: 60000,
        },
      },
    },
    read: (raw) => ({
      maxReceiveCount: (raw?.maxReceiveCount as number | undefined) ?? 5,
      ...(raw?.minIntervalMs !== undefined ? { minIntervalMs: raw.minIntervalMs as number } : {}),
    }),
  };
}

/**
 * HTTP answers retrying cannot change: a 4xx other than 408 (timeout) and 429 (rate
 * limited). 5xx, 408, 429 and network errors are retried with backoff until the redrive.
 */
export function isPermanentHttpFailure(res: { status: number }): boolean {
  return res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
}
