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
  /** Every alert is published here. */
  alertsTopic: 'tocsin-alerts',
  /** Stand-in for email delivery: the runner prints what lands here. */
  notificationsQueue: 'tocsin-local-notifications',
  timersQueue: 'tocsin-timers',
  /** One queue per Slack channel, subscribed to the alerts topic; one shared dead-letter queue. */
  slackQueue: (channel: string) => `tocsin-slack-${channel}`,
  slackDeadLetterQueue: 'tocsin-slack-dlq',
  /** SHA-256 of each cluster's Consul HTTP handler token, in the data dir. */
  consulTokensFile: 'consul-tokens.json',
  /** With local.smtp: one queue per email channel and address (as SNS has one subscription per address). */
  emailQueue: (channel: string, addressDigest: string) => `tocsin-email-${channel}-${addressDigest}`,
  /** Emails that could not be sent (JSON lines), in the data dir. */
  emailDeadLetterFile: 'email-dead-letters.jsonl',
} as const;
