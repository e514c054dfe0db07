/**
 * Figure 5, end to end: from shim exec to the alert in the runner's record of what it
 * published (notifications.jsonl, read as it is appended), with 50 shims started at once,
 * each reporting a distinct change that yields one alert. The 2,000-check cluster is watched as 50 service-filtered `checks` watches
 * (scopes) of 40 checks, one shim per scope, in steady state (deltas).
 *
 * Target (issue 16), against floors measured in the same run: 50 bare `node -e ''` started
 * at once after each burst, and one bare node alone next to each single shim. A burst of 50
 * must not cost the shim more, relative to node's own start, than one run alone does:
 * (50 shims' exec-to-alert p50 / 50 bare starts' p50) over (one shim's exec-to-alert / one
 * bare start) <= TARGET_AMPLIFICATION. The old target (p50 <= 1.5x one shim's exec time)
 * stays as an informational row.
 */
import { join } from 'node:path';
import { SHIM, scratchDir } from './lib/paths';
import type { FigureResult } from './lib/report';
import { goJsonLine, healthCheck, type HealthCheckFixture } from './lib/snapshots';
import { median, percentile, timeExec, type Exec } from './lib/stats';
import { NotificationsTail } from './lib/notifications';
import { startBenchPipeline as startLocalPipeline, type LocalPipeline } from './lib/pipeline';

/**
 * On saturated cores a burst takes about the CPU it needs: if the shim's share scales like
 * node's own, the ratio is 1. The margin is for what bare node does not have: the one
 * pipeline process taking 50 alerts on the same 2 cores (~9 ms CPU each, figure 6, against
 * ~100 ms per shim run) and the spread of bursts on a shared machine.
 */
export const TARGET_AMPLIFICATION = 1.25;
/** The target before issue 16 (p50 over one shim's exec time), now informational. */
const OLD_TARGET_RATIO = 1.5;
const SHIMS = 50;
const CHECKS_PER_SCOPE = 40;

interface Agent {
  scope: string;
  spool: string;
  checks: HealthCheckFixture[];
  index: number;
}

function agent(scope: string): Agent {
  const checks = Array.from({ length: CHECKS_PER_SCOPE }, (_, k) =>
    healthCheck({
      Node: `${scope}-node-${k % 4}`,
      CheckID: `${scope}-check-${k}`,
      Name: `${scope} check ${k}`,
      ServiceID: scope,
      ServiceName: scope,
      CreateIndex: 10,
      ModifyIndex: 10 + k,
    }),
  );
  return { scope, spool: scratchDir(`e2e-${scope}`), checks, index: 10 + CHECKS_PER_SCOPE };
}

function run(pipeline: LocalPipeline, a: Agent): Promise<Exec> {
  return timeExec(process.execPath, [SHIM, '--watch', 'checks'], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TOCSIN_URL: pipeline.url,
      TOCSIN_CLUSTER: pipeline.cluster,
      TOCSIN_KEY: pipeline.key,
      TOCSIN_NODE: `${a.scope}-agent`,
      TOCSIN_SCOPE: a.scope,
      TOCSIN_SPOOL_DIR: a.spool,
      CONSUL_INDEX: String(a.index),
      // 50 node processes starting at once on a small shared machine can take longer than
      // the default 5 s bound; a timed-out shim spools, and its alert would not be measured.
      TOCSIN_TIMEOUT_MS: '30000',
    },
    stdin: goJsonLine(a.checks),
    // Phase marks (bench/shim/trace.cjs): how long each shim waited for the API.
    trace: join(__dirname, 'shim', 'trace.cjs'),
  });
}

/** Flip check `k` of the agent's scope (passing <-> critical): exactly one alert. Returns the check id. */
function flip(a: Agent, k: number): string {
  const c = a.checks[k] as HealthCheckFixture;
  a.index++;
  a.checks[k] = { ...c, Status: c.Status === 'critical' ? 'passing' : 'critical', Output: `flip at ${a.index}`, ModifyIndex: a.index };
  return c.CheckID;
}

export async function endToEnd(opts: { rounds: number; singlesPerRound: number }): Promise<FigureResult> {
  const pipeline = await startLocalPipeline();
  const queue = NotificationsTail.follow(pipeline.dataDir);
  try {
    const agents = Array.from({ length: SHIMS }, (_, i) => agent(`svc-${String(i).padStart(2, '0')}`));
    const reference = agent('svc-single');
    // Baselines (whole lists), a few at a time; not measured.
    for (let i = 0; i < agents.length; i += 5) {
      const runs = await Promise.all(agents.slice(i, i + 5).map((a) => run(pipeline, a)));
      if (runs.some((r) => r.code !== 0)) throw new Error(`baseline shim failed: ${runs.map((r) => r.stderr).join('')}`);
    }
    if ((await run(pipeline, reference)).code !== 0) throw new Error('reference baseline failed');
    let expected = 0;
    const claimed = new Set<unknown>();

    /** Run the agents at once, each with one flipped check; latency per agent to its alert. */
    const burst = async (list: Agent[], k: number) => {
      const wanted = list.map((a) => flip(a, k));
      const execs = await Promise.all(list.map((a) => run(pipeline, a)));
      const failed = execs.filter((e) => e.code !== 0);
      if (failed.length > 0) throw new Error(`shim failed: ${failed[0]?.stderr}`);
      const noisy = execs.filter((e) => e.stderr.trim() !== '');
      if (noisy.length > 0) process.stderr.write(`[e2e] ${noisy.length} shim(s) said: ${noisy[0]?.stderr.trim()}\n`);
      expected += list.length;
      if (!(await queue.waitFor(expected, 60_000))) throw new Error(`only ${queue.arrivals.length} of ${expected} alerts arrived`);
      return list.map((_, i) => {
        // The same check may have alerted in an earlier burst: take the first unclaimed one.
        const arrival = queue.arrivals.find((x) => x.alert.check === wanted[i] && !claimed.has(x));
        if (!arrival) throw new Error(`no alert for ${wanted[i]}`);
        claimed.add(arrival);
        return { exec: execs[i] as Exec, e2e: arrival.at - (execs[i] as Exec).startedAt };
      });
    };

    // Each round: one shim alone (its own exec time and end-to-end latency) next to one bare
    // node alone, then 50 at once (a different check each round) and 50 bare nodes at once (the
    // floor on this machine). Interleaved, so that the single runs and the bursts meet the
    // pipeline and the machine in the same state (run first, the singles met a cold pipeline).
    const single: Array<{ exec: Exec; e2e: number }> = [];
    const bareSingle: number[] = [];
    const bareEnv = { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } };
    const concurrent: Array<{ exec: Exec; e2e: number }> = [];
    const bareBursts: number[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      for (let s = 0; s < opts.singlesPerRound; s++) {
        single.push(...(await burst([reference], 0)));
        bareSingle.push((await timeExec(process.execPath, ['-e', ''], bareEnv)).ms);
      }
      concurrent.push(...(await burst(agents, r)));
      const bare = await Promise.all(agents.map(() => timeExec(process.execPath, ['-e', ''], bareEnv)));
      bareBursts.push(...bare.map((b) => b.ms));
    }

    const singleExec = median(single.map((s) => s.exec.ms));
    const singleE2e = median(single.map((s) => s.e2e));
    const e2e = concurrent.map((c) => c.e2e);
    const execs = concurrent.map((c) => c.exec.ms);
    const waits = concurrent.map((c) => (c.exec.marks ? (c.exec.marks.response ?? NaN) - (c.exec.marks.request ?? NaN) : NaN)).filter((x) => !Number.isNaN(x));
    const untilRequest = concurrent.map((c) => c.exec.marks?.request ?? NaN).filter((x) => !Number.isNaN(x));
    const p50 = percentile(e2e, 50);
    const ratio = p50 / singleExec;
    const bareAlone = median(bareSingle);
    const bareBurst = percentile(bareBursts, 50);
    const burstRatio = p50 / bareBurst;
    const singleRatio = singleE2e / bareAlone;
    const amplification = burstRatio / singleRatio;
    // The same for the shims' own time (spawn to exit, less the wait for the API's answer),
    // without the one pipeline process's queue.
    const own = (x: { exec: Exec }) => x.exec.ms - ((x.exec.marks?.response ?? NaN) - (x.exec.marks?.request ?? NaN));
    const singleOwn = median(single.map(own).filter((x) => !Number.isNaN(x)));
    const burstOwn = percentile(concurrent.map(own).filter((x) => !Number.isNaN(x)), 50);
    const ownAmplification = burstOwn / bareBurst / (singleOwn / bareAlone);
    const duplicates = queue.arrivals.length - new Set(queue.arrivals.map((a) => a.alert.id)).size;
    return {
      rows: [
        { figure: '5 end to end', metric: 'one shim alone: exec time, median', value: singleExec, unit: 'ms', pass: null, note: `its alert on the queue after ${singleE2e.toFixed(0)} ms` },
        { figure: '5 end to end', metric: `${SHIMS} concurrent shims: exec to alert on queue, p50`, value: p50, unit: 'ms', pass: null },
        { figure: '5 end to end', metric: `${SHIMS} concurrent shims: exec to alert on queue, p99`, value: percentile(e2e, 99), unit: 'ms', pass: null },
        {
          figure: '5 end to end',
          metric: `floor: ${SHIMS} bare \`node -e ""\` started at once: exec to exit, p50`,
          value: bareBurst,
          unit: 'ms',
          pass: null,
          note: `${(bareBurst / singleExec).toFixed(2)}x one shim's exec time; p99 ${percentile(bareBursts, 99).toFixed(0)} ms; one bare node alone ${bareAlone.toFixed(1)} ms`,
        },
        { figure: '5 end to end', metric: `${SHIMS} concurrent shims' alert p50 / ${SHIMS} bare starts' p50`, value: burstRatio, unit: 'x', pass: null, note: `one shim alone: alert / one bare start ${singleRatio.toFixed(2)}x` },
        {
          figure: '5 end to end',
          metric: `the burst's ratio over bare node / one shim's alone (${burstRatio.toFixed(2)}x / ${singleRatio.toFixed(2)}x)`,
          value: amplification,
          unit: 'x',
          target: `<= ${TARGET_AMPLIFICATION}x`,
          pass: amplification <= TARGET_AMPLIFICATION,
        },
        {
          figure: '5 end to end',
          metric: "the same for the shims' own time: exec time less the wait for the API (without the pipeline's queue)",
          value: ownAmplification,
          unit: 'x',
          pass: null,
          note: `burst p50 ${burstOwn.toFixed(0)} ms, one shim alone ${singleOwn.toFixed(1)} ms`,
        },
        { figure: '5 end to end', metric: "p50 / one shim's exec time (informational: the target before issue 16)", value: ratio, unit: 'x', pass: null, note: `was <= ${OLD_TARGET_RATIO}x` },
        {
          figure: '5 end to end',
          metric: `${SHIMS} concurrent shims: their own exec time, p50`,
          value: percentile(execs, 50),
          unit: 'ms',
          pass: null,
          note: `p99 ${percentile(execs, 99).toFixed(0)} ms; alert p50 ${(percentile(e2e, 50) / percentile(execs, 50)).toFixed(2)}x the same shims' exec`,
        },
        {
          figure: '5 end to end',
          metric: `${SHIMS} concurrent shims: waiting for the API, p50`,
          value: percentile(waits, 50),
          unit: 'ms',
          pass: null,
          note: `start to request sent p50 ${percentile(untilRequest, 50).toFixed(0)} ms`,
        },
      ],
      details: {
        shims: SHIMS,
        rounds: opts.rounds,
        alerts: queue.arrivals.length,
        expectedAlerts: expected,
        duplicateAlerts: duplicates,
        single: single.map((s) => ({ exec: s.exec.ms, e2e: s.e2e })),
        concurrent: { e2e, exec: execs },
        bareBursts,
        bareSingle,
      },
    };
  } finally {
    await queue.stop();
    await pipeline.stop();
  }
}
