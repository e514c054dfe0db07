/**
 * Names the deployed pieces agree on: the CDK stack (lib/) creates the resources and sets the
 * environment, the Lambdas (lambdas/functions, adapters) read them. The local runner's own
 * names are in local/names.ts; the wire protocol is domain/protocol.ts.
 */

/** Single-table design: every item is addressed by (pk, sk). */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB deletes expired items (housekeeping only). */
  ttlAttribute: 'expiresAt',
} as const;

/**
 * Partition key prefix of the Slack app mode's items (`slack#<channel>`: its threads and
 * call marks, channels/slack/threads.ts): the channel worker may touch these items only
 * (an IAM dynamodb:LeadingKeys condition).
 */
export const SLACK_STATE_PARTITION_PREFIX = 'slack#';

/**
 * Message attribute (String.Array) naming the channels an alert is for. Every
 * channel's subscription filters on it: `{ "channels": ["<name>"] }`.
 */
export const CHANNELS_ATTRIBUTE = 'channels' as const;

/**
 * Names of the queues of queue-delivered channels (Slack): `<prefix><channel>`, the prefix
 * the stack's (`<stack>-channel-`, shortened with a hash beyond `maxStackChars`). The
 * channel worker learns a record's channel from its event source ARN and the prefix alone:
 * one short variable whatever the number of channels, where a map of every queue's ARN
 * passed Lambda's 4 KB environment limit at 25 to 40 channels
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html).
 * SQS names: at most 80 characters of [A-Za-z0-9_-]; channel names (schema channelName)
 * are at most 40 of those, so the prefix is at most 40.
 */
export const CHANNEL_QUEUES = {
  maxStackChars: 30,
  separator: '-channel-',
  maxNameChars: 80,
  queueName: (prefix: string, channel: string): string => `${prefix}${channel}`,
  /** The channel of a queue (`arn:aws:sqs:region:account:name`), or undefined when not one of ours. */
  channelOf(prefix: string, queueArn: string): string | undefined {
    const name = queueArn.split(':')[5] ?? '';
    return prefix !== '' && name.startsWith(prefix) && name.length > prefix.length ? name.slice(prefix.length) : undefined;
  },
} as const;

/**
 * Message attribute of a notification a channel worker moved to its dead-letter queue at
 * once (an answer retrying cannot change, app/channel-delivery.ts): why, as the far end said.
 */
export const DEAD_LETTER_REASON_ATTRIBUTE = 'tocsin-failure';

/** The SNS filter policy delivering a channel's notifications (plus an optional severity floor). */
export function channelFilterPolicy(channel: string, severities?: readonly string[]): Record<string, string[]> {
  return { [CHANNELS_ATTRIBUTE]: [channel], ...(severities ? { severity: [...severities] } : {}) };
}

/**
 * Delay queue of the notification scheduler: `for` (re-check after N s), `repeat`
 * (reminders) and storm digests. Messages re-enqueue themselves past SQS's 900 s limit.
 */
export const TIMERS_QUEUE = {
  /** SQS's per-message DelaySeconds limit. */
  maxDelaySeconds: 900,
  /**
   * The sweeper fires a pending step once it is this long overdue (the queue had that long
   * to deliver it); `npm start` takes TOCSIN_LOCAL_TIMER_GRACE_SECONDS.
   */
  sweepGraceSeconds: 30,
  /** Overdue steps the sweeper fires per cluster per sweep; more: the rest next sweep, and the sweep fails loudly. */
  sweepLimitPerCluster: 500,
} as const;

/** Environment variables the Lambdas read once at init. */
export const LAMBDA_ENV = {
  tableName: 'TOCSIN_TABLE_NAME',
  alertsTopicArn: 'TOCSIN_ALERTS_TOPIC_ARN',
  /** SSM parameter name prefix (KEY_PARAMETERS); the HMAC key of cluster c is the SecureString parameter `${prefix}${c}`. */
  clusterSecretPrefix: 'TOCSIN_CLUSTER_SECRET_PREFIX',
  /** SSM parameter name prefix of the per-cluster admin keys (silence API): `${prefix}${cluster}`. */
  adminSecretPrefix: 'TOCSIN_ADMIN_SECRET_PREFIX',
  /** SSM parameter name prefix of the per-cluster read-only viewer keys (alerts API GETs): `${prefix}${cluster}`. */
  viewerSecretPrefix: 'TOCSIN_VIEWER_SECRET_PREFIX',
  /** URL of the TIMERS_QUEUE (`for`, `repeat`, storm digests). */
  timersQueueUrl: 'TOCSIN_TIMERS_QUEUE_URL',
  /** SHA-256 of the runtime config bundled into the function (which rules a version runs). */
  configDigest: 'TOCSIN_CONFIG_DIGEST',
  /** Channel worker only: the name prefix of every channel queue (CHANNEL_QUEUES). */
  channelQueuePrefix: 'TOCSIN_CHANNEL_QUEUE_PREFIX',
  /** Sweeper only, when configured: deployment.watchdog.url (https), pinged after each successful sweep. */
  watchdogUrl: 'TOCSIN_WATCHDOG_URL',
} as const;

/** Parameter names past a cluster's `${clusterSecretPrefix}${cluster}`. */
export const SECRET_SUFFIXES = {
  /** The SHA-256 (hex) of the cluster's Consul HTTP handler token (ROUTES.consulHttp). */
  consulHttpToken: '/consul-http-token-sha256',
} as const;

/**
 * The stack's per-cluster keys (HMAC, Consul token digest, admin, viewer): SSM Parameter
 * Store SecureString parameters, standard tier, encrypted with the AWS managed key aws/ssm
 * (no monthly charge, where a Secrets Manager secret costs $0.40 a month each). Names are
 * `/tocsin/<stack>/<kind>/<cluster>[suffix]`. They were Secrets Manager secrets of the same
 * name without the leading "/" until 2026-12: the custom resource that creates a parameter
 * copies such a secret's value (domain/key-parameters.ts).
 */
export const KEY_PARAMETERS = {
  /** CloudFormation resource type of the custom resource making one parameter. */
  resourceType: 'Custom::TocsinKeyParameter',
  /** The stack's parameter name prefixes, per kind of key. */
  prefixes: (stackName: string) => ({
    cluster: `/tocsin/${stackName}/cluster/`,
    admin: `/tocsin/${stackName}/admin/`,
    viewer: `/tocsin/${stackName}/viewer/`,
  }),
  /** The Secrets Manager secret a parameter replaces: its name without the leading "/". */
  legacySecretName: (parameterName: string): string => parameterName.replace(/^\//, ''),
} as const;

/**
 * The validated runtime config (rules, channels, grouping, links) reaches the Lambdas
 * inside their code asset: a JSON file next to the bundle (`index.js`), copied there after
 * esbuild ran. Not an environment variable: rules outgrow Lambda's 4 KB environment. Not an
 * esbuild `--define` either: that is one command-line argument, and Linux refuses one over
 * 128 KiB (E2BIG, about 500 rules). The file changes atomically with the code (the asset
 * hash is computed over the bundled output).
 */
export const BUNDLED_CONFIG = {
  file: 'tocsin-config.json',
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

/**
 * Log lines other components depend on: CloudWatch metric filters (lib/operations-alarms.ts)
 * count them. JSON lines from commons/logger.ts: `{"level", "message", ...fields}`.
 */
export const LOG_EVENTS = {
  /** Every non-2xx answer of the ingest API; fields `status` (number) and `error` (code). */
  requestRejected: 'request rejected',
  /** A source's warnings (SourceResult.warnings): an input dropped or reinterpreted; field `warning`. */
  inputWarning: 'input warning',
  /** One per sweep (app/sweeper.ts), with the tasks' counts, `health` and `sincePreviousMs`. */
  sweepDone: 'sweep done',
  /** A sweep with a failed task, or whose table write or alerts-topic check failed. */
  sweepFailed: 'sweep failed',
  /** The external dead-man's switch (deployment.watchdog.url) could not be reached. */
  watchdogPingFailed: 'watchdog ping failed',
  /** The sweeper fired a timer step (`for`, `repeat`, digest) whose queue message never came; fields cluster, kind, dueAt, outcome. */
  timerSwept: 'timer swept',
} as const;

/**
 * How long one request (or one continuation run on the timers queue) may spend on a
 * snapshot's subjects. API Gateway's HTTP API gives up on its integration after 29 s (the
 * ingest Lambda's timeout); every answer must come within 25 s. So a run stops starting
 * subjects 20 s after it began, or `finishReserveMs` before its Lambda's time is up if that
 * comes first; the reserve is for what is under way (subjects in flight, outbox clears,
 * storing the rest). The rest continues from the timers queue without the sender waiting
 * (docs/ARCHITECTURE.md "Mass outage"). `npm start`: TOCSIN_LOCAL_PROCESSING_BUDGET_MS.
 */
export const PROCESSING_BUDGET = {
  answerWithinMs: 25_000,
  stopStartingAfterMs: 20_000,
  finishReserveMs: 5_000,
  /** What is left of a snapshot waits this long at most (TTL): a continuation not run by then is lost loudly (the sweeper fails). */
  continuationRetentionSeconds: 24 * 3600,
  /** A continuation run holds its scope this long (longer than any run: the timers Lambda times out at 60 s); a run that died frees it then. */
  continuationLeaseMs: 90_000,
} as const;

/** The sweeper (app/sweeper.ts): how often it runs in AWS (EventBridge) and by default under `npm start`. */
export const SWEEPER = {
  periodSeconds: 60,
} as const;

/**
 * tocsin's own numbers, as CloudWatch metrics in the embedded metric format (EMF): JSON log
 * lines CloudWatch Logs turns into metrics, written by Powertools Metrics in the Lambdas
 * (adapters/powertools-metrics.ts). The alarms and the dashboard (lib/) read them. Every
 * dimension is low-cardinality by construction: a function role, a source, a status, an
 * error code from the API's fixed set; never a node, a subject or a cluster.
 */
export const METRICS = {
  /** Per stack, so that two deployments in one account do not mix their counts (as the metric filters). */
  namespace: (stackName: string) => `tocsin/${stackName}`,
  /** Environment variables Powertools reads: the namespace, and the function's role as `service`. */
  env: { namespace: 'POWERTOOLS_METRICS_NAMESPACE', service: 'POWERTOOLS_SERVICE_NAME', emitted: 'TOCSIN_METRICS' },
  /**
   * TOCSIN_METRICS: the metrics a function writes, comma-separated names, `*` for all, `-` for none. Each
   * distinct metric costs $0.30 a month past CloudWatch's free 10, so the stack names only
   * what its alarms read, and all of them with deployment.dashboard. Unset (npm start,
   * tests): all.
   */
  allEmitted: '*',
  noneEmitted: '-',
  /** The `service` dimension Powertools puts on every metric: the function's role. */
  services: { ingest: 'ingest', sweeper: 'sweeper', timers: 'timers' },
  names: {
    /** One per alert message published for its channels (after rules, silences, storm grouping); dimension `Kind` (check, member, heartbeat, ...). */
    alertsPublished: 'AlertsPublished',
    /** State changes the sources found in one accepted envelope; dimension `Source` (consul, serf, tocsin). */
    transitions: 'Transitions',
    /** Every non-2xx answer of the ingest API: once by `Status`, once by `Error` (the code in the body). */
    requestsRefused: 'RequestsRefused',
    /** Milliseconds since the previous sweep (the sweeper's `sincePreviousMs`): ~60 000 when healthy. */
    sweepLag: 'SweepLagMs',
    /** One per sweep, and one per failed sweep (a task, the table write or the alerts topic failed). */
    sweeps: 'Sweeps',
    sweepFailures: 'SweepFailures',
  },
  dimensions: { service: 'service', kind: 'Kind', source: 'Source', status: 'Status', error: 'Error' },
} as const;

export type MetricName = (typeof METRICS.names)[keyof typeof METRICS.names];

/** The metrics TOCSIN_METRICS lets a function write: 'all', or exactly these names (none when empty). */
export function emittedMetrics(env: NodeJS.ProcessEnv = process.env): 'all' | ReadonlySet<string> {
  const value = env[METRICS.env.emitted];
  if (value === undefined || value.trim() === METRICS.allEmitted) return 'all';
  return new Set(value.split(',').map((n) => n.trim()).filter((n) => n !== '' && n !== METRICS.noneEmitted));
}
