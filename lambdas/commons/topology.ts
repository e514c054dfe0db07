/**
 * The one place for tocsin's resource facts. The CDK stack (lib/) and the local
 * runner (local/) both read these, so names, key schema and routes cannot drift.
 */

/** Single-table design: every item is addressed by (pk, sk). */
export const STATE_TABLE = {
  /** Physical name used by the local runner; CDK lets CloudFormation name it. */
  localName: 'tocsin-state',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes expired items (housekeeping only). */
  ttlAttribute: 'expiresAt',
} as const;

/** Every alert is published here; subscriptions filter on ALERT_ATTRIBUTE_NAMES (domain/render.ts). */
export const ALERTS_TOPIC = {
  localName: 'tocsin-alerts',
} as const;

/** Local stand-in for email delivery: the runner prints what lands here. */
export const LOCAL_NOTIFICATIONS_QUEUE = {
  localName: 'tocsin-local-notifications',
} as const;

/**
 * Message attribute (String.Array) naming the channels an alert is for. Every
 * channel's subscription filters on it: `{ "channels": ["<name>"] }`.
 */
export const CHANNELS_ATTRIBUTE = 'channels' as const;

/** The SNS filter policy delivering a channel's notifications (plus an optional severity floor). */
export function channelFilterPolicy(channel: string, severities?: readonly string[]): Record<string, string[]> {
  return { [CHANNELS_ATTRIBUTE]: [channel], ...(severities ? { severity: [...severities] } : {}) };
}

/**
 * Delay queue of the notification scheduler: `for` (re-check after N s), `repeat`
 * (reminders) and storm digests. Messages re-enqueue themselves past SQS's 900 s limit.
 */
export const TIMERS_QUEUE = {
  localName: 'tocsin-timers',
  /** SQS's per-message DelaySeconds limit. */
  maxDelaySeconds: 900,
} as const;

/** One queue per Slack channel, subscribed to the alerts topic; one shared dead-letter queue. */
export const SLACK_QUEUES = {
  localName: (channel: string) => `tocsin-slack-${channel}`,
  localDeadLetterName: 'tocsin-slack-dlq',
} as const;

/** HTTP API routes. `{watchType}` is a path parameter. */
export const ROUTES = {
  /** Signed envelopes from agent-shim. */
  ingest: { method: 'POST', path: '/v1/ingest' },
  /** Consul's own `handler_type: "http"` watches, bearer-token authenticated. */
  consulHttp: { method: 'POST', path: '/v1/consul/{watchType}' },
  /** Silences, signed with the cluster's ADMIN key (same scheme as the shim). */
  silenceCreate: { method: 'POST', path: '/v1/silences' },
  silenceList: { method: 'GET', path: '/v1/silences' },
  silenceExpire: { method: 'POST', path: '/v1/silences/{id}/expire' },
} as const;

/** Environment variables the Lambdas read once at init. */
export const LAMBDA_ENV = {
  tableName: 'TOCSIN_TABLE_NAME',
  alertsTopicArn: 'TOCSIN_ALERTS_TOPIC_ARN',
  /** Secrets Manager name prefix; the secret for cluster c is `${prefix}${c}`. */
  clusterSecretPrefix: 'TOCSIN_CLUSTER_SECRET_PREFIX',
  /** Comma-separated list of cluster names this deployment accepts. */
  clusters: 'TOCSIN_CLUSTERS',
  /** Secrets Manager name prefix of the per-cluster admin keys (silence API): `${prefix}${cluster}`. */
  adminSecretPrefix: 'TOCSIN_ADMIN_SECRET_PREFIX',
  /** URL of the TIMERS_QUEUE (`for`, `repeat`, storm digests). */
  timersQueueUrl: 'TOCSIN_TIMERS_QUEUE_URL',
  /** SHA-256 of the runtime config bundled into the function (which rules a version runs). */
  configDigest: 'TOCSIN_CONFIG_DIGEST',
  /** Slack notifier only: JSON { "<queue ARN>": "<channel>" }. */
  slackQueues: 'TOCSIN_SLACK_QUEUES',
} as const;

/**
 * The validated runtime config (rules, channels, grouping, links) reaches the Lambdas
 * inside their bundle: esbuild replaces this expression with the base64 of its JSON.
 * Not an environment variable: rules outgrow Lambda's 4 KB environment, and a bundled
 * constant changes atomically with the code (the asset hash covers it).
 */
export const BUNDLED_CONFIG = {
  define: 'process.env.TOCSIN_BUNDLED_CONFIG',
} as const;

/** tocsin.yaml: read by `cdk synth/deploy` and `npm start`. */
export const CONFIG_FILE = {
  /** Default file, relative to the working directory. */
  defaultPath: 'tocsin.yaml',
  /** Environment variable naming another file. */
  env: 'TOCSIN_CONFIG',
  /** CDK context key naming another file (`cdk synth -c tocsin:config=prod.yaml`); wins over the env. */
  contextKey: 'tocsin:config',
  /** JSON Schema, relative to the project root. */
  schemaPath: 'schema/tocsin.schema.json',
} as const;

/** Consul's own HTTP watch handler (ROUTES.consulHttp): names of its inputs and secrets. */
export const CONSUL_HTTP = {
  /** Secrets Manager: cluster c's token SHA-256 (hex) is `${clusterSecretPrefix}${c}${tokenSecretSuffix}`. */
  tokenSecretSuffix: '/consul-http-token-sha256',
  /** Query parameters: the cluster (or the cluster header) and the watch scope. */
  clusterParam: 'cluster',
  scopeParam: 'scope',
  /** Lower-case headers Consul's http_handler_config can set, and Consul's own index header. */
  clusterHeader: 'x-tocsin-cluster',
  nodeHeader: 'x-tocsin-node',
  indexHeader: 'x-consul-index',
  /** Envelope node when no node header is configured. */
  defaultNode: 'consul-http',
  /** Local runner: SHA-256 of each cluster's token, in its data dir. */
  localTokensFile: 'consul-tokens.json',
} as const;

/** HTTP headers of the shim protocol. */
export const HEADERS = {
  cluster: 'x-tocsin-cluster',
  timestamp: 'x-tocsin-timestamp',
  signature: 'x-tocsin-signature',
} as const;

/**
 * The answer of both signed APIs (ingest, silences) to a second use of a signature. Its own
 * error code: the shim takes it as "delivered" (the API accepted these exact bytes before);
 * the CLI signs again in the next second.
 */
export const REPLAYED = { status: 401, error: 'replayed', message: 'signature already used (replayed request); sign every request afresh' } as const;

/**
 * Log lines other components depend on: CloudWatch metric filters (lib/operations-alarms.ts)
 * count them. JSON lines from commons/logger.ts: `{"level", "message", ...fields}`.
 */
export const LOG_EVENTS = {
  /** Every non-2xx answer of the ingest API; fields `status` (number) and `error` (code). */
  requestRejected: 'request rejected',
} as const;

/** Defaults shared by the shim, the local runner and the API. */
export const LIMITS = {
  /** Largest request body the API accepts (after decompression). */
  maxBodyBytes: 6 * 1024 * 1024,
  /** Accepted clock skew for signed requests. */
  signatureWindowSeconds: 300,
  /** Deepest array/object nesting accepted in the request JSON and in a handler's JSON body. */
  maxJsonDepth: 32,
} as const;

export const LOCAL_DEFAULTS = {
  port: 8787,
  host: '127.0.0.1',
  dataDir: '.tocsin-data',
  region: 'us-east-1',
} as const;
