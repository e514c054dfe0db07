/**
 * Template assertions for TocsinStack. One bundled synth for the whole file
 * (esbuild bundling takes a few seconds), with every deployment opt-in (dashboard, tracing,
 * customer managed key, detailed alarms: the stack as it was before they were opt-ins);
 * variants skip bundling. The lean default: resilience.test.ts and lean-default.test.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BUNDLED_CONFIG, CHANNELS_ATTRIBUTE, KEY_PARAMETERS, LAMBDA_ENV, METRICS, SECRET_SUFFIXES, STATE_TABLE } from '../../lambdas/commons/deployment';
import { ROUTES } from '../../lambdas/domain/protocol';
import { ALERT_ATTRIBUTE_NAMES } from '../../lambdas/domain/render';
import { OUTPUTS } from '../../lib/tocsin-stack';
import { STATE_TABLE_ACTIONS } from '../../lib/state-table';
import { logicalIds, synth, type Synth } from './helpers';
import { toApiGatewayResult, toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { readWebPageFiles } from '../../lambdas/adapters/web-page-files';
import { createWebPage, WEB_PAGE } from '../../lambdas/app/web-page';
import { apiGatewayEvent } from '../support/api-gateway';

const SEVERITY = ALERT_ATTRIBUTE_NAMES.find((n) => n === 'severity')!;
const CLUSTERS = ['prod', 'staging-eu'];
const PREFIX = '/tocsin/Tocsin/cluster/';

type Resources = Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; Metadata?: Record<string, any> }>;

let s: Synth;
let template: Template;
let resources: Resources;

beforeAll(() => {
  s = synth({
    bundle: true,
    config: `
clusters: [${CLUSTERS.join(', ')}]
channels:
  ops: { type: email, addresses: [ops@example.com] }
  oncall: { type: email, addresses: [oncall@example.com], minSeverity: critical }
  dev: { type: email, addresses: [dev@example.com], minSeverity: warning }
deployment: { dashboard: true, tracing: true, customerManagedKey: true, detailedAlarms: true }
`,
  });
  template = s.template;
  resources = template.toJSON().Resources;
});

/** The ingest function and its role (the stack has other functions: the timers worker, the Slack notifier). */
const ingestFunction = (): [string, Resources[string]] => {
  const id = s.stack.getLogicalId(s.stack.ingestApi.ingestFunction.node.defaultChild as CfnElement);
  return [id, resources[id]];
};
const ingestRole = (): [string, Resources[string]] => {
  const id = s.stack.getLogicalId(s.stack.ingestApi.ingestFunction.executionRole.node.defaultChild as CfnElement);
  return [id, resources[id]];
};

const only = (type: string): [string, Resources[string]] => {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type);
  expect(found).toHaveLength(1);
  return found[0];
};

describe('environment', () => {
  test('stack is env-agnostic when CDK_DEFAULT_* are not provided', () => {
    expect(s.stack.environment).toBe('aws://unknown-account/unknown-region');
  });
});

describe('ingest Lambda', () => {
  test('Node.js 22 on arm64, 512 MB, 29 s, active tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 29,
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
    });
    // The ingest function, the timers worker and the sweeper (no Slack channel here): no CDK-generated helper Lambdas.
    const timersId = s.stack.getLogicalId(s.stack.timers.worker.node.defaultChild as CfnElement);
    const sweeperId = s.stack.getLogicalId(s.stack.sweeper.function.node.defaultChild as CfnElement);
    // And the custom resource Lambda making the key parameters.
    const keysId = s.stack.getLogicalId(s.stack.clusterSecrets.provider.node.defaultChild as CfnElement);
    expect(logicalIds(template, 'AWS::Lambda::Function').sort()).toEqual([ingestFunction()[0], timersId, sweeperId, keysId].sort());
  });

  test('environment variable names come from LAMBDA_ENV', () => {
    const [, fn] = ingestFunction();
    const vars = fn.Properties.Environment.Variables as Record<string, unknown>;
    // Every LAMBDA_ENV name but the Slack notifier's and the sweeper's own; Powertools Metrics' namespace and service.
    expect(Object.keys(vars).sort()).toEqual(
      [...Object.values(LAMBDA_ENV).filter((n) => n !== LAMBDA_ENV.channelQueuePrefix && n !== LAMBDA_ENV.watchdogUrl), 'NODE_OPTIONS', ...Object.values(METRICS.env)].sort(),
    );
    const [tableId] = only('AWS::DynamoDB::Table');
    expect(vars[LAMBDA_ENV.tableName]).toEqual({ Ref: tableId });
    expect(vars[LAMBDA_ENV.alertsTopicArn]).toEqual({ Ref: s.stack.resolve(s.stack.alertTopics.alertsTopic.topicArn).Ref });
    expect(vars[LAMBDA_ENV.clusterSecretPrefix]).toBe(PREFIX);
    expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  test('log group with retention is wired as the function log group', () => {
    const [, fn] = ingestFunction();
    const logGroupId = fn.Properties.LoggingConfig.LogGroup.Ref as string;
    expect(resources[logGroupId].Type).toBe('AWS::Logs::LogGroup');
    expect(resources[logGroupId].Properties.RetentionInDays).toBe(90);
  });

  test('no reserved concurrency unless configured', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: Match.absent() });
  });

  test('bundled locally by esbuild: minified, source map, AWS SDK v3 left external', () => {
    const [, fn] = ingestFunction();
    // The zip's object key is "<asset hash>.zip"; the staged directory is in the asset manifest.
    const assetHash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const manifest = JSON.parse(fs.readFileSync(path.join(s.app.outdir, `${s.stack.artifactId}.assets.json`), 'utf8'));
    const asset = manifest.files[assetHash];
    expect(asset.source.packaging).toBe('zip');
    const assetDir = path.join(s.app.outdir, asset.source.path);
    const files = fs.readdirSync(assetDir).sort();
    // The bundle, its source map, the runtime config (BUNDLED_CONFIG) and the web page's files (WEB_PAGE).
    expect(files).toEqual(['index.js', 'index.js.map', BUNDLED_CONFIG.file, WEB_PAGE.directory].sort());
    const code = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');
    expect(code).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
    expect(code).not.toMatch(/\n\s+\n/); // minified
  });
});

describe('the web page (GET /ui)', () => {
  /** The ingest function's staged asset directory (see "bundled locally by esbuild"). */
  const ingestAssetDir = (): string => {
    const [, fn] = ingestFunction();
    const manifest = JSON.parse(fs.readFileSync(path.join(s.app.outdir, `${s.stack.artifactId}.assets.json`), 'utf8'));
    return path.join(s.app.outdir, manifest.files[String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')].source.path);
  };

  test('GET /ui and GET /ui/{asset} are routes of the HTTP API, on the ingest integration', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(routes).toEqual(expect.arrayContaining([`GET ${ROUTES.webPage.path}`, `GET ${ROUTES.webPageAsset.path}`]));
    expect(ROUTES.webPage.path).toBe('/ui');
  });

  test("the page's files ship beside the ingest bundle, and the function serves them with their content types", async () => {
    const files = readWebPageFiles(path.join(ingestAssetDir(), WEB_PAGE.directory));
    if (files instanceof Error) throw files;
    expect(files[WEB_PAGE.page]).toContain('<title>tocsin');
    const serve = createWebPage(() => files);
    const answer = async (url: string) => toApiGatewayResult(await serve(toHttpRequest(apiGatewayEvent({ method: 'GET', url, headers: {}, body: Buffer.alloc(0) }))), Date.now());
    const page = await answer('/ui');
    expect(page.statusCode).toBe(200);
    expect(page.headers?.['content-type']).toBe(WEB_PAGE.pageType);
    expect(page.headers?.['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toBe(files[WEB_PAGE.page]);
    const script = await answer('/ui/app.js');
    expect(script.headers?.['content-type']).toBe(WEB_PAGE.assets['app.js']);
    expect(script.body).toBe(files['app.js']);
  });

  test('the WebPageUrl output names it', () => {
    const endpoint = { 'Fn::GetAtt': [s.stack.getLogicalId(s.stack.ingestApi.httpApi.node.defaultChild as CfnElement), 'ApiEndpoint'] };
    template.hasOutput(OUTPUTS.webPageUrl, { Value: { 'Fn::Join': ['', [endpoint, ROUTES.webPage.path]] } });
  });
});

describe('state table', () => {
  test('key schema, TTL and billing from STATE_TABLE', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: Match.arrayWith([
        { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('retained on stack deletion and CloudFormation-named', () => {
    const [, table] = only('AWS::DynamoDB::Table');
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.TableName).toBeUndefined();
  });
});

describe('HTTP API', () => {
  test('routes are exactly the protocol routes', () => {
    const routeKeys = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties.RouteKey);
    expect(routeKeys.sort()).toEqual(Object.values(ROUTES).map((r) => `${r.method} ${r.path}`).sort());
  });

  test('every route targets the Lambda proxy integration with payload format 2.0', () => {
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    expect(Object.keys(integrations)).toHaveLength(1);
    const [integrationId, integration] = Object.entries(integrations)[0];
    expect(integration.Properties).toMatchObject({ IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
    const [fnId] = ingestFunction();
    expect(JSON.stringify(integration.Properties.IntegrationUri)).toContain(fnId);
    for (const route of Object.values(template.findResources('AWS::ApiGatewayV2::Route'))) {
      expect(route.Properties.Target).toEqual({ 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] });
    }
  });

  test('$default stage: auto-deploy, default throttling, JSON access log to a log group', () => {
    const [, stage] = only('AWS::ApiGatewayV2::Stage');
    expect(stage.Properties).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
    const { DestinationArn, Format } = stage.Properties.AccessLogSettings;
    expect(resources[DestinationArn['Fn::GetAtt'][0]].Type).toBe('AWS::Logs::LogGroup');
    expect(JSON.parse(Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  test('API Gateway may invoke the function only from its routes', () => {
    const [fnId] = ingestFunction();
    const perms = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) => JSON.stringify(p.Properties.FunctionName).includes(`"${fnId}"`));
    expect(perms.length).toBe(Object.keys(ROUTES).length);
    for (const p of perms) {
      expect(p.Properties.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(p.Properties.SourceArn)).toMatch(/\/\*\/\*\/(v1|ui)\b/);
    }
  });
});

describe('topics and email subscriptions', () => {
  test('both topics are encrypted with the customer managed key (rotation on)', () => {
    const [keyId] = only('AWS::KMS::Key');
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const topics = Object.values(template.findResources('AWS::SNS::Topic'));
    expect(topics).toHaveLength(2);
    for (const t of topics) expect(t.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('key policy lets SNS and CloudWatch alarms use the key', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'sns.amazonaws.com' }, Action: Match.arrayWith(['kms:GenerateDataKey*', 'kms:Decrypt']) }),
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: Match.arrayWith(['kms:GenerateDataKey*', 'kms:Decrypt']) }),
        ]),
      },
    });
  });

  test('topic policies deny publishing without TLS', () => {
    const policies = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      expect(p.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  const alertsTopicRef = () => s.stack.resolve(s.stack.alertTopics.alertsTopic.topicArn);
  const opsTopicRef = () => s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn);
  const dlqArn = () => s.stack.resolve(s.stack.alertTopics.deliveryDeadLetterQueue.queueArn);

  test('email subscriptions filter on their channel, plus the minimum severity', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: alertsTopicRef(),
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['ops'] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: alertsTopicRef(),
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['oncall'], [SEVERITY]: ['critical'] },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      TopicArn: alertsTopicRef(),
      Protocol: 'email',
      Endpoint: 'dev@example.com',
      FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['dev'], [SEVERITY]: ['critical', 'warning'] },
    });
    expect(Object.keys(template.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: alertsTopicRef(), Protocol: 'email' } }))).toHaveLength(3);
  });

  test('ops topic subscribes the email channels\' addresses (no filter) when deployment.opsEmails is unset', () => {
    const ops = Object.values(template.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: opsTopicRef() } }));
    expect(ops.map((r) => r.Properties.Endpoint).sort()).toEqual(['dev@example.com', 'oncall@example.com', 'ops@example.com']);
    for (const r of ops) expect(r.Properties.FilterPolicy).toBeUndefined();
  });

  test('every subscription redrives to the encrypted delivery DLQ, which SNS may write to', () => {
    for (const sub of Object.values(template.findResources('AWS::SNS::Subscription'))) {
      expect(sub.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: dlqArn() });
    }
    const [keyId] = only('AWS::KMS::Key');
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          // arrayWith is order-sensitive: the enforceSSL deny statement comes first.
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 'sqs:SendMessage', Principal: { Service: 'sns.amazonaws.com' } }),
        ]),
      },
    });
  });
});

describe('cluster keys (SSM SecureString parameters) and least privilege', () => {
  const keyNames = (cluster: string) => [`${PREFIX}${cluster}`, `${PREFIX}${cluster}${SECRET_SUFFIXES.consulHttpToken}`, `/tocsin/Tocsin/admin/${cluster}`, `/tocsin/Tocsin/viewer/${cluster}`];
  const keyResources = () => Object.entries(template.findResources(KEY_PARAMETERS.resourceType));
  const parameterArn = (name: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter${name}`]] });

  test('per cluster four key parameters made by the custom resource: the HMAC key, the Consul http token digest, the admin key and the viewer key; no secret', () => {
    expect(keyResources()).toHaveLength(4 * CLUSTERS.length);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    template.resourceCountIs('AWS::SSM::Parameter', 0); // CloudFormation cannot make SecureString ones
    const [providerId] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) => String(f.Properties.Description).includes('cluster key parameters'))!;
    for (const cluster of CLUSTERS) {
      for (const [i, name] of keyNames(cluster).entries()) {
        template.hasResource(KEY_PARAMETERS.resourceType, {
          Properties: {
            ServiceToken: { 'Fn::GetAtt': [providerId, 'Arn'] },
            Name: name,
            Kind: i === 1 ? 'placeholder' : 'key',
            // The secret the parameter replaces (its value is copied at the first deployment after the move).
            LegacySecretName: name.slice(1),
            Description: Match.stringLikeRegexp('^tocsin: '),
          },
          DeletionPolicy: 'Delete',
        });
      }
    }
  });

  test('no key value anywhere in the template', () => {
    const text = JSON.stringify(template.toJSON());
    expect(text).not.toMatch(/"SecretString"|"Value"\s*:\s*"[A-Za-z0-9]{48}"/);
    for (const [, r] of keyResources()) expect(Object.keys(r.Properties).sort()).toEqual(['Description', 'Kind', 'LegacySecretName', 'Name', 'ServiceToken']);
  });

  test('the custom resource Lambda may make and check exactly the key parameters (never delete one), and read exactly the secrets they replace', () => {
    const [, provider] = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]) => String(f.Properties.Description).includes('cluster key parameters'))!;
    const roleId = (provider.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const sts = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>);
    const names = CLUSTERS.flatMap(keyNames);
    const ssm = sts.filter((st) => JSON.stringify(st.Action).includes('ssm:'));
    expect(ssm.map((st) => [...st.Action].sort())).toEqual([['ssm:GetParameter', 'ssm:PutParameter']]);
    expect(ssm[0]?.Resource).toEqual(names.map(parameterArn));
    const sm = sts.filter((st) => JSON.stringify(st.Action).includes('secretsmanager:'));
    expect(sm.map((st) => st.Action)).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(sm[0]?.Resource)).not.toContain('*');
    expect((sm[0]?.Resource as unknown[]).map((r) => JSON.stringify(r))).toEqual(names.map((n) => expect.stringContaining(`:secret:${n.slice(1)}-??????`)));
  });

  const statements = (): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> => {
    const [roleId] = ingestRole();
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes(roleId),
    );
    return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
  };
  const actionsOf = (st: { Action: string | string[] }) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
  const resourcesOf = (st: { Resource: unknown }) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]);

  test('parameter read access is granted on exactly the key parameter ARNs; no Secrets Manager access', () => {
    const ssm = statements().filter((st) => actionsOf(st).some((a) => a.startsWith('ssm:')));
    expect(ssm.map(actionsOf)).toEqual([['ssm:GetParameter']]);
    expect(ssm.flatMap(resourcesOf)).toEqual(CLUSTERS.flatMap(keyNames).map(parameterArn));
    // Decryption through the AWS managed key aws/ssm needs no grant (its key policy allows the account's principals via SSM).
    expect(statements().filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')))).toEqual([]);
  });

  test('the ingest function is created or updated only after every key parameter exists', () => {
    const [, fn] = ingestFunction();
    expect([...((fn as { DependsOn?: string[] }).DependsOn ?? [])].sort()).toEqual(expect.arrayContaining(keyResources().map(([id]) => id).sort()));
  });

  test('the only Resource "*" statement is X-Ray; table, topic and key access are scoped', () => {
    const wildcard = statements().filter((st) => resourcesOf(st).includes('*'));
    expect(wildcard.flatMap(actionsOf).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);

    const [tableId] = only('AWS::DynamoDB::Table');
    const ddb = statements().filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
    expect(ddb.flatMap(actionsOf).sort()).toEqual([...STATE_TABLE_ACTIONS].sort());
    expect(ddb.flatMap(resourcesOf)).toEqual([{ 'Fn::GetAtt': [tableId, 'Arn'] }]);

    const publish = statements().filter((st) => actionsOf(st).includes('sns:Publish'));
    expect(publish.flatMap(resourcesOf)).toEqual([alertsTopicRefValue()]);

    const [keyId] = only('AWS::KMS::Key');
    const kms = statements().filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
    expect(kms.flatMap(actionsOf).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(kms.flatMap(resourcesOf)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
  });
  const alertsTopicRefValue = () => s.stack.resolve(s.stack.alertTopics.alertsTopic.topicArn);

  test('the function role has no managed policies and only Lambda may assume it', () => {
    const [, role] = ingestRole();
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }),
    ]);
  });
});

describe('operational alarms', () => {
  test('errors, throttles, API 5xx, undelivered notifications and refused requests alarm to the ops topic', () => {
    const opsRef = s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`).sort()).toEqual([
      'AWS/ApiGateway/5xx',
      'AWS/Lambda/Errors', // ingest
      'AWS/Lambda/Errors', // sweeper
      'AWS/Lambda/Errors', // timers worker
      'AWS/Lambda/Invocations', // the sweeper has not run
      'AWS/Lambda/Throttles',
      'AWS/Lambda/Throttles',
      'AWS/Lambda/Throttles',
      'AWS/SQS/ApproximateNumberOfMessagesVisible', // SNS delivery DLQ
      'AWS/SQS/ApproximateNumberOfMessagesVisible', // sweeper DLQ
      'AWS/SQS/ApproximateNumberOfMessagesVisible', // timers DLQ
      'tocsin/Tocsin/AuthenticationFailures',
      'tocsin/Tocsin/RejectedInput',
      'tocsin/Tocsin/SweepLagMs', // the sweeper is late (its own EMF metric)
    ]);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([opsRef]);
      expect(a.Properties.OKActions).toEqual([opsRef]);
      // Only "the sweeper has not run" treats no data as breaching: no invocation is no data.
      expect(a.Properties.TreatMissingData).toBe(a.Properties.MetricName === 'Invocations' ? 'breaching' : 'notBreaching');
    }
  });

  test('CloudWatch may publish to the ops topic (topic policy replaced by enforceSSL)', () => {
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Action: 'sns:Publish', Principal: { Service: 'cloudwatch.amazonaws.com' } }),
        ]),
      },
    });
  });
});

describe('outputs', () => {
  test('URLs are the API endpoint plus the protocol paths', () => {
    const [apiId] = only('AWS::ApiGatewayV2::Api');
    const endpoint = { 'Fn::GetAtt': [apiId, 'ApiEndpoint'] };
    template.hasOutput(OUTPUTS.ingestUrl, { Value: { 'Fn::Join': ['', [endpoint, ROUTES.ingest.path]] } });
    template.hasOutput(OUTPUTS.consulHttpUrl, { Value: { 'Fn::Join': ['', [endpoint, ROUTES.consulHttp.path]] } });
  });

  test('topic, table and secret outputs', () => {
    const [tableId] = only('AWS::DynamoDB::Table');
    template.hasOutput(OUTPUTS.alertsTopicArn, { Value: s.stack.resolve(s.stack.alertTopics.alertsTopic.topicArn) });
    template.hasOutput(OUTPUTS.opsTopicArn, { Value: s.stack.resolve(s.stack.alertTopics.opsTopic.topicArn) });
    template.hasOutput(OUTPUTS.tableName, { Value: { Ref: tableId } });
    template.hasOutput(OUTPUTS.clusterSecretPrefix, { Value: PREFIX });
    template.hasOutput(OUTPUTS.clusterSecretNames, { Value: CLUSTERS.map((c) => `${PREFIX}${c}`).join(',') });
    const arns = template.toJSON().Outputs[OUTPUTS.clusterSecretArns].Value;
    expect(arns['Fn::Join'][0]).toBe(',');
    expect(arns['Fn::Join'][1]).toEqual(CLUSTERS.map((c) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ssm:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:parameter${PREFIX}${c}`]] })));
  });

  test('per cluster: the command printing TOCSIN_KEY and the full shim environment', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const flat = (v: unknown) => JSON.stringify(v);
    for (const [cluster, suffix] of [
      ['prod', 'Prod'],
      ['staging-eu', 'Stagingeu'],
    ]) {
      const cmd = flat(outputs[`${OUTPUTS.clusterKeyCommandPrefix}${suffix}`].Value);
      // The same with AWS CLI v1 and v2.
      expect(cmd).toContain(`aws ssm get-parameter --name ${PREFIX}${cluster} --with-decryption --region `);
      expect(cmd).toContain('--query Parameter.Value --output text');
      const env = flat(outputs[`${OUTPUTS.shimEnvPrefix}${suffix}`].Value);
      expect(env).toContain('TOCSIN_URL=');
      expect(env).toContain(ROUTES.ingest.path);
      // NAME=value pairs an environment file or a systemd unit takes as they are: no shell, no quotes, no secret.
      expect(env).toContain(`TOCSIN_CLUSTER=${cluster}`);
      expect(env).not.toMatch(/\$\(|`|"\\"|TOCSIN_KEY/);
      const literal = (outputs[`${OUTPUTS.shimEnvPrefix}${suffix}`].Value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
        .map((part) => (typeof part === 'string' ? part : 'x'))
        .join('');
      expect(literal.split(' ').every((pair) => /^TOCSIN_[A-Z_]+=[^\s"'$`\\]+$/.test(pair))).toBe(true);
      const silenceEnv = flat(outputs[`${OUTPUTS.adminEnvPrefix}${suffix}`].Value);
      expect(silenceEnv).toContain(`TOCSIN_CLUSTER=${cluster} TOCSIN_ADMIN_KEY=`);
      expect(silenceEnv).toContain(`aws ssm get-parameter --name /tocsin/Tocsin/admin/${cluster} --with-decryption --region `);
    }
  });
});

describe('configuration variants (no bundling)', () => {
  test('one channel with several addresses, info = unfiltered, separate ops recipients', () => {
    const { template: t, stack } = synth({
      bundle: false,
      nag: false,
      config: `
clusters: [default]
channels:
  team: { type: email, addresses: [a@example.com, b@example.org], minSeverity: warning }
  all: { type: email, addresses: [c@example.net], minSeverity: info }
deployment:
  opsEmails: [sre@example.com]
`,
    });
    const alerts = stack.resolve(stack.alertTopics.alertsTopic.topicArn);
    for (const address of ['a@example.com', 'b@example.org']) {
      t.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: alerts, Endpoint: address, FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['team'], [SEVERITY]: ['critical', 'warning'] } });
    }
    t.hasResourceProperties('AWS::SNS::Subscription', { TopicArn: alerts, Endpoint: 'c@example.net', FilterPolicy: { [CHANNELS_ATTRIBUTE]: ['all'] } });
    const ops = Object.values(t.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: stack.resolve(stack.alertTopics.opsTopic.topicArn) } }));
    expect(ops.map((r) => r.Properties.Endpoint)).toEqual(['sre@example.com']);
  });

  test('no emails: no subscriptions; default cluster "default"', () => {
    const { template: t } = synth({ bundle: false, nag: false });
    t.resourceCountIs('AWS::SNS::Subscription', 0);
    t.resourceCountIs(KEY_PARAMETERS.resourceType, 4);
    for (const name of ['/tocsin/Tocsin/viewer/default', '/tocsin/Tocsin/admin/default', `${PREFIX}default`, `${PREFIX}default${SECRET_SUFFIXES.consulHttpToken}`]) {
      t.hasResourceProperties(KEY_PARAMETERS.resourceType, { Name: name });
    }
  });

  test('throttling, reserved concurrency and log retention are configurable', () => {
    const { template: t } = synth({
      bundle: false,
      nag: false,
      config: `
clusters: [default]
deployment: { throttleRateLimit: 20, throttleBurstLimit: 40, reservedConcurrency: 5, logRetentionDays: 30 }
`,
    });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 40 } });
    t.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 5 });
    for (const lg of Object.values(t.findResources('AWS::Logs::LogGroup'))) expect(lg.Properties.RetentionInDays).toBe(30);
  });

  test('cluster names that reduce to the same output id get distinct outputs', () => {
    const { template: t } = synth({ bundle: false, nag: false, config: 'clusters: [eu-1, eu.1, Eu1]\n' });
    const keys = Object.keys(t.toJSON().Outputs).filter((k) => k.startsWith(OUTPUTS.clusterKeyCommandPrefix));
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
  });
});
