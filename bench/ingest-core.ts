/**
 * Figure 2, ingest core: CPU time for one steady-state 2,000-check snapshot with one
 * change - normalize, detect transitions against in-memory state (the real
 * processCheckSnapshot over in-memory stores), evaluate 50 rules with the rules engine
 * (lambdas/domain/rules) - against JSON.parse of the same bytes. process.cpuUsage()
 * over many iterations, the two interleaved in blocks.
 */
import { processCheckSnapshot, type SnapshotDeps } from '../lambdas/app/sources/check-snapshots';
import { defaultCheckPolicy, type CheckAlertPolicy } from '../lambdas/domain/consul/check-transitions';
import { normalizeChecks } from '../lambdas/domain/consul/checks';
import { normalizeConfig } from '../lambdas/domain/rules/config';
import { compileRules, evaluateRules } from '../lambdas/domain/rules/evaluate';
import type { MatchFacts } from '../lambdas/domain/rules/types';
import type { FigureResult } from './lib/report';
import { MemoryScopeStore, MemorySubjectStore } from './lib/memory-stores';
import { cluster2000, goJsonLine, withChange } from './lib/snapshots';
import { cpuMs } from './lib/stats';

export const TARGET_RATIO = 3;
export const RULES = 50;

/** 50 rules of every matcher kind; none matches the benchmark's change before the last, so all 50 are tried. */
export function fiftyRules() {
  const rules: Array<Record<string, unknown>> = [];
  for (let i = 0; i < RULES - 2; i++) {
    const match: Record<string, unknown> = [
      { service: { glob: `team-${i}-*` }, status: 'critical' },
      { node: { regex: `^db-${i}-[0-9]+$` } },
      { check: { equals: `SERVICE:X-${i}`, ignoreCase: true } },
      { tags: [`canary-${i}`, `blue-${i}`], node: { not: { regex: '^prod-' } } },
      { checkName: { glob: `*job ${i}*`, ignoreCase: true }, from: 'passing' },
      { cluster: `other-${i}`, severity: 'critical' },
    ][i % 6] as Record<string, unknown>;
    rules.push({ name: `rule-${i}`, match, severity: 'critical', channels: ['oncall'], ...(i % 5 === 0 ? { for: '2m', repeat: '1h' } : {}) });
  }
  rules.push({ name: 'maintenance-is-quiet', match: { kind: 'maintenance' }, suppress: true });
  rules.push({ name: 'everything-else', match: { kind: 'check' }, channels: ['oncall'] });
  const { config, issues } = normalizeConfig({
    // The other-N clusters are listed (rules may name only listed clusters) but never the bench's.
    clusters: ['bench', ...rules.flatMap((r) => { const c = (r.match as { cluster?: string }).cluster; return c ? [c] : []; })],
    channels: { oncall: { type: 'email', addresses: [] } },
    defaults: { channels: ['oncall'], resolved: true },
    rules,
  });
  if (issues.length > 0) throw new Error(`bench rules invalid: ${JSON.stringify(issues)}`);
  return compileRules(config);
}

export async function ingestCore(opts: { iterations: number; blocks: number }): Promise<FigureResult> {
  const rules = fiftyRules();
  let evaluations = 0;
  let rulesTried = 0;
  // The policy seam with the rules engine behind it: route every alert candidate.
  const policy: CheckAlertPolicy = (t) => {
    const intent = defaultCheckPolicy(t);
    const o = t.observation;
    const facts: MatchFacts = {
      source: 'consul',
      kind: 'check',
      cluster: t.cluster,
      node: o.node,
      check: o.checkId,
      checkName: o.name,
      status: t.to,
      to: t.to,
      tags: o.serviceTags,
      ...(o.serviceName ? { service: o.serviceName } : {}),
      ...(t.from ? { from: t.from } : {}),
      ...(intent ? { severity: intent.severity } : {}),
    };
    const decision = evaluateRules(rules, facts);
    evaluations++;
    rulesTried += decision.matched.includes('everything-else') ? RULES : 0;
    return decision.suppressedBy ? undefined : intent;
  };
  const subjects = new MemorySubjectStore();
  const scopes = new MemoryScopeStore();
  const deps: SnapshotDeps = { subjects, scopes, publisher: { dispatch: async () => undefined }, policy, clock: { nowMs: () => Date.now() } };
  const input = (text: string) => ({ cluster: 'bench', scope: 'checks', observations: normalizeChecks(JSON.parse(text)).observations });

  const steady = cluster2000();
  await processCheckSnapshot(deps, input(goJsonLine(steady)));
  const saved = { subjects: subjects.snapshot(), scopes: scopes.snapshot() };
  const text = goJsonLine(withChange(steady, 1234, { Status: 'critical', Output: 'connection refused', ModifyIndex: 500 }));
  const parsed = JSON.parse(text) as unknown;

  const parse = () => JSON.parse(text);
  const core = async () => {
    const { observations } = normalizeChecks(parsed);
    const r = await processCheckSnapshot(deps, { cluster: 'bench', scope: 'checks', observations });
    if (r.transitions !== 1 || r.alertsPublished !== 1) throw new Error(`expected one alert, got ${JSON.stringify(r)}`);
    // Back to the steady state, so every iteration sees the same one change.
    subjects.restore(saved.subjects);
    scopes.restore(saved.scopes);
  };
  const loop = (fn: () => unknown, n: number) => async () => {
    for (let i = 0; i < n; i++) await fn();
  };
  // Warm up both (JIT), then alternate blocks.
  await loop(parse, 20)();
  await loop(core, 20)();
  evaluations = 0;
  rulesTried = 0;
  const per = Math.max(1, Math.floor(opts.iterations / opts.blocks));
  let parseMs = 0;
  let coreMs = 0;
  for (let b = 0; b < opts.blocks; b++) {
    parseMs += await cpuMs(loop(parse, per));
    coreMs += await cpuMs(loop(core, per));
  }
  const n = per * opts.blocks;
  const parseEach = parseMs / n;
  const coreEach = coreMs / n;
  const ratio = coreEach / parseEach;
  return {
    rows: [
      { figure: '2 ingest core', metric: `JSON.parse of the snapshot (${(text.length / 1024).toFixed(0)} KB), CPU`, value: parseEach, unit: 'ms', pass: null },
      { figure: '2 ingest core', metric: `normalize + transitions + ${RULES} rules, CPU`, value: coreEach, unit: 'ms', pass: null, note: `${evaluations / n} rule evaluation(s) of ${rulesTried / Math.max(1, evaluations)} rules per snapshot` },
      { figure: '2 ingest core', metric: 'core / JSON.parse', value: ratio, unit: 'x', target: `<= ${TARGET_RATIO}x`, pass: ratio <= TARGET_RATIO },
    ],
    details: { iterations: n, cpuMs: { parse: parseMs, core: coreMs }, bytes: Buffer.byteLength(text) },
  };
}
