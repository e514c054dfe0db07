/** tocsin.yaml `deployment:` opt-ins, in a module of their own so that constructs can name them without importing the config loader (and, through it, the channel registry). */
/**
 * Off by default: each costs money whatever the traffic, and none is needed to hear about
 * every alert and every failure of tocsin itself (the essential alarms stay).
 */
export interface DeploymentOptIns {
  /** The CloudWatch dashboard and the EMF metrics only it shows. */
  readonly dashboard: boolean;
  /** X-Ray active tracing of every function. */
  readonly tracing: boolean;
  /** A customer managed KMS key for the topics and the queues SNS delivers to. */
  readonly customerManagedKey: boolean;
  /** Throttle alarms, the ingest and sweeper error alarms, late sweeps. */
  readonly detailedAlarms: boolean;
}
