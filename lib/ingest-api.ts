import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpStage, LogGroupLogDestination, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LAMBDA_ENV } from '../lambdas/commons/deployment';
import { ROUTES } from '../lambdas/domain/protocol';
import type { ClusterSecrets } from './cluster-secrets';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from './lambda-bundling';

/** Where the ingest handler lives (written by the Lambda side of the project). */
export const INGEST_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'ingest.ts');

export type RouteName = keyof typeof ROUTES;

/**
 * Item-level DynamoDB actions the ingest Lambda may use on the state table.
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

export interface IngestApiProps {
  readonly table: ITable;
  readonly alertsTopic: ITopic;
  readonly clusterSecrets: ClusterSecrets;
  readonly clusters: readonly string[];
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  /** @default - unreserved (shares the account pool) */
  readonly reservedConcurrency?: number;
  /** @default INGEST_ENTRY */
  readonly entry?: string;
  /** esbuild defines (the bundled runtime config, BUNDLED_CONFIG in commons/deployment.ts). */
  readonly define?: Record<string, string>;
}

/**
 * HTTP API (payload format 2.0) in front of the ingest Lambda. Both protocol
 * routes — signed shim envelopes and Consul's own HTTP watch handler — land on
 * the same function; authentication happens in the handler (HMAC / bearer).
 */
export class IngestApi extends Construct {
  public readonly httpApi: HttpApi;
  /** The `$default` stage, with throttling and JSON access logs. */
  public readonly stage: HttpStage;
  public readonly accessLogGroup: LogGroup;
  public readonly ingestFunction: NodejsFunction;
  public readonly functionRole: Role;
  public readonly functionLogGroup: LogGroup;
  public readonly integration: HttpLambdaIntegration;
  /** Routes created per protocol route name (ROUTES). */
  public readonly routes: Readonly<Record<RouteName, HttpRoute[]>>;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);

    this.functionLogGroup = new LogGroup(this, 'FunctionLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Own role instead of AWSLambdaBasicExecutionRole: log writes scoped to this log group only.
    this.functionRole = new Role(this, 'FunctionRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'tocsin ingest Lambda',
    });
    this.functionLogGroup.grantWrite(this.functionRole);

    this.ingestFunction = new NodejsFunction(this, 'Function', {
      entry: props.entry ?? INGEST_ENTRY,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.seconds(29),
      tracing: Tracing.ACTIVE,
      role: this.functionRole,
      logGroup: this.functionLogGroup,
      reservedConcurrentExecutions: props.reservedConcurrency,
      description: 'tocsin: ingest signed shim envelopes and Consul HTTP watches',
      environment: {
        [LAMBDA_ENV.tableName]: props.table.tableName,
        [LAMBDA_ENV.alertsTopicArn]: props.alertsTopic.topicArn,
        [LAMBDA_ENV.clusterSecretPrefix]: props.clusterSecrets.prefix,
        [LAMBDA_ENV.clusters]: props.clusters.join(','),
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
      },
      bundling: {
        forceDockerBundling: false,
        ...LAMBDA_BUNDLING,
        externalModules: [...LAMBDA_BUNDLING.externalModules],
        ...(props.define ? { define: props.define } : {}),
      },
    });
    // Invoked synchronously by API Gateway only: a DLQ / on-failure destination never fires
    // for synchronous invocations (the caller — the shim — gets the error and retries).
    Validations.of(this.ingestFunction).acknowledge(
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          'Synchronous invocation by API Gateway only; Lambda DLQs apply to asynchronous invocations. Failures are returned to the agent shim (which retries) and alarmed on (Errors/Throttles).',
      },
      {
        id: 'AwsSolutions-L1',
        reason: 'Runtime pinned to nodejs22.x by project decision (esbuild target node22, local toolchain and tests); move together with the toolchain.',
      },
      {
        id: 'Serverless-LambdaLatestVersion',
        reason: 'Runtime pinned to nodejs22.x by project decision (esbuild target node22, local toolchain and tests); move together with the toolchain.',
      },
    );

    props.table.grant(this.ingestFunction, ...STATE_TABLE_ACTIONS);
    props.alertsTopic.grantPublish(this.ingestFunction);
    props.clusterSecrets.grantRead(this.ingestFunction);

    // X-Ray (Tracing.ACTIVE) and SNS-with-KMS grants need statements cdk-nag reports as wildcards.
    Validations.of(this.functionRole).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only xray:PutTraceSegments/PutTelemetryRecords use Resource "*": X-Ray does not support resource-level permissions.',
      },
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: 'Required to publish to the KMS-encrypted alerts topic (documented SNS SSE publisher permission); scoped to the one topic key.',
      },
    );

    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      apiName: `${Stack.of(this).stackName}-ingest`,
      description: 'tocsin ingest API (agent shim and Consul HTTP watch handlers)',
      createDefaultStage: false,
    });

    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            ip: '$context.identity.sourceIp',
            requestTime: '$context.requestTime',
            httpMethod: '$context.httpMethod',
            routeKey: '$context.routeKey',
            path: '$context.path',
            status: '$context.status',
            protocol: '$context.protocol',
            responseLength: '$context.responseLength',
            responseLatency: '$context.responseLatency',
            integrationStatus: '$context.integrationStatus',
            integrationLatency: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            error: '$context.error.message',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });

    this.integration = new HttpLambdaIntegration('IngestIntegration', this.ingestFunction, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });

    const routes = {} as Record<RouteName, HttpRoute[]>;
    for (const name of Object.keys(ROUTES) as RouteName[]) {
      const route = ROUTES[name];
      routes[name] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: this.integration,
      });
      for (const r of routes[name]) {
        Validations.of(r).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason:
            'Authenticated in the handler: HMAC-SHA256 request signatures over the body (shim) or a per-cluster bearer token (Consul HTTP watches). An API Gateway authorizer cannot see the request body the signature covers.',
        });
      }
    }
    this.routes = routes;
  }

  /** Public URL of a protocol route (path parameters left as `{name}` placeholders). */
  public urlFor(route: RouteName): string {
    return `${this.httpApi.apiEndpoint}${ROUTES[route].path}`;
  }
}
