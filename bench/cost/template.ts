/**
 * The deployed stack's fixed resources, read from the template `cdk synth` makes for the
 * reference configuration (no asset bundling: the template is the same): functions' memory
 * and tracing, alarms, dashboards, secrets, the key parameters (SSM, no charge), the channels' parameters and secrets
 * the channel worker may read (made outside the stack), keys, the queues Lambda polls, log retention,
 * and the API's access log format (one line per request, priced as log ingestion).
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { KEY_PARAMETERS, METRICS } from '../../lambdas/commons/deployment';
import type { DeploymentOptIns } from '../../lib/config';
import { synth } from '../../test/infra/helpers';
import type { Deployment } from './model';

type Resource = { Type: string; Properties?: Record<string, any> };

/** `configFile` as written, or with these deployment opt-ins set (the what-if of every opt-in). */
export function deploymentOf(configFile: string, optIns: Partial<DeploymentOptIns> = {}): Deployment & { functions: Record<string, { memoryMb: number; tracing: string }> } {
  const doc = parseDocument(readFileSync(configFile, 'utf8'));
  for (const [k, v] of Object.entries(optIns)) doc.setIn(['deployment', k], v);
  const { template } = synth({ config: doc.toString(), bundle: false, nag: false });
  const byId = template.toJSON().Resources as Record<string, Resource>;
  const resources = Object.values(byId);
  const ofType = (t: string) => resources.filter((r) => r.Type === t);
  const functions: Record<string, { memoryMb: number; tracing: string }> = {};
  const emittedMetrics: Record<string, '*' | string[]> = {};
  for (const f of ofType('AWS::Lambda::Function')) {
    const description = String(f.Properties?.Description ?? '');
    if (!description.startsWith('tocsin: ')) continue; // CDK's own helpers (log retention, custom resources)
    functions[description] = { memoryMb: Number(f.Properties?.MemorySize ?? 128), tracing: String(f.Properties?.TracingConfig?.Mode ?? 'PassThrough') };
    const env = (f.Properties?.Environment?.Variables ?? {}) as Record<string, string>;
    // The measurement names the channel worker's metrics (it writes none today) 'channel-worker'.
    const service = env[METRICS.env.service] ?? (description.startsWith('tocsin: channel worker') ? 'channel-worker' : description);
    const emitted = env[METRICS.env.emitted];
    emittedMetrics[service] = emitted === undefined || emitted === METRICS.allEmitted ? '*' : emitted.split(',').filter((n) => n !== METRICS.noneEmitted);
  }
  const memoryOf = (prefix: string): number => {
    const hit = Object.entries(functions).find(([d]) => d.startsWith(`tocsin: ${prefix}`));
    if (!hit) throw new Error(`no function "${prefix}" in the template (${Object.keys(functions).join('; ')})`);
    return hit[1].memoryMb;
  };
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const queues = ofType('AWS::SQS::Queue');
  const kmsQueues = queues.filter((q) => q.Properties?.KmsMasterKeyId !== undefined && typeof q.Properties?.QueueName === 'string');
  const retention = ofType('AWS::Logs::LogGroup').map((g) => Number(g.Properties?.RetentionInDays ?? 0));
  const stage = ofType('AWS::ApiGatewayV2::Stage')[0];
  const format = String(stage?.Properties?.AccessLogSettings?.Format ?? '');
  if (!format) throw new Error('the API stage has no access log format');
  return {
    functions,
    memoryMb: { ingest: memoryOf('ingest'), sweeper: memoryOf('sweeper'), channelWorker: memoryOf('channel worker'), timers: memoryOf('delayed notifications') },
    tracingActive: Object.values(functions).some((f) => f.tracing === 'Active'),
    alarms: ofType('AWS::CloudWatch::Alarm').length,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
    // SecureString parameters: each made by one custom resource (CloudFormation cannot make them), or plain AWS::SSM::Parameter ones.
    keyParameters: ofType(KEY_PARAMETERS.resourceType).length + ofType('AWS::SSM::Parameter').length,
    ...channelSecretsOf(byId),
    kmsKeys: ofType('AWS::KMS::Key').length,
    polledQueues: mappings.length,
    sweptQueues: 0,
    frontDoor: 'http-api', // the stage read above: the stack always answers through its HTTP API
    // Named channel queues (CHANNEL_QUEUES) are the Slack queues, encrypted with the topic key.
    kmsEncryptedPolledQueues: Math.min(mappings.length, kmsQueues.length),
    logRetentionDays: Math.max(...retention),
    accessLogLineBytes: Buffer.byteLength(accessLogLine(format)),
    emittedMetrics,
  };
}

/** The parameters and secrets the channel worker's role may read: the channels' secrets, made by the user (ssm:GetParameter, secretsmanager:GetSecretValue grants). */
export function channelSecretsOf(resources: Record<string, Resource>): { channelParameters: number; channelSecrets: number } {
  const worker = Object.values(resources).find((r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties?.Description ?? '').startsWith('tocsin: channel worker'));
  const roleId = worker?.Properties?.Role?.['Fn::GetAtt']?.[0] as string | undefined;
  if (!roleId) return { channelParameters: 0, channelSecrets: 0 };
  const statements = Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles ?? []).includes(JSON.stringify({ Ref: roleId })))
    .flatMap((p) => (p.Properties?.PolicyDocument?.Statement ?? []) as Array<{ Action: string | string[]; Resource: unknown }>);
  const resourcesGranted = (action: string) => {
    const granted = new Set<string>();
    for (const st of statements) {
      if (![st.Action].flat().includes(action)) continue;
      for (const r of [st.Resource].flat()) granted.add(JSON.stringify(r));
    }
    return granted.size;
  };
  return { channelParameters: resourcesGranted('ssm:GetParameter'), channelSecrets: resourcesGranted('secretsmanager:GetSecretValue') };
}

/** The access log format with typical values for an ingest request (IDs, times, addresses at their real lengths). */
export function accessLogLine(format: string): string {
  const typical: Record<string, string> = {
    '$context.requestId': 'Xa1b2c3dIAMEbcQ=',
    '$context.identity.sourceIp': '203.0.113.17',
    '$context.requestTime': '02/Dec/2026:06:15:30 +0000',
    '$context.httpMethod': 'POST',
    '$context.routeKey': 'POST /v1/ingest',
    '$context.path': '/v1/ingest',
    '$context.status': '200',
    '$context.protocol': 'HTTP/1.1',
    '$context.responseLength': '2',
    '$context.responseLatency': '23',
    '$context.integrationStatus': '200',
    '$context.integrationLatency': '21',
    '$context.integrationErrorMessage': '-',
    '$context.error.message': '-',
    '$context.identity.userAgent': 'tocsin-shim/1',
  };
  return format.replace(/\$context\.[A-Za-z.]+/g, (k) => typical[k] ?? '-');
}
