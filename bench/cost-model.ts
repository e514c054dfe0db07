/**
 * Figure 8, cost model: the monthly AWS bill (us-east-1, list prices, no free tier) of the
 * reference workload: 500 nodes and 2,500 checks; per day 1,000 check changes, 100 Consul
 * events and 20 Serf member changes; the shim's whole list every 10 minutes; set up as the
 * README recommends ("Where to run the handlers": the cluster-wide Consul watches, the Serf
 * event handler and `tocsin-shim heartbeat` every minute on 3 agents, e.g. the servers). Per-request quantities are measured in this run
 * (cost/measure.ts), the stack's fixed resources read from its synthesized template
 * (cost/template.ts), prices dated in cost/prices.ts, the arithmetic in cost/model.ts.
 * Target: under $1 a month.
 */
import { deploymentOf } from './cost/template';
import { measureCostInputs, REFERENCE_CONFIG } from './cost/measure';
import { DEFAULT_ASSUMPTIONS, INGEST_KINDS, KIND_LABELS, monthlyLines, monthlyRequests, priceLines, RECOMMENDED_SETUP, REFERENCE_WORKLOAD, type Deployment, type Measured, type Workload } from './cost/model';
import { PRICES, REGION } from './cost/prices';
import type { FigureResult, Row } from './lib/report';

export const TARGET_USD = 1;
const FIGURE = '8 cost model';

/** Other setups of the same cluster, priced from the same measurements: what would bring the bill under the target. */
export function scenarios(w: Workload, d: Deployment): Array<{ name: string; workload: Workload; deployment: Deployment }> {
  const untraced: Deployment = { ...d, tracingActive: false };
  const silent: Workload = { ...w, nodes: 0, watchAgents: 0, serfAgents: 0, heartbeatNodes: 0, checkChangesPerDay: 0, eventsPerDay: 0, serfMemberChangesPerDay: 0 };
  const everyNode = REFERENCE_WORKLOAD;
  return [
    { name: 'no traffic at all: the stack alone (sweeper every minute, idle queue pollers, alarms, secrets, key, dashboard, metrics)', workload: silent, deployment: d },
    { name: `the watches, the Serf handler and heartbeats every minute on every node (${everyNode.nodes}) instead of ${w.watchAgents}`, workload: everyNode, deployment: d },
    { name: 'that, with heartbeats every 5m instead of 1m', workload: { ...everyNode, heartbeatEverySeconds: 300 }, deployment: d },
    { name: `the recommended setup (${w.watchAgents} agents) with X-Ray tracing off`, workload: w, deployment: untraced },
    { name: 'that, and no dashboard, alarms within the free 10, one secret per cluster', workload: w, deployment: { ...untraced, dashboards: 0, alarms: Math.min(d.alarms, 10), secrets: 1 } },
  ];
}

export async function costModel(opts: { rounds: number }): Promise<FigureResult> {
  const measured: Measured = await measureCostInputs({ rounds: opts.rounds, onProgress: (m) => process.stderr.write(`bench: 8   ${m}\n`) });
  const deployment = deploymentOf(REFERENCE_CONFIG);
  const w = RECOMMENDED_SETUP;
  const lines = monthlyLines(w, measured, deployment);
  const noFree = priceLines(lines, { freeTier: false });
  const free = priceLines(lines, { freeTier: true });
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
    { figure: FIGURE, metric: `measured: a sweep of 500 watchers: ${measured.sweep.rru} RRU + ${measured.sweep.wru} WRU, logs ${Math.round(measured.sweep.logBytes)} B; a sign-of-life write ${measured.signOfLifeWru} WRU; Slack delivery ${measured.slackDelivery.ms.toFixed(1)} ms; ${measured.emfMetrics} distinct EMF metrics`, value: measured.sweep.ms, unit: 'ms', pass: null },
  );
  for (const l of noFree.lines) {
    rows.push({
      figure: FIGURE,
      metric: `${l.service}: ${l.item}: ${fmtQuantity(l.quantity)} x $${fmtUnitPrice(l.unitPriceUsd)} (${l.unit})`,
      value: l.costUsd,
      unit: 'USD',
      pass: null,
    });
  }
  rows.push({
    figure: FIGURE,
    metric: `total per month, ${REGION}, no free tier, reference workload set up as the README recommends, ${w.watchAgents} watching agents (${valid ? "capacity from Amazon's DynamoDB Local" : 'dynalite reports no capacity: not a valid figure'}; durations measured on this machine under its load, not on Lambda arm64)`,
    value: noFree.totalUsd,
    unit: 'USD',
    target: `< $${TARGET_USD}`,
    pass: valid && noFree.totalUsd < TARGET_USD,
  });
  rows.push({ figure: FIGURE, metric: 'the same with every AWS free tier (incl. API Gateway 12-month new-account tier)', value: free.totalUsd, unit: 'USD', pass: null });
  const ranked = [...noFree.lines].sort((a, b) => b.costUsd - a.costUsd).slice(0, 5);
  rows.push({ figure: FIGURE, metric: `largest items: ${ranked.map((l) => `${l.service} ${l.item} $${l.costUsd.toFixed(2)}`).join('; ')}`, value: ranked.reduce((n, l) => n + l.costUsd, 0), unit: 'USD', pass: null });
  const alternatives = scenarios(w, deployment).map((s) => ({ ...s, total: priceLines(monthlyLines(s.workload, measured, s.deployment), { freeTier: false }).totalUsd, totalFree: priceLines(monthlyLines(s.workload, measured, s.deployment), { freeTier: true }).totalUsd }));
  for (const s of alternatives) {
    rows.push({ figure: FIGURE, metric: `what if: ${s.name} (with free tier $${s.totalFree.toFixed(2)})`, value: s.total, unit: 'USD', pass: null });
  }
  return {
    rows,
    details: {
      workload: w,
      assumptions: DEFAULT_ASSUMPTIONS,
      deployment,
      measured,
      requestsPerMonth: requests,
      lines: noFree.lines,
      totalUsd: noFree.totalUsd,
      linesWithFreeTier: free.lines,
      totalWithFreeTierUsd: free.totalUsd,
      scenarios: alternatives.map((s) => ({ name: s.name, totalUsd: s.total, totalWithFreeTierUsd: s.totalFree })),
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
