/**
 * The cost model of figure 8: the reference workload's monthly AWS bill from measured
 * per-request quantities (measure.ts), the deployed stack's fixed resources (template.ts)
 * and list prices (prices.ts). Pure arithmetic, unit-tested (test/unit/cost-model.test.ts).
 *
 * What is assumed, not measured, is a field of `Workload` or `Assumptions` with its reason;
 * README "Benchmarks", figure 8, lists them.
 */
import { DAYS_PER_MONTH, PRICES, SECONDS_PER_MONTH, HOURS_PER_MONTH, type Price, type PriceKey } from './prices';

/** Which free tiers a total applies: none, AWS's always-free ones (the target row), or those and new accounts' 12-month ones. */
export type FreeTiers = 'none' | 'always' | 'with 12-month';

export const INGEST_KINDS = ['heartbeat', 'checksFirst', 'checksRepeat', 'checksFull', 'eventFirst', 'eventRepeat', 'memberFirst', 'memberRepeat'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

export const KIND_LABELS: Record<IngestKind, string> = {
  heartbeat: '`tocsin-shim heartbeat`',
  checksFirst: 'checks delta, first agent to report a change (alert)',
  checksRepeat: 'checks delta, the same change from another agent',
  checksFull: 'checks whole list (periodic resync), 2,500 checks',
  eventFirst: 'Consul event watch, first agent (alert; 256 buffered events)',
  eventRepeat: 'Consul event watch, another agent',
  memberFirst: 'Serf member-failed, first member (alert)',
  memberRepeat: 'Serf member-failed, another member',
};

/** What one request (or sweep, or delivery) consumed in the measured run. */
export interface PerRequest {
  /** Read request units (DynamoDB Local's consumed read capacity). */
  rru: number;
  /** Write request units, a watcher's sign of life apart. */
  wru: number;
  /** Handler wall time, median, ms. */
  ms: number;
  /** Bytes of the log lines the function wrote (JSON logs and EMF), newline included. */
  logBytes: number;
  logEvents: number;
  /** Request body bytes as sent. */
  requestBytes: number;
  snsPublishes: number;
  /** Bytes of the SNS messages (message, subject, attributes), all publishes together. */
  snsMessageBytes: number;
  timers: number;
  /** SNS GetTopicAttributes calls (the sweeper's check that alerts can go out). */
  alertsProbes: number;
}

/** One sweep, measured with `watchers` watchers in the cluster. */
export interface SweepCost extends PerRequest {
  watchers: number;
}

export interface Measured {
  /** Which DynamoDB-compatible server: only 'dynamodb-local' reports capacity. */
  server: string;
  ingest: Record<IngestKind, PerRequest>;
  /** Sweeps measured with different numbers of watchers (the sweep reads every watcher's item). */
  sweeps: SweepCost[];
  slackDelivery: PerRequest;
  /** Units of one sign-of-life write. */
  signOfLifeWru: number;
  /** Distinct custom metrics (namespace, name, dimension values) the functions emitted. */
  emfMetrics: number;
  emfMetricsByService?: Record<string, string[]>;
  rounds?: number;
  raw?: unknown;
}

/** The deployed stack's resources that cost money whatever the traffic, from its synthesized template. */
export interface Deployment {
  memoryMb: { ingest: number; sweeper: number; channelWorker: number; timers: number };
  tracingActive: boolean;
  alarms: number;
  dashboards: number;
  /** Secrets Manager secrets in the template (the cluster keys were, until 2026-12: 4 per cluster). */
  secrets: number;
  /** The cluster keys as SSM SecureString parameters (custom resources in the template): no charge. */
  keyParameters: number;
  /**
   * The channels' secrets the channel worker may read (made by the user, outside the stack):
   * SSM SecureString parameters (`secretParameter`: no charge) and Secrets Manager secrets
   * (`secretName`: $0.40 a month each), counted from the worker's grants in the template.
   */
  channelParameters: number;
  channelSecrets: number;
  kmsKeys: number;
  /** Queues drained by a Lambda event source mapping (each polled while idle). */
  polledQueues: number;
  /**
   * Queues the sweeper would drain with one short receive a minute instead of a Lambda
   * poller: 0 in the stack; a what-if of the cost model (cost-model.ts scenarios), not built.
   */
  sweptQueues: number;
  /**
   * What answers the shims: the stack's HTTP API (API Gateway: a price per request and an
   * access log line), or a Lambda function URL (no charge beyond the invocation, no access
   * log): a what-if of the cost model, not built.
   */
  frontDoor: 'http-api' | 'function-url';
  /** Of those, encrypted with the customer managed key (SQS asks KMS for data keys). */
  kmsEncryptedPolledQueues: number;
  logRetentionDays: number;
  /** Bytes of one API Gateway access log line (the stage's format with typical values). */
  accessLogLineBytes: number;
  /**
   * Per function role (METRICS.services), the EMF metrics it writes (TOCSIN_METRICS): '*' for
   * all, else these names. Undefined: every measured metric counts.
   */
  emittedMetrics?: Readonly<Record<string, '*' | readonly string[]>>;
}

export interface Workload {
  nodes: number;
  checks: number;
  checkChangesPerDay: number;
  eventsPerDay: number;
  serfMemberChangesPerDay: number;
  /** The shim's periodic whole list (TOCSIN_FULL_INTERVAL_S). */
  fullResyncSeconds: number;
  /** Consul agents with the checks and event watches (README "Where to run the handlers": 3, e.g. the servers). */
  watchAgents: number;
  /** Serf members running the shim as their event handler. */
  serfAgents: number;
  /** Nodes running `tocsin-shim heartbeat` and its schedule (heartbeats.every). */
  heartbeatNodes: number;
  heartbeatEverySeconds: number;
  emailAddresses: number;
  slackChannels: number;
  clusters: number;
}

export interface Assumptions {
  /** How long the agents' reports of one change are spread over (they all get Consul's answer at once). */
  burstWindowSeconds: number;
  /** Idle long-polling receives of one queue by Lambda's SQS pollers, per minute (5 pollers x 20 s waits). */
  idleReceivesPerQueuePerMinute: number;
  /** Key reads (Parameter Store or Secrets Manager): each warm container reads each key it uses once per cache period. */
  secretCacheSeconds: number;
  /** SQS and SNS reuse a KMS data key this long (SQS KmsDataKeyReusePeriodSeconds default). */
  kmsDataKeyReuseSeconds: number;
  /** X-Ray's default sampling for Lambda active tracing: a reservoir per second, then a fixed rate. */
  xrayReservoirPerSecond: number;
  xrayFixedRate: number;
  /** SQS requests per message a queue and its Lambda poller make: SNS's send, the receive, the delete. */
  sqsRequestsPerMessage: number;
  /** CloudWatch Logs meters 26 bytes per event on top of the message. */
  logEventOverheadBytes: number;
  /** The archive is billed compressed; 1 = bill it uncompressed (an upper bound). */
  logArchiveCompression: number;
}

export const REFERENCE_WORKLOAD: Workload = {
  nodes: 500,
  checks: 2500,
  checkChangesPerDay: 1000,
  eventsPerDay: 100,
  serfMemberChangesPerDay: 20,
  fullResyncSeconds: 600,
  watchAgents: 500,
  serfAgents: 500,
  heartbeatNodes: 500,
  heartbeatEverySeconds: 60,
  emailAddresses: 1,
  slackChannels: 1,
  clusters: 1,
};

/**
 * The reference cluster set up as the README recommends ("Where to run the handlers"): the
 * cluster-wide Consul watches, the Serf event handler and the heartbeat on 3 agents (e.g. the
 * servers), not on every node. REFERENCE_WORKLOAD is every node doing all of it.
 */
export const RECOMMENDED_SETUP: Workload = { ...REFERENCE_WORKLOAD, watchAgents: 3, serfAgents: 3, heartbeatNodes: 3 };

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  burstWindowSeconds: 1,
  idleReceivesPerQueuePerMinute: 15,
  secretCacheSeconds: 300,
  kmsDataKeyReuseSeconds: 300,
  xrayReservoirPerSecond: 1,
  xrayFixedRate: 0.05,
  sqsRequestsPerMessage: 3,
  logEventOverheadBytes: 26,
  logArchiveCompression: 1,
};

/** Requests per month of each ingest kind. */
export function monthlyRequests(w: Workload): Record<IngestKind, number> {
  const days = DAYS_PER_MONTH;
  // Every watch agent runs its handler once per change; its run is a whole list when the last
  // one is older than fullResyncSeconds (at most one per interval, at most one per run).
  const runsPerAgentPerDay = w.checkChangesPerDay;
  const fullsPerAgentPerDay = Math.min(runsPerAgentPerDay, 86_400 / w.fullResyncSeconds);
  const deltaShare = runsPerAgentPerDay > 0 ? 1 - fullsPerAgentPerDay / runsPerAgentPerDay : 0;
  const changes = w.checkChangesPerDay * days;
  const events = w.eventsPerDay * days;
  // A member's change is reported by every other member's handler.
  const memberChanges = w.serfMemberChangesPerDay * days;
  const reporters = Math.max(0, w.serfAgents - 1);
  return {
    heartbeat: w.heartbeatNodes * (SECONDS_PER_MONTH / w.heartbeatEverySeconds),
    checksFirst: changes * deltaShare,
    checksRepeat: changes * deltaShare * Math.max(0, w.watchAgents - 1),
    checksFull: w.watchAgents * fullsPerAgentPerDay * days,
    eventFirst: events,
    eventRepeat: events * Math.max(0, w.watchAgents - 1),
    memberFirst: reporters > 0 ? memberChanges : 0,
    memberRepeat: memberChanges * Math.max(0, reporters - 1),
  };
}

/**
 * Sign-of-life writes per month: each node's is written at most once per every/2 per ingest
 * container (a busy watcher's cached). With requests from a node at rate r and a dead time of
 * every/2 after each write, writes come at r / (1 + r * every/2) (one container; more
 * containers write more, up to one per request).
 */
export function signOfLifeWrites(w: Workload, requests: Record<IngestKind, number>): number {
  const total = INGEST_KINDS.reduce((n, k) => n + requests[k], 0);
  const reporting = reportingNodes(w);
  if (reporting === 0 || total === 0) return 0;
  const ratePerNodePerSecond = total / reporting / SECONDS_PER_MONTH;
  const deadTime = w.heartbeatEverySeconds / 2;
  return reporting * SECONDS_PER_MONTH * (ratePerNodePerSecond / (1 + ratePerNodePerSecond * deadTime));
}

/** The nodes that run the shim, each a watcher the sweeper reads; a node without a handler or a heartbeat reports nothing. */
export function reportingNodes(w: Workload): number {
  return Math.max(w.heartbeatNodes, w.watchAgents, w.serfAgents);
}

/**
 * A sweep of `watchers` watchers: the measured sweep with that many, else a straight line
 * through the two measured nearest to it (a sweep reads each watcher's item once), never
 * below zero.
 */
export function sweepFor(sweeps: readonly SweepCost[], watchers: number): SweepCost {
  if (sweeps.length === 0) throw new Error('no sweep measured');
  const exact = sweeps.find((s) => s.watchers === watchers);
  if (exact) return exact;
  const [a, b] = [...sweeps].sort((x, y) => Math.abs(x.watchers - watchers) - Math.abs(y.watchers - watchers) || x.watchers - y.watchers);
  if (!a || !b || a.watchers === b.watchers) return { ...(a as SweepCost) };
  const t = (watchers - a.watchers) / (b.watchers - a.watchers);
  const line = (k: keyof PerRequest) => Math.max(0, a[k] + t * (b[k] - a[k]));
  return {
    watchers,
    rru: line('rru'),
    wru: line('wru'),
    ms: line('ms'),
    logBytes: line('logBytes'),
    logEvents: line('logEvents'),
    requestBytes: line('requestBytes'),
    snsPublishes: line('snsPublishes'),
    snsMessageBytes: line('snsMessageBytes'),
    timers: line('timers'),
    alertsProbes: line('alertsProbes'),
  };
}

/** Traces X-Ray records for a function invoked `perSecond` times a second on average (Poisson). */
export function xrayTraces(perSecond: number, a: Pick<Assumptions, 'xrayReservoirPerSecond' | 'xrayFixedRate'>): number {
  if (perSecond <= 0) return 0;
  const reservoir = Math.min(perSecond, a.xrayReservoirPerSecond * (1 - Math.exp(-perSecond / a.xrayReservoirPerSecond)));
  return SECONDS_PER_MONTH * (reservoir + a.xrayFixedRate * Math.max(0, perSecond - reservoir));
}

/** The Lambda platform's own lines per invocation (text log format): START, END, REPORT with its XRAY line. */
export function platformLogLines(ms: number, memoryMb: number, traced: boolean): string[] {
  const id = 'c6af9ac6-7b61-11e6-9a41-93e812345678';
  const billed = Math.ceil(ms);
  return [
    `START RequestId: ${id} Version: $LATEST`,
    `END RequestId: ${id}`,
    `REPORT RequestId: ${id}\tDuration: ${ms.toFixed(2)} ms\tBilled Duration: ${billed} ms\tMemory Size: ${memoryMb} MB\tMax Memory Used: ${Math.round(memoryMb / 4)} MB\t${traced ? '\nXRAY TraceId: 1-5e1b4151-43a974f94aa5eb4c7f9ac0fa\tSegmentId: 6dbd1a5a0e6e5a8d\tSampled: true\t' : ''}`,
  ];
}

export interface Line {
  service: string;
  item: string;
  quantity: number;
  price: PriceKey;
  /** How the quantity was obtained: what was measured, what assumed. */
  basis: string;
  /** Part of the floor: what carrying the workload's news costs whatever the setup (API requests, table units, the notifications' emails). */
  floor?: boolean;
}

export interface PricedLine extends Line {
  unit: string;
  unitPriceUsd: number;
  freeUnits: number;
  costUsd: number;
}

/**
 * Prices every line. Each free tier applied (`freeTier`: 'always' the always-free ones, 'with
 * 12-month' also new accounts' first-year ones) is used up by its price's lines in order
 * (Lambda requests of all functions share one 1M, ...); with 'none', nothing is free.
 */
export function priceLines(lines: readonly Line[], opts: { freeTier: FreeTiers; prices?: Record<PriceKey, Price> }): { lines: PricedLine[]; totalUsd: number } {
  const prices = opts.prices ?? PRICES;
  const freeLeft = new Map<PriceKey, number>();
  const applies = (p: Price): boolean => (opts.freeTier === 'always' ? p.freeTierTerm === 'always' : opts.freeTier === 'with 12-month' && p.freeTierTerm !== 'none');
  const priced = lines.map((l) => {
    const p: Price = prices[l.price];
    if (!Number.isFinite(l.quantity) || l.quantity < 0) throw new Error(`${l.service} ${l.item}: quantity ${l.quantity} is not a count`);
    const pool = (p.freeTierSharedWith as PriceKey | undefined) ?? l.price;
    const left = applies(p) ? (freeLeft.get(pool) ?? p.freeTier) : 0;
    const free = Math.min(left, l.quantity);
    freeLeft.set(pool, left - free);
    return { ...l, unit: p.unit, unitPriceUsd: p.usd / p.per, freeUnits: free, costUsd: ((l.quantity - free) * p.usd) / p.per };
  });
  return { lines: priced, totalUsd: priced.reduce((n, l) => n + l.costUsd, 0) };
}

/** What the floor lines cost: the part of the bill that carrying the workload's news needs whatever the stack's setup. */
export function floorUsd(priced: readonly PricedLine[]): number {
  return priced.filter((l) => l.floor).reduce((n, l) => n + l.costUsd, 0);
}

/**
 * Custom metrics billed: the distinct metrics the functions wrote in the measured run (every
 * metric, as with TOCSIN_METRICS unset), of those the deployed stack lets each function write.
 */
export function customMetrics(m: Measured, d: Deployment): number {
  if (!d.emittedMetrics || !m.emfMetricsByService) return m.emfMetrics;
  let n = 0;
  for (const [service, keys] of Object.entries(m.emfMetricsByService)) {
    const allowed = d.emittedMetrics[service] ?? [];
    // Keys are namespace|name|dimensions (measure.ts emfMetricKeys).
    n += allowed === '*' ? keys.length : keys.filter((k) => allowed.includes(k.split('|')[1] ?? '')).length;
  }
  return n;
}

/** Every line item of the month: quantities from the workload, the measurements and the stack. */
export function monthlyLines(w: Workload, m: Measured, d: Deployment, a: Assumptions = DEFAULT_ASSUMPTIONS): Line[] {
  const req = monthlyRequests(w);
  const ingestRequests = INGEST_KINDS.reduce((n, k) => n + req[k], 0);
  const sum = (f: (p: PerRequest, k: IngestKind) => number) => INGEST_KINDS.reduce((n, k) => n + req[k] * f(m.ingest[k], k), 0);
  const sweeps = SECONDS_PER_MONTH / 60; // EventBridge, every minute (lib/sweeper.ts)
  const alerts = sum((p) => p.snsPublishes);
  const publishRequests = sum((p) => (p.snsPublishes > 0 ? p.snsPublishes * Math.ceil(p.snsMessageBytes / p.snsPublishes / 65_536) : 0));
  const slackMessages = alerts * w.slackChannels; // every alert goes to every Slack channel (reference.yaml)
  const emailDeliveries = alerts * w.emailAddresses;
  const gb = (mb: number) => mb / 1024;
  const billedSeconds = (p: PerRequest) => Math.ceil(p.ms) / 1000;
  const solWrites = signOfLifeWrites(w, req);
  const sweep = sweepFor(m.sweeps, reportingNodes(w));

  // Logs: the function's own lines, the platform's START/END/REPORT, 26 bytes per event; the API's access log.
  const logBytesPer = (p: PerRequest, memoryMb: number) => {
    const platform = platformLogLines(p.ms, memoryMb, d.tracingActive);
    const events = p.logEvents + platform.length;
    return p.logBytes + platform.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) + events * a.logEventOverheadBytes;
  };
  const httpApi = d.frontDoor === 'http-api';
  const accessLogBytes = httpApi ? ingestRequests * (d.accessLogLineBytes + a.logEventOverheadBytes) : 0;
  const ingestLogBytes = sum((p) => logBytesPer(p, d.memoryMb.ingest)) + accessLogBytes;
  const sweepLogBytes = sweeps * logBytesPer(sweep, d.memoryMb.sweeper);
  const slackLogBytes = slackMessages * logBytesPer(m.slackDelivery, d.memoryMb.channelWorker);
  const logGb = (ingestLogBytes + sweepLogBytes + slackLogBytes) / 1e9;

  // Containers: the agents' reports of one change arrive together; each container reads its cluster's key once per cache period,
  // from Parameter Store (GetParameter WithDecryption: one KMS Decrypt of aws/ssm) or, with the keys in Secrets Manager, from there.
  // The channel worker reads each channel's parameter or secret (made by the user) once per cache period while it delivers.
  const ingestContainers = ingestRequests > 0 ? Math.max(1, Math.ceil((w.watchAgents * (m.ingest.checksRepeat.ms / 1000)) / a.burstWindowSeconds)) : 0;
  const cachePeriods = SECONDS_PER_MONTH / a.secretCacheSeconds;
  const keyReads = ingestContainers * w.clusters * cachePeriods;
  const keysInParameters = d.keyParameters > 0;
  const channelReads = (n: number) => (slackMessages > 0 ? n * cachePeriods : 0);
  const parameterReads = (keysInParameters ? keyReads : 0) + channelReads(d.channelParameters);
  const secretReads = (keysInParameters ? 0 : keyReads) + channelReads(d.channelSecrets);
  const kmsRequests = parameterReads + secretReads + (1 + d.kmsEncryptedPolledQueues * 2) * (SECONDS_PER_MONTH / a.kmsDataKeyReuseSeconds);

  const traces = d.tracingActive
    ? xrayTraces(ingestRequests / SECONDS_PER_MONTH, a) + xrayTraces(sweeps / SECONDS_PER_MONTH, a) + xrayTraces(slackMessages / SECONDS_PER_MONTH, a)
    : 0;
  const apiRequests = sum((p) => Math.max(1, Math.ceil(p.requestBytes / (512 * 1024))));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const sweepBasis = `${fmt(sweep.watchers)} watchers (${m.sweeps.some((x) => x.watchers === sweep.watchers) ? 'measured' : `on the line through the sweeps measured with ${m.sweeps.map((x) => fmt(x.watchers)).join(' and ')}`})`;

  return [
    { service: 'API Gateway', item: 'HTTP API requests', quantity: httpApi ? apiRequests : 0, price: 'apiGatewayHttpRequest', floor: true, basis: `${httpApi ? '' : 'none: a Lambda function URL answers instead (not built); '}ingest requests ${fmt(ingestRequests)} (heartbeats ${fmt(req.heartbeat)}, checks ${fmt(req.checksFirst + req.checksRepeat + req.checksFull)}, events ${fmt(req.eventFirst + req.eventRepeat)}, serf ${fmt(req.memberFirst + req.memberRepeat)}); measured bodies under 512 KB` },
    { service: 'Lambda', item: 'invocations (ingest, sweeper, channel worker)', quantity: ingestRequests + sweeps + slackMessages, price: 'lambdaRequest', basis: `ingest ${fmt(ingestRequests)}, sweeper ${fmt(sweeps)} (every minute), channel worker ${fmt(slackMessages)} (one Slack message each); timers 0 (no for/repeat rule)` },
    { service: 'Lambda', item: `ingest duration, arm64 ${d.memoryMb.ingest} MB`, quantity: sum((p) => billedSeconds(p) * gb(d.memoryMb.ingest)), price: 'lambdaArmGbSecond', basis: 'measured handler time per kind, rounded up to 1 ms, x memory' },
    { service: 'Lambda', item: `sweeper duration, ${d.memoryMb.sweeper} MB`, quantity: sweeps * billedSeconds(sweep) * gb(d.memoryMb.sweeper), price: 'lambdaArmGbSecond', basis: `a sweep of ${sweepBasis}, ${sweep.ms.toFixed(1)} ms` },
    { service: 'Lambda', item: `channel worker duration, ${d.memoryMb.channelWorker} MB`, quantity: slackMessages * billedSeconds(m.slackDelivery) * gb(d.memoryMb.channelWorker), price: 'lambdaArmGbSecond', basis: `measured delivery to a fake Slack on loopback, ${m.slackDelivery.ms.toFixed(1)} ms (Slack's own latency not included)` },
    { service: 'DynamoDB', item: 'write request units', floor: true, quantity: sum((p) => p.wru) + sweeps * sweep.wru + solWrites * m.signOfLifeWru, price: 'dynamoWriteRequestUnit', basis: `measured per kind; sign of life ${fmt(solWrites)} writes x ${m.signOfLifeWru} (cached per every/2); a sweep of ${sweepBasis} ${sweep.wru.toFixed(2)}` },
    { service: 'DynamoDB', item: 'read request units', floor: true, quantity: sum((p) => p.rru) + sweeps * sweep.rru, price: 'dynamoReadRequestUnit', basis: `measured per kind; a sweep of ${sweepBasis} ${sweep.rru.toFixed(2)} RRU` },
    { service: 'SNS', item: 'publishes', quantity: publishRequests, price: 'snsPublish', basis: `alerts ${fmt(alerts)} (measured publishes per kind), 64 KB per request` },
    { service: 'SNS', item: 'API calls of the sweeper (GetTopicAttributes)', quantity: sweeps * sweep.alertsProbes, price: 'snsPublish', basis: 'one per sweep, measured; SNS bills API requests at the publish rate' },
    { service: 'SNS', item: 'email deliveries', floor: true, quantity: emailDeliveries, price: 'snsEmailDelivery', basis: `${w.emailAddresses} address(es) hear every alert (reference.yaml)` },
    { service: 'SQS', item: 'Slack queue: send, receive, delete per message', quantity: slackMessages * a.sqsRequestsPerMessage, price: 'sqsRequest', basis: `${fmt(slackMessages)} messages x ${a.sqsRequestsPerMessage}; SNS to SQS delivery itself is free` },
    ...(d.sweptQueues > 0
      ? [{ service: 'SQS', item: `receives of ${d.sweptQueues} queue(s) the sweeper drains`, quantity: d.sweptQueues * sweeps, price: 'sqsRequest' as const, basis: 'one short receive per sweep while the queue is empty (not built)' }]
      : []),
    { service: 'SQS', item: `idle receives of ${d.polledQueues} polled queues (Lambda's pollers)`, quantity: d.polledQueues * a.idleReceivesPerQueuePerMinute * (SECONDS_PER_MONTH / 60), price: 'sqsRequest', basis: `${a.idleReceivesPerQueuePerMinute}/min per queue: Lambda long-polls with 5 concurrent pollers (AWS Compute Blog), 20 s waits` },
    { service: 'CloudWatch', item: 'Logs ingested (GB)', quantity: logGb, price: 'logsIngestedGb', basis: `measured log and EMF bytes per request + Lambda START/END/REPORT lines${httpApi ? ' + API access log line' : ''} + 26 B/event` },
    { service: 'CloudWatch', item: `Logs archive (GB-month, ${d.logRetentionDays} days kept)`, quantity: (logGb * (d.logRetentionDays / DAYS_PER_MONTH)) / a.logArchiveCompression, price: 'logsStoredGbMonth', basis: 'steady state, billed uncompressed here (an upper bound: AWS bills the compressed archive)' },
    { service: 'CloudWatch', item: 'custom metrics (EMF)', quantity: customMetrics(m, d), price: 'customMetric', basis: `distinct namespace/name/dimension values the functions emitted in the measured run (${m.emfMetrics}), of those the stack lets them write (TOCSIN_METRICS: the dashboard's only with deployment.dashboard); the refusal metric filters publish nothing without refusals` },
    { service: 'CloudWatch', item: 'alarms', quantity: d.alarms, price: 'alarm', basis: 'AWS::CloudWatch::Alarm in the synthesized template' },
    { service: 'CloudWatch', item: 'dashboards', quantity: d.dashboards, price: 'dashboard', basis: 'AWS::CloudWatch::Dashboard in the template' },
    { service: 'X-Ray', item: 'traces recorded', quantity: traces, price: 'xrayTraceRecorded', basis: d.tracingActive ? `active tracing: ${a.xrayReservoirPerSecond}/s + ${a.xrayFixedRate * 100}% per function at the mean rate (ingest ${(ingestRequests / SECONDS_PER_MONTH).toFixed(1)}/s)` : 'tracing off' },
    { service: 'Systems Manager', item: 'Parameter Store standard parameters', quantity: d.keyParameters + d.channelParameters, price: 'ssmStandardParameter', basis: `${d.keyParameters} SecureString parameters in the template (per cluster: HMAC key, Consul token digest, admin key, viewer key) + ${d.channelParameters} channel secret parameter(s) made outside the stack (the Slack webhook URL), standard tier: no charge` },
    { service: 'Systems Manager', item: 'GetParameter calls', quantity: parameterReads, price: 'ssmStandardApiCall', basis: `cached ${a.secretCacheSeconds / 60} min per container: ${keysInParameters ? `${ingestContainers} ingest container(s) (agents' burst x measured repeat time / ${a.burstWindowSeconds} s)` : 'no cluster key'}${d.channelParameters > 0 ? `, the channel worker's ${d.channelParameters} parameter(s)` : ''}; standard throughput: no charge` },
    { service: 'Secrets Manager', item: 'secrets', quantity: d.secrets + d.channelSecrets, price: 'secret', basis: `${d.secrets} in the template${keysInParameters ? '' : ' (per cluster: HMAC key, Consul token digest, admin key, viewer key)'} + ${d.channelSecrets} channel secret(s) made outside the stack` },
    { service: 'Secrets Manager', item: 'GetSecretValue calls', quantity: secretReads, price: 'secretsApiCall', basis: `cached ${a.secretCacheSeconds / 60} min: ${[...(d.channelSecrets > 0 ? [`the channel worker's ${d.channelSecrets} secret(s)`] : []), ...(keysInParameters ? [] : [`the cluster keys in ${ingestContainers} ingest container(s)`])].join(', ') || 'none'}` },
    { service: 'KMS', item: 'customer managed keys', quantity: d.kmsKeys, price: 'kmsKey', basis: 'AWS::KMS::Key in the template (rotation yearly: +$1/month after each of the first two rotations, not counted)' },
    { service: 'KMS', item: 'requests', quantity: kmsRequests, price: 'kmsRequest', basis: `key parameter decrypts (aws/ssm) and secret reads (aws/secretsmanager) at the cached read rate + data keys of the topic and ${d.kmsEncryptedPolledQueues} encrypted queue(s), reused ${a.kmsDataKeyReuseSeconds / 60} min` },
  ];
}

/** Hours in the pricing month (re-exported for the report). */
export const MONTH_HOURS = HOURS_PER_MONTH;
