/**
 * ReplayGuard on the state table: one item per accepted signature,
 * `pk = replay#<cluster>`, `sk = sig#<signature>`, written with a conditional put
 * (attribute_not_exists) and deleted by DynamoDB's TTL once the signature's
 * timestamp can no longer pass the time window (verification rejects it first,
 * so a late TTL deletion never lets a replay through).
 */
import { DeleteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsCall } from './aws-errors';
import type { ReplayGuard } from '../app/signed-request';
import { STATE_TABLE } from '../commons/deployment';
import { isConditionFailure, keys } from './dynamo-state-store';

const PK = STATE_TABLE.partitionKey;
const SK = STATE_TABLE.sortKey;

export class DynamoReplayGuard implements ReplayGuard {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(cluster: string, signature: string) {
    return { [PK]: keys.replay(cluster), [SK]: keys.signature(signature) };
  }

  async firstUse(cluster: string, signature: string, expiresAtSeconds: number): Promise<boolean> {
    try {
      await awsCall(this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(cluster, signature), [STATE_TABLE.ttlAttribute]: expiresAtSeconds },
          ConditionExpression: `attribute_not_exists(${PK})`,
        }),
      ));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async forget(cluster: string, signature: string): Promise<void> {
    await awsCall(this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(cluster, signature) })));
  }
}
