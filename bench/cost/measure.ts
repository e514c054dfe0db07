/**
 * The measured inputs of the cost model (figure 8): per request kind of the reference
 * workload, what the real code consumes. The ingest application is wired by the composition
 * root on the DynamoDB adapters, as the ingest function wires it, and runs in-process
 * against Amazon's DynamoDB Local; the bundled shim (a child process) sends what a node
 * sends. Per request the harness records, from the same run:
 *   - read and write capacity units DynamoDB Local reports (ReturnConsumedCapacity TOTAL),
 *     a watcher's sign-of-life write apart (the model applies its caching rule);
 *   - the handler's wall time (what Lambda bills: the handler plus the metrics flush);
 *   - the bytes of the log lines it emits (JSON log lines and Powertools' EMF lines);
 *   - the request body as sent (API Gateway meters 512 KB per request);
 *   - the SNS messages it publishes (their size, by the real SNS message builder) and the
 *     timers it schedules (stand-ins: SNS and SQS consume no DynamoDB capacity).
 * The sweeper (with the watchers the run made, then 500) and the Slack channel worker's delivery (to a fake Slack on
 * loopback) are measured the same way.
 */
import { performance } from 'node:perf_hooks';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { slackMessage, type SlackMessage } from '../../channels/slack/render';
import { StaticWebhookUrls, WebhookSender } from '../../channels/slack/webhook';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { StaticConsulTokens } from '../../lambdas/adapters/consul-tokens';
import { awsPorts } from '../../lambdas/adapters/aws-ports';
import { powertoolsMetrics } from '../../lambdas/adapters/powertools-metrics';
import { snsMessage, snsMessageAttributes } from '../../lambdas/adapters/sns-publisher';
import { createApplication } from '../../lambdas/app/application';
import { heartbeatsOf } from '../../lambdas/app/application-heartbeats';
import { httpApi } from '../../lambdas/app/application-http';
import { sweeper } from '../../lambdas/app/application-sweeper';
import { deliverBatch, type ChannelDeliveryDeps } from '../../lambdas/app/channel-delivery';
import { sleep as appSleep } from '../../lambdas/app/concurrency';
import { systemClock } from '../../lambdas/app/runtime';
import { loadConfigFile } from '../../lambdas/commons/config-file';
import { CHANNELS_ATTRIBUTE } from '../../lambdas/commons/deployment';
import { jsonLogger } from '../../lambdas/commons/logger';
import { LIMITS, ROUTES } from '../../lambdas/domain/protocol';
import type { Alert } from '../../lambdas/domain/types';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { createHttpServer } from '../../local/http-server';
import { eventBuffer, healthCheck, userEvent, type HealthCheckFixture, type UserEventFixture } from '../../test/support/consul-fixtures';
import { startFakeSlack } from '../../test/support/fake-slack';
import { startTestDynamo } from '../../test/support/dynamodb';
import { memberLine } from '../../test/support/serf-fixtures';
import { goJsonLine } from '../lib/snapshots';
import { SHIM, scratchDir } from '../lib/paths';
import { median, sleep, timeExec } from '../lib/stats';
import { INGEST_KINDS, type IngestKind, type Measured, type PerRequest } from './model';

export const REFERENCE_CONFIG = join(__dirname, 'reference.yaml');
const TABLE = 'tocsin-bench-cost';
const CLUSTER = 'prod';
const KEY = 'bench-cost-signing-key';
const METRICS_NAMESPACE = 'tocsin-bench';
/** The agents that send each measured change: the first reports it, the others repeat it. */
const AGENTS = ['node-0', 'node-1', 'node-2'];
/** The shim's periodic whole list in the reference workload: every 10 minutes. */
const FULL_INTERVAL_S = 600;
/** Watchers the second measured sweep finds (one per node of the reference cluster). */
const SWEEP_WATCHERS = 500;
/** Storm windows are fixed 60 s windows (reference.yaml): 61 s after the last baseline alert is a later one. */
const STORM_QUIET_MS = 61_000;

interface Sample extends PerRequest {
  /** Sign-of-life writes (sk watcher#...), counted apart. */
  signOfLifeWru: number;
}

const emptySample = (): Sample => ({ rru: 0, wru: 0, signOfLifeWru: 0, ms: 0, logBytes: 0, logEvents: 0, requestBytes: 0, snsPublishes: 0, snsMessageBytes: 0, timers: 0, alertsProbes: 0 });

/** 2,500 passing checks on 500 nodes: serfHealth and four service checks each. */
export function referenceChecks(nodes = 500, servicesPerNode = 4): HealthCheckFixture[] {
  const checks: HealthCheckFixture[] = [];
  for (let n = 0; n < nodes; n++) {
    const node = `node-${n}`;
    checks.push(healthCheck({ Node: node, CheckID: 'serfHealth', Name: 'Serf Health Status', ServiceID: '', ServiceName: '', Type: '', Output: 'Agent alive and reachable', CreateIndex: 100, ModifyIndex: 100 + (n % 50) }));
    for (let s = 0; s < servicesPerNode; s++) {
      checks.push(healthCheck({ Node: node, CheckID: `service:svc-${s}`, Name: `Service 'svc-${s}' check`, ServiceID: `svc-${s}`, ServiceName: `svc-${s}`, CreateIndex: 100, ModifyIndex: 100 + ((n + s) % 50) }));
    }
  }
  return checks;
}

/** The distinct CloudWatch metrics an EMF line defines: namespace, name and dimension values. */
export function emfMetricKeys(line: string): string[] {
  let doc: { _aws?: { CloudWatchMetrics?: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } } & Record<string, unknown>;
  try {
    doc = JSON.parse(line) as typeof doc;
  } catch {
    return [];
  }
  const keys: string[] = [];
  for (const d of doc._aws?.CloudWatchMetrics ?? []) {
    for (const set of d.Dimensions.length ? d.Dimensions : [[]]) {
      const dims = set.map((k) => `${k}=${String(doc[k])}`).sort().join(',');
      for (const m of d.Metrics) keys.push(`${d.Namespace}|${m.Name}|${dims}`);
    }
  }
  return keys;
}

export async function measureCostInputs(opts: { rounds: number; onProgress?: (msg: string) => void }): Promise<Measured> {
  const progress = opts.onProgress ?? (() => undefined);
  const dynamo = await startTestDynamo();
  const { client, doc } = dynamoClients(dynamo.endpoint);
  let server: http.Server | undefined;
  const fakeSlack = await startFakeSlack();
  let current = emptySample();
  const emf = new Set<string>();
  const emfByService: Record<string, Set<string>> = {};
  let service = 'ingest';
  /** Only the measured requests' metrics count: the baselines (a storm of 256 events) are not the reference workload. */
  let measuring = false;
  // Everything the functions write to stdout (Powertools' EMF lines) is theirs while this runs:
  // the bench reports progress on stderr and prints its table after the figure.
  const realWrite = process.stdout.write.bind(process.stdout);
  const capture = (chunk: string | Uint8Array): void => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      current.logBytes += Buffer.byteLength(line) + 1;
      current.logEvents += 1;
      for (const k of measuring ? emfMetricKeys(line) : []) {
        emf.add(k);
        (emfByService[service] ??= new Set()).add(k);
      }
    }
  };
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    capture(chunk);
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  try {
    await ensureStateTable(client, TABLE);
    probeCapacity(doc, () => current);
    const loaded = loadConfigFile(REFERENCE_CONFIG);
    const config = loaded.runtime;
    const logger = jsonLogger((line) => capture(`${line}\n`));
    const published: Alert[] = [];
    const publish = async (alert: Alert): Promise<void> => {
      published.push(alert);
      // What SnsAlertPublisher sends: the message and its attributes (SNS meters both, 64 KB a request).
      const { subject, message } = snsMessage(alert);
      const attributes = snsMessageAttributes(alert);
      current.snsPublishes += 1;
      current.snsMessageBytes += Buffer.byteLength(message) + Buffer.byteLength(subject) + Object.entries(attributes).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v.StringValue), 0);
    };
    const ports = (serviceName: string) =>
      awsPorts({
        clients: () => ({ doc }),
        tableName: TABLE,
        alertsTopicArn: 'unused',
        timersQueueUrl: 'unused',
        config,
        logger,
        metrics: powertoolsMetrics({ namespace: METRICS_NAMESPACE, serviceName }),
        keys: { clusterKeys: new StaticClusterKeys({ [CLUSTER]: KEY }), adminKeys: new StaticClusterKeys({}), consulTokens: new StaticConsulTokens({}) },
        overrides: {
          channels: { publish },
          timers: { schedule: async () => void (current.timers += 1) },
          alertsProbe: { reachable: async () => void (current.alertsProbes += 1) },
        },
      });
    const ingestPorts = ports('ingest');
    const app = createApplication({ config }, ingestPorts);
    const handle = httpApi(app);
    const metrics = app.metrics;
    // The Lambda handler's work: the application's answer, then the metrics flush (ingest.ts).
    const timed: typeof handle = async (req) => {
      const t0 = performance.now();
      try {
        return await handle(req);
      } finally {
        metrics?.flush();
        current.ms = performance.now() - t0;
        current.requestBytes = req.body.length;
      }
    };
    server = createHttpServer(timed, LIMITS.maxWireBytes);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${ROUTES.ingest.path}`;

    const samples = Object.fromEntries(INGEST_KINDS.map((k) => [k, [] as Sample[]])) as Record<IngestKind, Sample[]>;
    const signOfLife: number[] = [];
    const spools = new Map<string, string>();
    const shim = async (node: string, args: string[], stdin: string, env: Record<string, string> = {}, measured = true): Promise<Sample> => {
      current = emptySample();
      measuring = measured;
      const spool = spools.get(node) ?? scratchDir(`cost-${node}`);
      spools.set(node, spool);
      const r = await timeExec(process.execPath, [SHIM, ...args], {
        env: { PATH: process.env.PATH, TOCSIN_URL: url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_NODE: node, TOCSIN_SPOOL_DIR: spool, TOCSIN_TIMEOUT_MS: '30000', TOCSIN_FULL_INTERVAL_S: String(FULL_INTERVAL_S), ...env },
        stdin,
      });
      if (r.code !== 0 || r.stderr) throw new Error(`shim ${args.join(' ')} (${node}) exited ${r.code}: ${r.stderr}`);
      const s = current;
      if (s.signOfLifeWru > 0) signOfLife.push(s.signOfLifeWru);
      return s;
    };
    const expectAlerts = (label: string, s: Sample, n: number): Sample => {
      if (s.snsPublishes !== n) throw new Error(`${label}: ${s.snsPublishes} alerts published, expected ${n}`);
      return s;
    };

    // Consul events first: each agent's first delivery hands over its whole buffer (256 events,
    // new to tocsin: 256 alerts, a storm). The measured events come after its storm window.
    progress('consul events: first delivery of 3 agents\' buffers');
    let buffer: UserEventFixture[] = eventBuffer(256, 1);
    for (const a of AGENTS) await shim(a, ['--watch', 'event'], JSON.stringify(buffer), {}, false);
    const eventBaselineAt = Date.now();

    // Consul checks: every agent's first run sends the whole list (its baseline), unmeasured.
    progress('checks: baselines of 3 agents (2,500 checks)');
    let checks = referenceChecks();
    let index = checks.reduce((m, c) => Math.max(m, c.ModifyIndex), 0);
    const checksRun = (node: string, env: Record<string, string> = {}, measured = true) => shim(node, ['--watch', 'checks'], goJsonLine(checks), { CONSUL_INDEX: String(index), ...env }, measured);
    for (const a of AGENTS) await checksRun(a, {}, false);
    // The measured alerts must not fall into the storm of the event buffers' first delivery.
    progress('waiting for the storm window of that first delivery to pass');
    await sleep(Math.max(0, eventBaselineAt + STORM_QUIET_MS - Date.now()));
    for (let r = 0; r < opts.rounds; r++) {
      const at = 7 + r * 131;
      for (const status of ['critical', 'passing'] as const) {
        index += 1;
        checks = checks.map((c, i) => (i === at ? { ...c, Status: status, Output: status === 'critical' ? 'connection refused' : 'HTTP GET: 200 OK', ModifyIndex: index } : c));
        samples.checksFirst.push(expectAlerts('checks, first agent', await checksRun(AGENTS[0]!), 1));
        samples.checksRepeat.push(expectAlerts('checks, second agent', await checksRun(AGENTS[1]!), 0));
        // The third agent's run is its periodic whole list (the resync), of a change already known.
        samples.checksFull.push(expectAlerts('checks, whole list', await checksRun(AGENTS[2]!, { TOCSIN_FULL_EVERY: '1' }), 0));
      }
    }
    progress('heartbeats');
    for (let r = 0; r < opts.rounds; r++) {
      const node = `hb-node-${r}`;
      await shim(node, ['heartbeat'], '', {}, false); // a watcher's first report (reads the cluster's heartbeat subject)
      samples.heartbeat.push(expectAlerts('heartbeat', await shim(node, ['heartbeat'], ''), 0));
    }
    progress('consul events (256 buffered)');
    for (let r = 0; r < opts.rounds; r++) {
      buffer = [...buffer.slice(1), userEvent(257 + r)];
      const stdin = JSON.stringify(buffer);
      samples.eventFirst.push(expectAlerts('event, first agent', await shim(AGENTS[0]!, ['--watch', 'event'], stdin), 1));
      samples.eventRepeat.push(expectAlerts('event, second agent', await shim(AGENTS[1]!, ['--watch', 'event'], stdin), 0));
    }
    progress('serf member-failed');
    for (let r = 0; r < opts.rounds; r++) {
      const stdin = memberLine(`member-${r}`, `10.1.0.${r + 1}`, { role: 'web' });
      const serf = (node: string) => shim(node, [], stdin, { SERF_EVENT: 'member-failed', SERF_SELF_NAME: node, SERF_SELF_ROLE: 'web' });
      samples.memberFirst.push(expectAlerts('serf member, first member', await serf(AGENTS[0]!), 1));
      samples.memberRepeat.push(expectAlerts('serf member, second member', await serf(AGENTS[1]!), 0));
    }

    service = 'sweeper';
    const sweepApp = createApplication({ config }, ports('sweeper'));
    const beats = heartbeatsOf(sweepApp);
    const sweep = sweeper(sweepApp);
    /** `rounds` sweeps of the cluster as it stands, after one unmeasured (a process's first: caches, overdue digests). */
    const sweepsNow = async (): Promise<{ watchers: number; samples: Sample[] }> => {
      const watchers = (await beats.list(CLUSTER)).watchers.length;
      progress(`sweeper (${watchers} watchers)`);
      current = emptySample();
      measuring = false;
      await sweep();
      measuring = true;
      const samples: Sample[] = [];
      for (let r = 0; r < opts.rounds; r++) {
        current = emptySample();
        const t0 = performance.now();
        const outcome = await sweep();
        sweepApp.metrics?.flush();
        current.ms = performance.now() - t0;
        if (!outcome.ok) throw new Error(`sweep failed: ${JSON.stringify(outcome).slice(0, 500)}`);
        samples.push(current);
      }
      return { watchers, samples };
    };
    // With the watchers this run's requests made (the agents' and the heartbeat rounds' nodes:
    // about what the recommended setup's 3 agents make), then with one per node of the cluster.
    const fewWatchers = await sweepsNow();
    current = emptySample();
    measuring = false;
    for (let n = fewWatchers.watchers; n < SWEEP_WATCHERS; n++) await beats.signOfLife({ cluster: CLUSTER, node: `watcher-${n}`, via: 'tocsin/heartbeat', heartbeat: true });
    const everyNode = await sweepsNow();
    if (everyNode.watchers !== SWEEP_WATCHERS) throw new Error(`the sweeper found ${everyNode.watchers} watchers, expected ${SWEEP_WATCHERS}`);

    progress('slack delivery (fake Slack on loopback)');
    service = 'channel-worker';
    // The Slack kind itself (channels/slack): its renderer, the webhook sender the worker uses.
    const deps: ChannelDeliveryDeps<SlackMessage> = {
      render: (alert, link) => slackMessage(alert, link),
      // The deployed worker reads the URL from its parameter (cached 5 minutes: the model counts those calls).
      sender: new WebhookSender(new StaticWebhookUrls({ team: fakeSlack.url('team') })),
      clock: systemClock,
      sleep: appSleep,
      minIntervalMs: 0,
      retryBaseSeconds: 30,
      logger,
    };
    const posts: Sample[] = [];
    // The alerts the measured requests published, as SNS delivers them to the channel's queue.
    const forSlack = published.filter((a) => a.channels?.includes('team'));
    if (forSlack.length < opts.rounds) throw new Error(`only ${forSlack.length} alerts for the Slack channel`);
    for (let r = 0; r < opts.rounds; r++) {
      const alert = forSlack[r]!;
      const body = JSON.stringify({ Type: 'Notification', Message: JSON.parse(snsMessage(alert).message).sqs, MessageAttributes: { [CHANNELS_ATTRIBUTE]: { Type: 'String.Array', Value: JSON.stringify(['team']) } } });
      current = emptySample();
      const t0 = performance.now();
      const results = await deliverBatch(deps, 'team', [{ id: `m-${r}`, body, receiveCount: 1 }]);
      current.ms = performance.now() - t0;
      if (!results.every((x) => x.ok)) throw new Error(`slack delivery failed: ${JSON.stringify(results)}`);
      current.requestBytes = Buffer.byteLength(body);
      posts.push(current);
    }
    if (fakeSlack.posts.length !== opts.rounds) throw new Error(`fake Slack got ${fakeSlack.posts.length} posts, expected ${opts.rounds}`);

    const summarize = (xs: Sample[]): PerRequest => summary(xs);
    return {
      server: dynamo.kind,
      ingest: Object.fromEntries(INGEST_KINDS.map((k) => [k, summarize(samples[k])])) as Record<IngestKind, PerRequest>,
      sweeps: [fewWatchers, everyNode].map((x) => ({ watchers: x.watchers, ...summarize(x.samples) })),
      slackDelivery: summarize(posts),
      signOfLifeWru: signOfLife.length ? signOfLife.reduce((a, b) => a + b, 0) / signOfLife.length : 0,
      emfMetrics: emf.size,
      emfMetricsByService: Object.fromEntries(Object.entries(emfByService).map(([k, v]) => [k, [...v].sort()])),
      rounds: opts.rounds,
      raw: { ...Object.fromEntries(INGEST_KINDS.map((k) => [k, samples[k]])), sweeps: [fewWatchers, everyNode], posts },
    };
  } finally {
    process.stdout.write = realWrite as typeof process.stdout.write;
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    await fakeSlack.close();
    client.destroy();
    await dynamo.stop();
  }
}

/** Means of the counts, median of the durations (a machine shared with other work: medians resist its spikes). */
function summary(xs: Sample[]): PerRequest {
  if (xs.length === 0) throw new Error('no samples');
  const mean = (f: (s: Sample) => number) => xs.reduce((n, s) => n + f(s), 0) / xs.length;
  return {
    rru: mean((s) => s.rru),
    wru: mean((s) => s.wru),
    ms: median(xs.map((s) => s.ms)),
    logBytes: mean((s) => s.logBytes),
    logEvents: mean((s) => s.logEvents),
    requestBytes: mean((s) => s.requestBytes),
    snsPublishes: mean((s) => s.snsPublishes),
    snsMessageBytes: mean((s) => s.snsMessageBytes),
    timers: mean((s) => s.timers),
    alertsProbes: mean((s) => s.alertsProbes),
  };
}

const READS = /^(Get|BatchGet|Query|Scan|TransactGet)/;

/** ReturnConsumedCapacity on every call, units split into reads, writes and sign-of-life writes. */
function probeCapacity(doc: DynamoDBDocumentClient, sample: () => Sample): void {
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ReturnConsumedCapacity?: string; Key?: { sk?: unknown } };
      if (input.ReturnConsumedCapacity === undefined) input.ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> }).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
      const s = sample();
      if (READS.test(operation)) s.rru += units;
      else if (String(input.Key?.sk ?? '').startsWith('watcher#')) s.signOfLifeWru += units;
      else s.wru += units;
      return result;
    },
    { step: 'initialize', name: 'benchCostCapacity', override: true },
  );
}
