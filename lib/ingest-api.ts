import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpRoute, HttpStage, LogGroupLogDestination, PayloadFormatVersion } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { LAMBDA_ENV, METRICS } from '../lambdas/commons/deployment';
import { ROUTES } from '../lambdas/domain/protocol';
import type { SecretLocation } from '../channels/secret-location';
import { grantPublishToAlerts } from './alert-topics';
import { grantChannelSecretRead } from './channel-secrets';
import type { ClusterSecrets } from './cluster-secrets';
import type { DeploymentOptIns } from './deployment-opt-ins';
import type { ConfigBundle } from './lambda-bundling';
import { STATE_TABLE_ACTIONS } from './state-table';
import { TocsinFunction } from './tocsin-function';
import { WEB_PAGE } from '../lambdas/app/web-page';
import { writeWebPage } from '../ui/build';

/** Where the ingest handler lives (written by the Lambda side of the project). */
export const INGEST_ENTRY = path.join(__dirname, '..', 'lambdas', 'functions', 'ingest.ts');

export type RouteName = keyof typeof ROUTES;

/** Routes without authentication: the web page's static files (lambdas/app/web-page.ts). */
const PUBLIC_ROUTES: readonly RouteName[] = ['webPage', 'webPageAsset'];

export interface IngestApiProps {
  readonly table: ITable;
  readonly alertsTopic: ITopic;
  /** HMAC keys, token digests and the silence API's admin keys, read by the function. */
  readonly clusterSecrets: ClusterSecrets;
  /** Where `for`, `repeat` and digest timers are scheduled. */
  readonly timersQueue: IQueue;
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
  readonly logRetention: RetentionDays;
  /** @default - unreserved (shares the account pool) */
  readonly reservedConcurrency?: number;
  /** @default INGEST_ENTRY */
  readonly entry?: string;
  /** The validated runtime config, bundled into the function. */
  readonly config: ConfigBundle;
  /** deployment opt-ins (lib/config.ts): tracing, the dashboard's metrics, detailed alarms. */
  readonly optIns: DeploymentOptIns;
  /** Parameters or secrets of Slack app channels (bot token and signing secret): the Slack actions read them. */
  readonly slackAppSecrets?: readonly SecretLocation[];
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
  public readonly ingestFunction: TocsinFunction;
  public readonly integration: HttpLambdaIntegration;
  /** Routes created per protocol route name (ROUTES). */
  public readonly routes: Readonly<Record<RouteName, HttpRoute[]>>;

  constructor(scope: Construct, id: string, props: IngestApiProps) {
    super(scope, id);

    this.ingestFunction = new TocsinFunction(this, 'Function', {
      entry: props.entry ?? INGEST_ENTRY,
      description: 'ingest signed shim envelopes and Consul HTTP watches',
      memorySize: 512,
      timeout: Duration.seconds(29),
      invokedBy: 'apiGateway',
      metricsService: METRICS.services.ingest,
      logRetention: props.logRetention,
      config: props.config,
      optIns: props.optIns,
      reservedConcurrentExecutions: props.reservedConcurrency,
      // The web page (GET /ui): built from ui/ now, served from beside the bundle.
      extraDirectories: [{ source: () => writeWebPage(), target: WEB_PAGE.directory }],
      environment: {
        [LAMBDA_ENV.tableName]: props.table.tableName,
        [LAMBDA_ENV.alertsTopicArn]: props.alertsTopic.topicArn,
        [LAMBDA_ENV.clusterSecretPrefix]: props.clusterSecrets.prefix,
        [LAMBDA_ENV.adminSecretPrefix]: props.clusterSecrets.adminPrefix,
        [LAMBDA_ENV.viewerSecretPrefix]: props.clusterSecrets.viewerPrefix,
        [LAMBDA_ENV.timersQueueUrl]: props.timersQueue.queueUrl,
      },
    });
    props.table.grant(this.ingestFunction, ...STATE_TABLE_ACTIONS);
    grantPublishToAlerts(props.alertsTopic, this.ingestFunction);
    props.clusterSecrets.grantRead(this.ingestFunction);
    for (const [i, location] of (props.slackAppSecrets ?? []).entries()) grantChannelSecretRead(this, `SlackApp${i}`, location, this.ingestFunction);
    props.timersQueue.grantSendMessages(this.ingestFunction);

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
          reason: PUBLIC_ROUTES.includes(name)
            ? 'The web page and its script and style sheet: static files holding no data, public by design. Every API request the page makes is HMAC-signed in the browser and authenticated in the handler.'
            : 'Authenticated in the handler: HMAC-SHA256 request signatures over the body (shim, CLI, web page; the Slack v0 signature under the Slack app signing secret for Slack actions) or a per-cluster bearer token (Consul HTTP watches). An API Gateway authorizer cannot see the request body the signature covers.',
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
