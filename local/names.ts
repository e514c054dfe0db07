/**
 * The local runner's (`npm start`) fixed names and defaults. In AWS, CloudFormation names
 * these resources; lambdas/commons/deployment.ts has what both share.
 */

export const LOCAL_DEFAULTS = {
  port: 8787,
  host: '127.0.0.1',
  dataDir: '.tocsin-data',
  region: 'us-east-1',
} as const;

export const LOCAL_NAMES = {
  stateTable: 'tocsin-state',
  /** The message bus (local/bus): a LevelDB directory in the data dir. */
  busDirectory: 'bus',
  /** Every alert is published here (a topic of the bus). */
  alertsTopic: 'tocsin-alerts',
  /** Subscribed to the alerts topic, unfiltered: the email worker (printing or sending). */
  notificationsQueue: 'tocsin-local-notifications',
  /** Subscribed to the alerts topic, unfiltered: the record of every notification published. */
  recordQueue: 'tocsin-local-record',
  /** One JSON line per notification published (local/bus/recorder.ts). */
  notificationsFile: 'notifications.jsonl',
  timersQueue: 'tocsin-timers',
  /** One queue per Slack channel, subscribed to the alerts topic; one shared dead-letter queue. */
  slackQueue: (channel: string) => `tocsin-slack-${channel}`,
  slackDeadLetterQueue: 'tocsin-slack-dlq',
  /** SHA-256 of each cluster's Consul HTTP handler token, in the data dir. */
  consulTokensFile: 'consul-tokens.json',
  /** Per-cluster read-only viewer keys of the alerts API (GETs only), created on first use. */
  viewerKeysFile: 'viewer-keys.json',
  /** With local.smtp: one queue per email channel and address (as SNS has one subscription per address). */
  emailQueue: (channel: string, addressDigest: string) => `tocsin-email-${channel}-${addressDigest}`,
  /** Emails that could not be sent (JSON lines), in the data dir. */
  emailDeadLetterFile: 'email-dead-letters.jsonl',
  /** Queue-delivered kinds (pagerduty, webhook): one queue per channel, one dead-letter queue per kind. */
  channelQueue: (type: string, channel: string) => `tocsin-${type}-${channel}`,
  channelDeadLetterQueue: (type: string) => `tocsin-${type}-dlq`,
} as const;
