/**
 * The arithmetic of bench figure 8 (bench/cost/model.ts): quantities x prices, the free tiers
 * applied (none, always-free, with 12-month), the floor, the custom metrics the deployment
 * lets the functions write, the workload's request counts, X-Ray's sampling and the sign-of-life cache. The
 * measurements themselves come from `npm run bench -- --only 8`.
 */
import {
  customMetrics,
  DEFAULT_ASSUMPTIONS,
  floorUsd,
  INGEST_KINDS,
  monthlyLines,
  monthlyRequests,
  priceLines,
  RECOMMENDED_SETUP,
  REFERENCE_WORKLOAD,
  signOfLifeWrites,
  sweepFor,
  xrayTraces,
  type Deployment,
  type FreeTiers,
  type Line,
  type Measured,
  type PerRequest,
  type SweepCost,
} from '../../bench/cost/model';
import { DAYS_PER_MONTH, PRICES, SECONDS_PER_MONTH, type PriceKey } from '../../bench/cost/prices';

const line = (price: PriceKey, quantity: number, item: string = price): Line => ({ service: 'test', item, quantity, price, basis: 'test' });

describe('priceLines: quantity x unit price, with no free tier, the always-free tiers, or the 12-month ones too', () => {
  it.each<[string, Line[], FreeTiers, number]>([
    ['2M Lambda invocations, no free tier', [line('lambdaRequest', 2e6)], 'none', 0.4],
    ['2M Lambda invocations, 1M always free', [line('lambdaRequest', 2e6)], 'always', 0.2],
    ['two lines share one free tier (600k + 600k, 1M free)', [line('lambdaRequest', 6e5, 'a'), line('lambdaRequest', 6e5, 'b')], 'always', 0.04],
    ['the same without it', [line('lambdaRequest', 6e5, 'a'), line('lambdaRequest', 6e5, 'b')], 'none', 0.24],
    ['500,000 GB-s arm64, 400,000 always free', [line('lambdaArmGbSecond', 5e5)], 'always', 1.33334],
    ['1M API Gateway requests', [line('apiGatewayHttpRequest', 1e6)], 'none', 1],
    ["1M API Gateway requests: its tier is 12-month only, not always free", [line('apiGatewayHttpRequest', 1e6)], 'always', 1],
    ['1M API Gateway requests, with the 12-month tiers', [line('apiGatewayHttpRequest', 1e6)], 'with 12-month', 0],
    ['10M write request units (no free tier exists)', [line('dynamoWriteRequestUnit', 1e7)], 'with 12-month', 6.25],
    ['8M read request units', [line('dynamoReadRequestUnit', 8e6)], 'none', 1],
    ['1,000 GB-s arm64', [line('lambdaArmGbSecond', 1000)], 'none', 0.0133334],
    ['one dashboard', [line('dashboard', 1)], 'none', 3],
    ['one dashboard, 3 always free', [line('dashboard', 1)], 'always', 0],
    ['17 alarms, 10 always free', [line('alarm', 17)], 'always', 0.7],
    ['10 alarms, all free', [line('alarm', 10)], 'always', 0],
    ['8 custom metrics, 10 free', [line('customMetric', 8)], 'always', 0],
    ['12 custom metrics', [line('customMetric', 12)], 'always', 0.6],
    ['4 secrets: no free tier', [line('secret', 4)], 'always', 1.6],
    ['a customer managed key: no free tier', [line('kmsKey', 1)], 'with 12-month', 1],
    ['10,000 secret reads', [line('secretsApiCall', 1e4)], 'none', 0.05],
    ['4 standard SecureString parameters: no charge', [line('ssmStandardParameter', 4)], 'none', 0],
    ['10,000 GetParameter calls at the standard throughput: no charge', [line('ssmStandardApiCall', 1e4)], 'none', 0],
    ['43,800 KMS requests, 20,000 always free', [line('kmsRequest', 43_800)], 'always', 0.0714],
    ['100,000 traces, always free', [line('xrayTraceRecorded', 1e5)], 'always', 0],
    ['200,000 traces', [line('xrayTraceRecorded', 2e5)], 'none', 1],
    ['10 GB of logs, 5 always free', [line('logsIngestedGb', 10)], 'always', 2.5],
    ['logs ingested and archived share the 5 GB', [line('logsIngestedGb', 4), line('logsStoredGbMonth', 3)], 'always', 0.06],
    ['1.4M SQS requests, 1M always free', [line('sqsRequest', 1.4e6)], 'always', 0.16],
    ['1,000 emails, 1,000 always free', [line('snsEmailDelivery', 1000)], 'always', 0],
    ['30,000 emails', [line('snsEmailDelivery', 30_000)], 'always', 0.58],
  ])('%s', (_name, lines, freeTier, expected) => {
    const priced = priceLines(lines, { freeTier });
    expect(priced.totalUsd).toBeCloseTo(expected, 9);
    expect(priced.lines.reduce((n, l) => n + l.costUsd, 0)).toBeCloseTo(expected, 9);
  });

  it('the floor sums only the floor lines, after the tiers applied', () => {
    const lines: Line[] = [
      { ...line('apiGatewayHttpRequest', 2e5), floor: true },
      { ...line('snsEmailDelivery', 30_000), floor: true },
      line('dashboard', 4),
    ];
    expect(floorUsd(priceLines(lines, { freeTier: 'always' }).lines)).toBeCloseTo(0.2 + 0.58, 9);
    expect(floorUsd(priceLines(lines, { freeTier: 'none' }).lines)).toBeCloseTo(0.2 + 0.6, 9);
  });

  it('every price says whether its free tier is always free, 12-month, or none', () => {
    for (const [key, p] of Object.entries(PRICES)) {
      expect({ key, term: p.freeTierTerm, hasUnits: p.freeTier > 0 }).toEqual({ key, term: p.freeTierTerm, hasUnits: p.freeTierTerm !== 'none' });
    }
    expect(PRICES.apiGatewayHttpRequest.freeTierTerm).toBe('12 months');
  });

  it('reports the unit price and the free units used per line', () => {
    const [a, b] = priceLines([line('lambdaRequest', 6e5, 'a'), line('lambdaRequest', 6e5, 'b')], { freeTier: 'always' }).lines;
    expect(a).toMatchObject({ freeUnits: 6e5, costUsd: 0, unitPriceUsd: PRICES.lambdaRequest.usd / PRICES.lambdaRequest.per });
    expect(b?.freeUnits).toBeCloseTo(4e5);
  });

  it('refuses a quantity that is not a count', () => {
    expect(() => priceLines([line('secret', -1)], { freeTier: 'none' })).toThrow(/not a count/);
    expect(() => priceLines([line('secret', Number.NaN)], { freeTier: 'none' })).toThrow(/not a count/);
  });

  it('has a source, a unit and a free-tier note for every price', () => {
    for (const [key, p] of Object.entries(PRICES)) {
      // A price of 0 only where the source says there is no charge (Parameter Store's standard tier).
      const priced = p.usd > 0 || (p.usd === 0 && p.freeTierNote.startsWith('no charge'));
      expect([key, p.source.length > 20, p.unit.length > 0, p.freeTierNote.length > 0, priced, p.per > 0]).toEqual([key, true, true, true, true, true]);
    }
  });
});

describe('monthlyRequests: what the reference cluster sends', () => {
  const req = monthlyRequests(REFERENCE_WORKLOAD);
  const changes = 1000 * DAYS_PER_MONTH;
  const deltaShare = 1 - 144 / 1000; // a whole list every 600 s: 144 of an agent's 1,000 daily runs
  it.each<[string, number, number]>([
    ['heartbeats: 500 nodes, every minute, 730 hours', req.heartbeat, 500 * 60 * 730],
    ['whole lists: 500 agents x 144 a day', req.checksFull, 500 * 144 * DAYS_PER_MONTH],
    ['first report of each change sent as a delta', req.checksFirst, changes * deltaShare],
    ['the 499 other agents repeating it', req.checksRepeat, changes * deltaShare * 499],
    ['events: first agent', req.eventFirst, 100 * DAYS_PER_MONTH],
    ['events: the other 499 agents', req.eventRepeat, 100 * DAYS_PER_MONTH * 499],
    ['member change: first of the 499 other members', req.memberFirst, 20 * DAYS_PER_MONTH],
    ['member change: the other 498', req.memberRepeat, 20 * DAYS_PER_MONTH * 498],
  ])('%s', (_name, actual, expected) => expect(actual).toBeCloseTo(expected, 6));

  it('sends no whole list more often than the agent runs', () => {
    const quiet = monthlyRequests({ ...REFERENCE_WORKLOAD, checkChangesPerDay: 10 });
    expect(quiet.checksFull).toBeCloseTo(500 * 10 * DAYS_PER_MONTH);
    expect(quiet.checksFirst).toBe(0);
  });
});

describe('xrayTraces: 1 a second, then 5%', () => {
  it.each<[number, number]>([
    [0, 0],
    [0.0001, 0.0001 * (1 - 0.0001 / 2)], // nearly every request is the first of its second
    [21, 1 + 0.05 * 20], // busy: the reservoir, then 5% of the rest
  ])('%s requests/s', (rate, tracesPerSecond) => {
    expect(xrayTraces(rate, DEFAULT_ASSUMPTIONS) / SECONDS_PER_MONTH).toBeCloseTo(tracesPerSecond, 4);
  });
});

describe('signOfLifeWrites: at most one per every/2 per node', () => {
  it('a node heartbeating every minute and nothing else: r / (1 + r x 30 s)', () => {
    const w = { ...REFERENCE_WORKLOAD, nodes: 1, heartbeatNodes: 1, watchAgents: 0, serfAgents: 0, checkChangesPerDay: 0, eventsPerDay: 0, serfMemberChangesPerDay: 0 };
    const r = 1 / 60;
    expect(signOfLifeWrites(w, monthlyRequests(w))).toBeCloseTo(SECONDS_PER_MONTH * (r / (1 + r * 30)), 3);
  });
  it('a node sending 10 a second writes about every 30 s', () => {
    const req = Object.fromEntries(INGEST_KINDS.map((k) => [k, k === 'heartbeat' ? 10 * SECONDS_PER_MONTH : 0])) as ReturnType<typeof monthlyRequests>;
    expect(signOfLifeWrites({ ...REFERENCE_WORKLOAD, nodes: 1, heartbeatNodes: 1, watchAgents: 1, serfAgents: 1 }, req) / (SECONDS_PER_MONTH / 30)).toBeCloseTo(1, 1);
  });
  it('only the nodes that run the shim report: 3 watching agents of 500 nodes share the requests, not 500', () => {
    const req = monthlyRequests(RECOMMENDED_SETUP);
    const r = INGEST_KINDS.reduce((n, k) => n + req[k], 0) / 3 / SECONDS_PER_MONTH;
    const writes = signOfLifeWrites(RECOMMENDED_SETUP, req);
    expect(writes).toBeCloseTo(3 * SECONDS_PER_MONTH * (r / (1 + r * 30)), 3);
    expect(writes).toBeLessThanOrEqual(3 * (SECONDS_PER_MONTH / 30));
  });
});

describe('the recommended setup: 3 agents watch, handle Serf events and send heartbeats', () => {
  const req = monthlyRequests(RECOMMENDED_SETUP);
  const changes = 1000 * DAYS_PER_MONTH;
  const deltaShare = 1 - 144 / 1000;
  it.each<[string, number, number]>([
    ['heartbeats: 3 agents, every minute', req.heartbeat, 3 * 60 * 730],
    ['whole lists: 3 agents x 144 a day', req.checksFull, 3 * 144 * DAYS_PER_MONTH],
    ['the 2 other agents repeating a change', req.checksRepeat, changes * deltaShare * 2],
    ['events: the 2 other agents', req.eventRepeat, 100 * DAYS_PER_MONTH * 2],
    ['member change: first of the 2 other handlers, then the last one', req.memberRepeat, 20 * DAYS_PER_MONTH * 1],
  ])('%s', (_name, actual, expected) => expect(actual).toBeCloseTo(expected, 6));
});

describe('monthlyLines: measured per-request quantities times the month', () => {
  const per = (o: Partial<PerRequest> = {}): PerRequest => ({ rru: 0.5, wru: 1, ms: 10.2, logBytes: 200, logEvents: 1, requestBytes: 1000, snsPublishes: 0, snsMessageBytes: 0, timers: 0, alertsProbes: 0, ...o });
  const measured: Measured = {
    server: 'dynamodb-local',
    ingest: Object.fromEntries(INGEST_KINDS.map((k) => [k, per(k.endsWith('First') ? { snsPublishes: 1, snsMessageBytes: 70_000 } : {})])) as Measured['ingest'],
    sweeps: [
      { watchers: 8, ...per({ rru: 0.5, wru: 1, ms: 12, alertsProbes: 1 }) },
      { watchers: 500, ...per({ rru: 12, wru: 1, ms: 40, alertsProbes: 1 }) },
    ],
    slackDelivery: per({ ms: 100 }),
    signOfLifeWru: 1,
    emfMetrics: 8,
  };
  const deployment: Deployment = {
    memoryMb: { ingest: 512, sweeper: 256, channelWorker: 256, timers: 256 },
    tracingActive: true,
    alarms: 17,
    dashboards: 1,
    secrets: 0,
    keyParameters: 4,
    channelParameters: 1, // the Slack webhook's (secretParameter), made outside the stack
    channelSecrets: 0,
    kmsKeys: 1,
    polledQueues: 2,
    sweptQueues: 0,
    frontDoor: 'http-api',
    kmsEncryptedPolledQueues: 1,
    logRetentionDays: 90,
    accessLogLineBytes: 360,
  };
  const lines = monthlyLines(REFERENCE_WORKLOAD, measured, deployment);
  const req = monthlyRequests(REFERENCE_WORKLOAD);
  const total = INGEST_KINDS.reduce((n, k) => n + req[k], 0);
  const alerts = req.checksFirst + req.eventFirst + req.memberFirst;
  const sweeps = SECONDS_PER_MONTH / 60;
  const find = (item: string) => {
    const l = lines.find((x) => x.item.startsWith(item));
    if (!l) throw new Error(`no line ${item}`);
    return l.quantity;
  };
  it.each<[string, () => number]>([
    ['HTTP API requests', () => total],
    ['invocations', () => total + sweeps + alerts],
    ['ingest duration', () => total * 0.011 * 0.5], // 10.2 ms billed as 11 ms, 512 MB
    ['sweeper duration', () => sweeps * 0.04 * 0.25],
    ['write request units', () => total * 1 + sweeps * 1 + signOfLifeWrites(REFERENCE_WORKLOAD, req)],
    ['read request units', () => total * 0.5 + sweeps * 12],
    ['publishes', () => alerts * 2], // 70,000 bytes: two 64 KB requests each
    ['email deliveries', () => alerts],
    ['Slack queue', () => alerts * 3],
    ['idle receives', () => 2 * 15 * (SECONDS_PER_MONTH / 60)],
    ['custom metrics', () => 8],
    ['alarms', () => 17],
    ['Parameter Store standard parameters', () => 5], // 4 cluster keys + the Slack webhook's
    ['secrets', () => 0],
    ['customer managed keys', () => 1],
  ])('%s', (item, expected) => expect(find(item)).toBeCloseTo(expected(), 3));

  // The what-ifs of designs not built (cost-model.ts scenarios) change only their own lines.
  const logsOf = (l: typeof lines) => l.find((x) => x.item.startsWith('Logs ingested'))!.quantity;
  it('a function URL instead of the HTTP API: no API Gateway requests, no access log line, the rest unchanged', () => {
    const other = monthlyLines(REFERENCE_WORKLOAD, measured, { ...deployment, frontDoor: 'function-url' });
    expect(other.find((l) => l.item === 'HTTP API requests')!.quantity).toBe(0);
    expect((logsOf(lines) - logsOf(other)) * 1e9).toBeCloseTo(total * (360 + DEFAULT_ASSUMPTIONS.logEventOverheadBytes), 0);
    expect(other.find((l) => l.item.startsWith('write request units'))!.quantity).toBe(find('write request units'));
  });

  it('a queue the sweeper drains instead of a Lambda poller: one receive per sweep instead of 15 a minute', () => {
    const other = monthlyLines(REFERENCE_WORKLOAD, measured, { ...deployment, polledQueues: 1, sweptQueues: 1 });
    const quantity = (item: string) => other.find((l) => l.item.startsWith(item))?.quantity;
    expect(quantity('idle receives')).toBeCloseTo(15 * (SECONDS_PER_MONTH / 60), 3);
    expect(quantity('receives of 1 queue(s) the sweeper drains')).toBeCloseTo(sweeps, 3);
    expect(lines.some((l) => l.item.includes('the sweeper drains'))).toBe(false);
  });

  it('custom metrics: of those measured, only what the stack lets each function write (TOCSIN_METRICS)', () => {
    const byService = {
      ingest: ['ns|AlertsPublished|Kind=check,service=ingest', 'ns|Transitions|Source=consul,service=ingest'],
      sweeper: ['ns|SweepLagMs|service=sweeper', 'ns|Sweeps|service=sweeper', 'ns|SweepFailures|service=sweeper'],
    };
    const m: Measured = { ...measured, emfMetrics: 5, emfMetricsByService: byService };
    expect(customMetrics(m, { ...deployment, emittedMetrics: { ingest: '*', sweeper: '*' } })).toBe(5);
    expect(customMetrics(m, { ...deployment, emittedMetrics: { ingest: [], sweeper: ['SweepLagMs'] } })).toBe(1);
    expect(customMetrics(m, { ...deployment, emittedMetrics: { ingest: [], sweeper: [], timers: [] } })).toBe(0);
    expect(customMetrics(m, deployment)).toBe(5); // no emission list read: every measured metric
  });

  it('counts no traces with tracing off, and costs less without them', () => {
    const off = monthlyLines(REFERENCE_WORKLOAD, measured, { ...deployment, tracingActive: false });
    expect(off.find((l) => l.service === 'X-Ray')?.quantity).toBe(0);
    expect(priceLines(off, { freeTier: 'none' }).totalUsd).toBeLessThan(priceLines(lines, { freeTier: 'none' }).totalUsd);
  });

  const q = (ls: Line[], item: string) => ls.find((l) => l.item.startsWith(item))?.quantity ?? Number.NaN;
  const slackReads = SECONDS_PER_MONTH / DEFAULT_ASSUMPTIONS.secretCacheSeconds; // the channel worker's, once per cache period

  it('cluster keys: read from Parameter Store (free; one aws/ssm KMS decrypt each), or from Secrets Manager as before 2026-12', () => {
    const inSecrets = monthlyLines(REFERENCE_WORKLOAD, measured, { ...deployment, secrets: 4, keyParameters: 0 });
    const keyReads = q(lines, 'GetParameter calls') - slackReads;
    expect(keyReads).toBeGreaterThan(0);
    expect(q(lines, 'GetSecretValue calls')).toBe(0);
    expect(q(inSecrets, 'GetParameter calls')).toBeCloseTo(slackReads, 3);
    expect(q(inSecrets, 'GetSecretValue calls')).toBeCloseTo(keyReads, 3);
    expect(q(inSecrets, 'secrets')).toBe(4);
    // KMS requests are the same (a decrypt per read either way); the bill differs by the secrets and their calls.
    expect(q(inSecrets, 'requests')).toBeCloseTo(q(lines, 'requests'), 3);
    const diff = priceLines(inSecrets, { freeTier: 'always' }).totalUsd - priceLines(lines, { freeTier: 'always' }).totalUsd;
    expect(diff).toBeCloseTo(4 * PRICES.secret.usd + (keyReads * PRICES.secretsApiCall.usd) / PRICES.secretsApiCall.per, 6);
  });

  it('the Slack webhook URL: a parameter costs nothing; in a Secrets Manager secret (as before 2026-12) $0.40 and its reads', () => {
    const inSecret = monthlyLines(REFERENCE_WORKLOAD, measured, { ...deployment, channelParameters: 0, channelSecrets: 1 });
    expect(q(inSecret, 'Parameter Store standard parameters')).toBe(4);
    expect(q(inSecret, 'secrets')).toBe(1);
    expect(q(inSecret, 'GetSecretValue calls')).toBeCloseTo(slackReads, 3);
    expect(q(inSecret, 'GetParameter calls')).toBeCloseTo(q(lines, 'GetParameter calls') - slackReads, 3);
    expect(q(inSecret, 'requests')).toBeCloseTo(q(lines, 'requests'), 3); // one KMS decrypt per read either way
    const diff = priceLines(inSecret, { freeTier: 'always' }).totalUsd - priceLines(lines, { freeTier: 'always' }).totalUsd;
    expect(diff).toBeCloseTo(PRICES.secret.usd + (slackReads * PRICES.secretsApiCall.usd) / PRICES.secretsApiCall.per, 6);
    // Without traffic the worker reads nothing; the secret is still billed.
    const silent = { ...REFERENCE_WORKLOAD, checkChangesPerDay: 0, eventsPerDay: 0, serfMemberChangesPerDay: 0 };
    expect(q(monthlyLines(silent, measured, { ...deployment, channelParameters: 0, channelSecrets: 1 }), 'GetSecretValue calls')).toBe(0);
  });
});

describe('sweepFor: a sweep of n watchers from the sweeps measured', () => {
  const sweep = (watchers: number, rru: number, ms: number): SweepCost => ({ watchers, rru, wru: 1, ms, logBytes: 300, logEvents: 2, requestBytes: 0, snsPublishes: 0, snsMessageBytes: 0, timers: 0, alertsProbes: 1 });
  const measured = [sweep(500, 12, 40), sweep(8, 0.5, 12)];
  it.each<[string, readonly SweepCost[], number, Partial<SweepCost>]>([
    ['a measured count: that sweep', measured, 500, { watchers: 500, rru: 12, ms: 40 }],
    ['between two: on their line', measured, 254, { watchers: 254, rru: 6.25, ms: 26 }],
    ['below both: the line through the two nearest', measured, 3, { watchers: 3, rru: 0.5 - (5 / 492) * 11.5, ms: 12 - (5 / 492) * 28 }],
    ['above both: the same line', measured, 992, { rru: 23.5, ms: 68 }],
    ['no watchers: the same line, at 0', measured, 0, { rru: 0.5 - (8 / 492) * 11.5, wru: 1 }],
    ['far below the line: zero, not negative', [sweep(10, 1, 10), sweep(20, 11, 20)], 0, { rru: 0, ms: 0 }],
    ['one sweep measured: that one', [sweep(8, 0.5, 12)], 500, { watchers: 8, rru: 0.5 }],
    ['three measured: the two nearest', [sweep(3, 0.5, 10), sweep(100, 2.5, 20), sweep(500, 12, 40)], 300, { rru: 7.25, ms: 30 }],
  ])('%s', (_name, sweeps, watchers, expected) => {
    const got = sweepFor(sweeps, watchers);
    for (const [k, v] of Object.entries(expected)) expect(got[k as keyof SweepCost]).toBeCloseTo(v as number, 9);
  });

  it('refuses to price a sweep nobody measured', () => expect(() => sweepFor([], 3)).toThrow(/no sweep/));

  it("prices the recommended setup's sweeps with its 3 watchers, not the 500 of every node", () => {
    const per = (rru: number): PerRequest => ({ rru, wru: 0, ms: 10, logBytes: 0, logEvents: 0, requestBytes: 100, snsPublishes: 0, snsMessageBytes: 0, timers: 0, alertsProbes: 0 });
    const m: Measured = {
      server: 'dynamodb-local',
      ingest: Object.fromEntries(INGEST_KINDS.map((k) => [k, per(0)])) as Measured['ingest'],
      sweeps: measured,
      slackDelivery: per(0),
      signOfLifeWru: 1,
      emfMetrics: 0,
    };
    const d: Deployment = { memoryMb: { ingest: 512, sweeper: 256, channelWorker: 256, timers: 256 }, tracingActive: false, alarms: 10, dashboards: 0, secrets: 0, keyParameters: 4, channelParameters: 1, channelSecrets: 0, kmsKeys: 0, polledQueues: 2, sweptQueues: 0, frontDoor: 'http-api', kmsEncryptedPolledQueues: 0, logRetentionDays: 90, accessLogLineBytes: 360 };
    const reads = (w: typeof REFERENCE_WORKLOAD) => monthlyLines(w, m, d).find((l) => l.item.startsWith('read request units'))!.quantity;
    const sweeps = SECONDS_PER_MONTH / 60;
    expect(reads(REFERENCE_WORKLOAD)).toBeCloseTo(sweeps * 12, 3);
    expect(reads(RECOMMENDED_SETUP)).toBeCloseTo(sweeps * (0.5 - (5 / 492) * 11.5), 3);
  });
});
