import { RemovalPolicy, Stack, Validations, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { LAMBDA_ENV, METRICS } from '../lambdas/commons/deployment';
import type { DeploymentOptIns } from './deployment-opt-ins';
import { copyConfigCommands, copyDirectoryCommands, LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS, type ConfigBundle } from './lambda-bundling';

/**
 * Who invokes a function. API Gateway and SQS event sources are synchronous for Lambda, so
 * a function DLQ or an on-failure destination would never fire: where failures go instead
 * depends on the caller. A schedule (EventBridge) invokes asynchronously: failed
 * invocations go to the on-failure destination (`asyncInvoke`).
 */
export type Invoker = 'apiGateway' | 'sqsEventSource' | 'schedule' | 'cloudFormation';

const RUNTIME_PINNED =
  'Runtime pinned to nodejs22.x by project decision (esbuild target node22, local toolchain and tests); move together with the toolchain.';

const FAILURE_HANDLING: Readonly<Record<Invoker, ReadonlyArray<{ id: string; reason: string }>>> = {
  apiGateway: [
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        'Synchronous invocation by API Gateway only; Lambda DLQs apply to asynchronous invocations. Failures are returned to the agent shim (which retries) and alarmed on (Errors/Throttles).',
    },
  ],
  schedule: [
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked asynchronously by an EventBridge schedule: failed invocations go to the on-failure destination (an SQS queue, alarmed), whose record carries the request, the response and the error; a function DLQ would receive the same events with less.',
    },
  ],
  cloudFormation: [
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        'A CloudFormation custom resource provider: every request is answered to CloudFormation (SUCCESS or FAILED with the reason), which fails and rolls back the stack operation on a failure. A DLQ would hold requests nobody waits for.',
    },
  ],
  sqsEventSource: [
    {
      id: 'Serverless-LambdaDLQ',
      reason:
        "Invoked only by an SQS event source mapping: a failed message stays in its queue and the queue's redrive policy moves it to an alarmed dead-letter queue. A function DLQ applies to asynchronous invocations only.",
    },
    {
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        "SQS event sources: a failed message returns to its queue (batchItemFailures) and the queue's redrive policy moves it to an alarmed dead-letter queue; on-failure destinations exist for stream sources only.",
    },
  ],
};

export interface TocsinFunctionProps {
  /** Handler module (lambdas/functions/*.ts), exporting `handler`. */
  readonly entry: string;
  /** What it does; the function's description is "tocsin: <description>". */
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly invokedBy: Invoker;
  readonly logRetention: RetentionDays;
  /** The validated tocsin.yaml, bundled into the code; its digest goes into the environment. */
  readonly config: ConfigBundle;
  readonly environment?: Readonly<Record<string, string>>;
  /** The `service` dimension of the metrics it writes (METRICS.services); every function gets the stack's namespace. */
  readonly metricsService?: string;
  /** @default - unreserved (shares the account pool) */
  readonly reservedConcurrentExecutions?: number;
  /** deployment.tracing and deployment.dashboard (lib/config.ts): X-Ray, and whether every EMF metric is written. */
  readonly optIns: Pick<DeploymentOptIns, 'tracing' | 'dashboard'>;
  /** The EMF metrics (METRICS.names) an alarm of this stack reads: written even without the dashboard. */
  readonly alarmedMetrics?: readonly string[];
  /**
   * Directories copied beside the bundle, each into a subdirectory of the asset (the ingest
   * function's web page). `source` is called when the function is bundled: a synth that skips
   * bundling never builds what it would copy.
   */
  readonly extraDirectories?: ReadonlyArray<{ readonly source: () => string; readonly target: string }>;
  /** Required for asynchronous invokers (`schedule`): where failed invocations go, and how often Lambda retries them. */
  readonly asyncInvoke?: { readonly onFailure: IQueue; readonly retryAttempts: number; readonly maxEventAge: Duration };
}

/**
 * Every tocsin Lambda: Node.js 22 on arm64, bundled by local esbuild with the runtime
 * config, X-Ray active tracing when deployment.tracing asks, its own log group and its own role (instead of
 * AWSLambdaBasicExecutionRole) that may write to that log group only. The cdk-nag
 * acknowledgements these choices need are made here, once. The log group and the role
 * sit next to the function, named after it (`<id>Logs`, `<id>Role`).
 */
export class TocsinFunction extends NodejsFunction {
  /** The function's own role; resources grant to the function itself. */
  public readonly executionRole: Role;

  constructor(scope: Construct, id: string, props: TocsinFunctionProps) {
    if ((props.invokedBy === 'schedule') !== (props.asyncInvoke !== undefined)) {
      throw new Error(`${id}: asyncInvoke (an on-failure destination) is required for, and only for, asynchronous invokers`);
    }
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: `tocsin ${props.description}` });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: props.optIns.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      role,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      ...(props.asyncInvoke
        ? { onFailure: new SqsDestination(props.asyncInvoke.onFailure), retryAttempts: props.asyncInvoke.retryAttempts, maxEventAge: props.asyncInvoke.maxEventAge }
        : {}),
      description: `tocsin: ${props.description}`,
      environment: {
        ...props.environment,
        [LAMBDA_ENV.configDigest]: props.config.digest,
        NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
        // Powertools Metrics (EMF) reads these: the stack's namespace, the function's role.
        [METRICS.env.namespace]: METRICS.namespace(Stack.of(scope).stackName),
        ...(props.metricsService ? { [METRICS.env.service]: props.metricsService } : {}),
        // Each metric written is billed: the dashboard's only with it (METRICS.env.emitted).
        [METRICS.env.emitted]: emittedMetricsValue(props.optIns.dashboard, props.alarmedMetrics ?? []),
      },
      bundling: {
        forceDockerBundling: false,
        ...LAMBDA_BUNDLING,
        externalModules: [...LAMBDA_BUNDLING.externalModules],
        // The config as a file in the asset, not an esbuild --define (BUNDLED_CONFIG).
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_inputDir: string, outputDir: string) => [...copyConfigCommands(props.config, outputDir), ...copyDirectoryCommands((props.extraDirectories ?? []).map((d) => ({ source: d.source(), target: d.target })), outputDir)],
        },
      },
    });
    this.executionRole = role;

    Validations.of(this).acknowledge(
      ...FAILURE_HANDLING[props.invokedBy],
      { id: 'AwsSolutions-L1', reason: RUNTIME_PINNED },
      { id: 'Serverless-LambdaLatestVersion', reason: RUNTIME_PINNED },
    );
    if (props.optIns.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only xray:PutTraceSegments/PutTelemetryRecords use Resource "*": X-Ray does not support resource-level permissions.',
      });
    } else {
      Validations.of(this).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray tracing is opt-in (tocsin.yaml deployment.tracing: true): traces past the free 100,000 a month are billed. Failures are seen without it: errors and dead-letter queues are alarmed, every request and sweep is logged (README "Deploying to AWS").',
      });
    }
  }
}

/** TOCSIN_METRICS of a function: every metric with the dashboard, else only what its alarms read. */
export function emittedMetricsValue(dashboard: boolean, alarmed: readonly string[]): string {
  if (dashboard) return METRICS.allEmitted;
  return alarmed.length > 0 ? [...alarmed].sort().join(',') : METRICS.noneEmitted;
}
