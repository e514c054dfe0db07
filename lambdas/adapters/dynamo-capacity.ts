/**
 * Consumed-capacity reporting for a DynamoDB (document) client, as a metrics hook: every
 * command gets `ReturnConsumedCapacity: 'TOTAL'` and `onConsumed` hears the units DynamoDB
 * says it used. Attach it where the client is built (the benchmark does; a metrics sink
 * could); the store adapters do not change and pay nothing when it is not attached.
 *
 * Not counted: writes refused by a condition (DynamoDB charges them but reports no
 * capacity on ConditionalCheckFailedException) and requests that failed outright.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type ConsumedCapacityListener = (units: number, operation: string) => void;

interface Consumed {
  CapacityUnits?: number;
}

export function reportConsumedCapacity(client: DynamoDBDocumentClient | DynamoDBClient, onConsumed: ConsumedCapacityListener): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: Consumed | Consumed[] }).ConsumedCapacity;
      const operation = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
        if (typeof c.CapacityUnits === 'number') onConsumed(c.CapacityUnits, operation);
      }
      return result;
    },
    { step: 'initialize', name: 'tocsinConsumedCapacity', override: true },
  );
}

export type DynamoCallListener = (operation: string) => void;

/**
 * Every request the client sends, by operation (GetItem, BatchWriteItem ...), failed ones
 * included (a write refused by its condition is a call too): what "DynamoDB calls per
 * transition" counts (test/integration/mass-outage.test.ts, bench figure 9).
 */
export function recordDynamoCalls(client: DynamoDBDocumentClient | DynamoDBClient, onCall: DynamoCallListener): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      onCall(String(context.commandName ?? 'unknown').replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'tocsinCallRecorder', override: true },
  );
}
