/** DynamoDB for the local runner and the tests: embedded dynalite, or any endpoint. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_DEFAULTS, LOCAL_NAMES } from './names';
import { STATE_TABLE } from '../lambdas/commons/deployment';
import { DynaliteRequestHandler } from './dynalite-worker';
import { EmbeddedDynaliteSigner } from './embedded-signer';

/** Credentials local emulators accept; never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'tocsinlocal', secretAccessKey: 'tocsinlocal' };

/** Embedded dynalite: in a worker thread, reached by the SDK without sockets (dynalite-worker.ts). */
export { startDynalite, type RunningDynalite } from './dynalite-worker';

/**
 * Middleware of the SDK's client stack that has nothing to do for embedded dynalite: the
 * User-Agent headers, the Lambda trace header (X-Amzn-Trace-Id), the Host header, and the
 * request log (the client has no logger). Together ~23% of the SDK's CPU per call once
 * SigV4 is gone (bench figure 6, README "Benchmarks"). Removed by name from the embedded
 * client only; a name a later SDK no longer has is simply not there to remove.
 */
export const EMBEDDED_SKIPPED_MIDDLEWARE = ['getUserAgentMiddleware', 'recursionDetectionMiddleware', 'hostHeaderMiddleware', 'loggerMiddleware'] as const;

/**
 * `requestHandler`: the SDK's transport when not HTTP to `endpoint` (embedded dynalite's).
 * Requests on that transport are not SigV4-signed (embedded-signer.ts) and skip the
 * middleware of EMBEDDED_SKIPPED_MIDDLEWARE: it reaches nothing but the embedded dynalite,
 * which looks at neither. Every other client signs and sends as against AWS.
 */
export function dynamoClients(endpoint: string | undefined, region: string = LOCAL_DEFAULTS.region, requestHandler?: DynaliteRequestHandler) {
  const embedded = requestHandler instanceof DynaliteRequestHandler;
  const client = new DynamoDBClient({
    region,
    ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    ...(requestHandler ? { requestHandler } : {}),
    ...(embedded ? { httpAuthSchemes: [embeddedAuthScheme()] } : {}),
  });
  if (embedded) {
    for (const name of EMBEDDED_SKIPPED_MIDDLEWARE) client.middlewareStack.remove(name);
    withFastProperties(client.config);
  }
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return { client, doc };
}

/**
 * FAST CONFIG: the SDK client's resolved configuration (~50 properties, added a few at a
 * time by its resolve steps) is left by V8 in dictionary mode, and the SDK copies it with
 * object spread three times per call (its serializer, its deserializer, endpoint
 * resolution): ~13 us a copy, ~1.3 us once the object has fast properties (bench figure
 * 6, eighth round). V8 gives an object fast properties when it is used as a prototype and
 * a property lookup goes through it; nothing else about the object changes (same
 * properties, same identity, still writable), so the middleware holding it sees the same
 * configuration. Should V8 stop doing so, only the speed is lost
 * (test/unit/dynamo-clients.test.ts checks it on this Node).
 */
export function withFastProperties<T extends object>(obj: T): T {
  const child = Object.create(obj) as Record<string, unknown>;
  const lookUp = () => child.tocsinNoSuchProperty;
  // V8 allocates a function's inline caches after some calls; the cache's miss is what converts the prototype.
  for (let i = 0; i < 200; i++) lookUp();
  return obj;
}

/** SigV4's scheme id with the embedded signer: the client's auth scheme resolution stays the SDK's own. */
function embeddedAuthScheme() {
  return {
    schemeId: 'aws.auth#sigv4',
    identityProvider: (config: { getIdentityProvider(schemeId: string): unknown }) => config.getIdentityProvider('aws.auth#sigv4'),
    signer: new EmbeddedDynaliteSigner(),
  } as NonNullable<DynamoDBClientConfig['httpAuthSchemes']>[number];
}

/** Creates the state table with the stack's key schema unless it exists. */
export async function ensureStateTable(client: DynamoDBClient, tableName: string = LOCAL_NAMES.stateTable): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: STATE_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: STATE_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: STATE_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: STATE_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException) && (err as Error).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (out.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: STATE_TABLE.ttlAttribute, Enabled: true },
      }),
    );
  } catch {
    // dynalite has no TTL API, and a repeated enable fails on DynamoDB Local; TTL is housekeeping only.
  }
}
