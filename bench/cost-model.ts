/**
 * Figure 8, cost model: the monthly AWS bill (us-east-1, list prices) of the reference
 * workload: 500 nodes and 2,500 checks; per day 1,000 check changes, 100 Consul events and
 * 20 Serf member changes; the shim's whole list every 10 minutes; set up as the README
 * recommends ("Where to run the handlers": the cluster-wide Consul watches, the Serf event
 * handler and `tocsin-shim heartbeat` every minute on 3 agents, e.g. the servers), on the
 * stack's lean default (no deployment opt-in). Per-request quantities are measured in this
 * run (cost/measure.ts), the stack's fixed resources read from its synthesized template
 * (cost/template.ts), prices and free tiers dated in cost/prices.ts, the arithmetic in
 * cost/model.ts. Target: under $1 a month with AWS's always-free tiers (those that do not
 * expire); the totals without any free tier and with new accounts' 12-month tiers too are
 * printed beside it. A miss also prints the floor: what the workload's own traffic costs
 * whatever the setup.
 */
import { deploymentOf } from './cost/template';
import { measureCostInputs, REFERENCE_CONFIG } from './cost/measure';
import { DEFAULT_ASSUMPTIONS, floorUsd, INGEST_KINDS, KIND_LABELS, monthlyLines, monthlyRequests, priceLines, RECOMMENDED_SETUP, REFERENCE_WORKLOAD, type Deployment, type Measured, type Workload } from './cost/model';
import { PRICES, REGION } from './cost/prices';
import type { FigureResult, Row } from './lib/report';

export const TARGET_USD = 1;
const FIGURE = '8 cost model';

/** Other setups of the same cluster, priced from the same measurements. */
export function scenarios(w: Workload, d: Deployment, everyOptIn: Deployment): Array<{ name: string; workload: Workload; deployment: Deployment }> {
  const silent: Workload = { ...w, nodes: 0, watchAgents: 0, serfAgents: 0, heartbeatNodes: 0, checkChangesPerDay: 0, eventsPerDay: 0, serfMemberChangesPerDay: 0 };
  const everyNode = REFERENCE_WORKLOAD;
  const sweptTimers: Deployment = { ...d, polledQueues: d.polledQueues - 1, sweptQueues: d.sweptQueues + 1 };
  const functionUrl: Deployment = { ...d, frontDoor: 'function-url' };
  const bothNotBuilt: Deployment = { ...sweptTimers, frontDoor: 'function-url' };
  const beatsEvery2m: Workload = { ...w, heartbeatEverySeconds: 120 };
  return [
    { name: 'no traffic at all: the lean stack alone (sweeper every minute, idle queue pollers, alarms)', workload: silent, deployment: d },
    { name: `the recommended setup with every deployment opt-in (dashboard, tracing, customer managed key, detailed alarms: ${everyOptIn.alarms} alarms)`, workload: w, deployment: everyOptIn },
    { name: `the watches, the Serf handler and heartbeats every minute on every node (${everyNode.nodes}) instead of ${w.watchAgents}`, workload: everyNode, deployment: d },
    { name: 'that, with heartbeats every 5m instead of 1m', workload: { ...everyNode, heartbeatEverySeconds: 300 }, deployment: d },
    { name: `the recommended setup with the ${d.keyParameters} cluster keys in Secrets Manager secrets, as before 2026-12, instead of SSM SecureString parameters`, workload: w, deployment: { ...d, secrets: d.secrets + d.keyParameters, keyParameters: 0 } },
    {
      name: `the recommended setup with the Slack webhook URL in a Secrets Manager secret (secretName), as before 2026-12, instead of an SSM SecureString parameter (secretParameter)`,
      workload: w,
      deployment: { ...d, channelSecrets: d.channelSecrets + d.channelParameters, channelParameters: 0 },
    },
    // The ways under the target, each with what it gives up. Only the first is a setting today.
    { name: 'the recommended setup with heartbeats every 2m instead of 1m (a setting: missingAfter 5m then tolerates one lost heartbeat, not four)', workload: beatsEvery2m, deployment: d },
    { name: `NOT BUILT: timers drained by the sweeper each minute instead of a Lambda-polled queue (${d.polledQueues - 1} polled queue(s); for, repeat and storm digests up to a minute late)`, workload: w, deployment: sweptTimers },
    { name: 'NOT BUILT: a Lambda function URL instead of the HTTP API (no API Gateway throttling or access log; the 29 s timeout and the routes the shim and Slack use change)', workload: w, deployment: functionUrl },
    { name: 'NOT BUILT: the function URL, with heartbeats every 2m', workload: beatsEvery2m, deployment: functionUrl },
    { name: "NOT BUILT: the sweeper's timers and the function URL", workload: w, deployment: bothNotBuilt },
    { name: 'NOT BUILT: both, with heartbeats every 2m', workload: beatsEvery2m, deployment: bothNotBuilt },
  ];
}

export async function costModel(opts: { rounds: number }): Promise<FigureResult> {
  const measured: Measured = await measureCostInputs({ rounds: opts.rounds, onProgress: (m) => process.stderr.write(`bench: 8   ${m}\n`) });
  const deployment = deploymentOf(REFERENCE_CONFIG);
  const everyOptIn = deploymentOf(REFERENCE_CONFIG, { dashboard: true, tracing: true, customerManagedKey: true, detailedAlarms: true });
  const w = RECOMMENDED_SETUP;
  const lines = monthlyLines(w, measured, deployment);
  const noFree = priceLines(lines, { freeTier: 'none' });
  const alwaysFree = priceLines(lines, { freeTier: 'always' });
  const withTwelveMonth = priceLines(lines, { freeTier: 'with 12-month' });
  const valid = measured.server === 'dynamodb-local';
  const requests = monthlyRequests(w);
  const rows: Row[] = [];
  for (const k of INGEST_KINDS) {
    const p = measured.ingest[k];
    rows.push({
      figure: FIGURE,
      metric: `measured per request: ${KIND_LABELS[k]}: ${p.rru} RRU + ${p.wru} WRU, ${p.ms.toFixed(1)} ms (median), logs ${Math.round(p.logBytes)} B, body ${Math.round(p.requestBytes)} B; ${Math.round(requests[k]).toLocaleString('en-US')} a month`,
      value: p.ms,
      unit: 'ms',
      pass: null,
    });
  }
  rows.push(
    ...measured.sweeps.map((sweep) => ({ figure: FIGURE, metric: `measured: a sweep of ${sweep.watchers} watchers: ${sweep.rru} RRU + ${sweep.wru} WRU, logs ${Math.round(sweep.logBytes)} B`, value: sweep.ms, unit: 'ms', pass: null })),
    { figure: FIGURE, metric: `measured: a sign-of-life write ${measured.signOfLifeWru} WRU; ${measured.emfMetrics} distinct EMF metrics written with every metric on; Slack delivery`, value: measured.slackDelivery.ms, unit: 'ms', pass: null },
  );
  noFree.lines.forEach((l, i) => {
    const free = alwaysFree.lines[i]!;
    rows.push({
      figure: FIGURE,
      metric: `${l.service}: ${l.item}: ${fmtQuantity(l.quantity)} x $${fmtUnitPrice(l.unitPriceUsd)} (${l.unit}); with the always-free tier $${free.costUsd.toFixed(2)}${l.floor ? ' (floor)' : ''}`,
      value: l.costUsd,
      unit: 'USD',
      pass: null,
    });
  });
  const setup = `reference workload set up as the README recommends (${w.watchAgents} reporting agents), the stack's lean default`;
  const how = `${valid ? "capacity from Amazon's DynamoDB Local" : 'dynalite reports no capacity: not a valid figure'}; durations measured on this machine under its load, not on Lambda arm64`;
  rows.push({ figure: FIGURE, metric: `total per month, ${REGION}, no free tier, ${setup}`, value: noFree.totalUsd, unit: 'USD', pass: null });
  rows.push({
    figure: FIGURE,
    metric: `total per month with AWS's always-free tiers (Lambda, SQS, SNS, CloudWatch, X-Ray, KMS: cost/prices.ts), ${setup} (${how})`,
    value: alwaysFree.totalUsd,
    unit: 'USD',
    target: `< $${TARGET_USD}`,
    pass: valid && alwaysFree.totalUsd < TARGET_USD,
  });
  rows.push({ figure: FIGURE, metric: "the same with new accounts' 12-month tiers too (API Gateway 1M calls: the first year only)", value: withTwelveMonth.totalUsd, unit: 'USD', pass: null });
  const floor = floorUsd(alwaysFree.lines);
  if (alwaysFree.totalUsd >= TARGET_USD) {
    const floorItems = alwaysFree.lines.filter((l) => l.floor).map((l) => `${l.service} ${l.item} $${l.costUsd.toFixed(2)}`).join('; ');
    rows.push({ figure: FIGURE, metric: `floor, with the always-free tiers: what the workload's own traffic costs on this design whatever the setup (${floorItems})`, value: floor, unit: 'USD', pass: null });
    rows.push({ figure: FIGURE, metric: `floor / target: the floor alone is ${(floor / TARGET_USD).toFixed(2)}x the $${TARGET_USD} target`, value: floor / TARGET_USD, unit: 'x', pass: null });
    rows.push({ figure: FIGURE, metric: `always-free total / floor: the rest of the bill (the stack's fixed costs, polling) is $${(alwaysFree.totalUsd - floor).toFixed(2)}`, value: floor > 0 ? alwaysFree.totalUsd / floor : 0, unit: 'x', pass: null });
  }
  const ranked = [...alwaysFree.lines].sort((a, b) => b.costUsd - a.costUsd).slice(0, 6);
  rows.push({ figure: FIGURE, metric: `largest items with the always-free tiers: ${ranked.map((l) => `${l.service} ${l.item} $${l.costUsd.toFixed(2)}`).join('; ')}`, value: ranked.reduce((n, l) => n + l.costUsd, 0), unit: 'USD', pass: null });
  const alternatives = scenarios(w, deployment, everyOptIn).map((s) => {
    const l = monthlyLines(s.workload, measured, s.deployment);
    return { ...s, total: priceLines(l, { freeTier: 'none' }).totalUsd, totalAlwaysFree: priceLines(l, { freeTier: 'always' }).totalUsd };
  });
  for (const s of alternatives) {
    rows.push({ figure: FIGURE, metric: `what if: ${s.name}: with the always-free tiers (no free tier $${s.total.toFixed(2)})`, value: s.totalAlwaysFree, unit: 'USD', pass: null });
  }
  return {
    rows,
    details: {
      workload: w,
      assumptions: DEFAULT_ASSUMPTIONS,
      deployment,
      everyOptIn,
      measured,
      requestsPerMonth: requests,
      lines: noFree.lines,
      totalUsd: noFree.totalUsd,
      linesWithAlwaysFreeTiers: alwaysFree.lines,
      totalWithAlwaysFreeTiersUsd: alwaysFree.totalUsd,
      totalWith12MonthTiersUsd: withTwelveMonth.totalUsd,
      floorUsd: floor,
      scenarios: alternatives.map((s) => ({ name: s.name, totalUsd: s.total, totalWithAlwaysFreeTiersUsd: s.totalAlwaysFree })),
      prices: PRICES,
    },
  };
}

function fmtQuantity(q: number): string {
  if (q >= 100) return Math.round(q).toLocaleString('en-US');
  return q >= 1 ? q.toFixed(2) : q.toFixed(4);
}

function fmtUnitPrice(p: number): string {
  return p >= 0.01 ? p.toFixed(2) : p.toPrecision(3);
}
