import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { STATE_TABLE } from '../lambdas/commons/deployment';

/**
 * Item-level DynamoDB actions the functions (ingest, timers) may use on the state table.
 * Deliberately narrower than grantReadWriteData (no Scan, DescribeTable or stream reads);
 * TransactWriteItems/TransactGetItems are authorised by these per-item actions.
 */
export const STATE_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

export interface StateTableProps {
  /** @default RemovalPolicy.RETAIN — the table holds the last known state of every check. */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The single-table state store (last-seen snapshots, dedup markers ...).
 * Key schema and TTL attribute come from commons/deployment.ts; CloudFormation names the table.
 */
export class StateTable extends Construct {
  public readonly table: Table;

  constructor(scope: Construct, id: string, props: StateTableProps = {}) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: STATE_TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
