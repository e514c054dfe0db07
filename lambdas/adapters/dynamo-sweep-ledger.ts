/**
 * The sweeper's record in the state table (`pk = sweeper`, `sk = last`): when the last
 * sweep ran and whether it succeeded. Writing it is the sweep's proof that the table takes
 * writes; `tocsin watchers` shows it.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SweepLedger } from '../app/heartbeat-ports';
import { STATE_TABLE } from '../commons/deployment';
import { awsCall } from './aws-errors';

const KEY = { [STATE_TABLE.partitionKey]: 'sweeper', [STATE_TABLE.sortKey]: 'last' };

export class DynamoSweepLedger implements SweepLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(atMs: number, summary: { ok: boolean; tasks: string[] }): Promise<{ previousAt?: number }> {
    const out = await awsCall(
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: KEY,
          UpdateExpression: 'SET #at = :at, ok = :ok, tasks = :tasks',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': atMs, ':ok': summary.ok, ':tasks': summary.tasks },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    const previous = out.Attributes?.at;
    return typeof previous === 'number' ? { previousAt: previous } : {};
  }

  async lastSweep(): Promise<{ at: number; ok: boolean } | undefined> {
    const out = await awsCall(this.doc.send(new GetCommand({ TableName: this.tableName, Key: KEY })));
    const item = out.Item;
    return item && typeof item.at === 'number' ? { at: item.at, ok: item.ok === true } : undefined;
  }
}
