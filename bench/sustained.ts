/**
 * Figure 6, sustained load: events per second the local pipeline (`npm start`) takes for
 * 60 s with nothing lost. Signed delta envelopes, as shims send them in steady state, are
 * POSTed in-process over keep-alive connections by concurrent workers, each owning one
 * `checks` scope; every event flips one check (passing <-> critical), so every event must
 * yield exactly one alert in the runner's record of what it published (notifications.jsonl).
 * Retryable answers (5xx) are retried like the shim would; the alerts are counted and
 * matched afterwards.
 */
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { join } from 'node:path';
import type { FigureResult } from './lib/report';
import { SignedClient, checksEnvelope } from './lib/client';
import { NotificationsTail } from './lib/notifications';
import { goJsonLine, healthCheck, type HealthCheckFixture } from './lib/snapshots';
import { nowMs, percentile } from './lib/stats';
import { startBenchPipeline as startLocalPipeline } from './lib/pipeline';
import { cpuSince, procCpu } from './lib/proc-cpu';
import { ROOT } from './lib/paths';

const CHECKS_PER_SCOPE = 20;

/**
 * `root`: run another checkout's pipeline under the same load (bench/compare-sustained.ts).
 * `floor`: then the same senders for as long, each event only its DynamoDB calls (bench/dynamo-floor.ts).
 */
export async function sustained(opts: { seconds: number; workers: number; root?: string; floor?: boolean }): Promise<FigureResult> {
  const result = await pipelineUnderLoad(opts);
  if (!opts.floor) return result;
  const floor = await dynamoFloor(opts.seconds, opts.workers);
  const rate = result.rows[0]!.value as number;
  const p99 = (result.details as { p99: number }).p99;
  result.rows.push(
    {
      figure: '6 sustained load',
      metric: 'issue 12 throughput target (16 senders, 2 cores, nothing lost)',
      value: rate,
      unit: '/s',
      target: '>= 250 /s, p99 <= 150 ms',
      pass: rate >= 250 && p99 <= 150 && result.rows[0]!.pass === true,
      note: `p99 ${p99.toFixed(0)} ms`,
    },
    {
      figure: '6 sustained load',
      metric: `floor: the same ${opts.workers} senders, each event only its DynamoDB calls (same adapters, SDK, dynalite worker; no HTTP, handler, bus), events/s`,
      value: floor.rate,
      unit: '/s',
      pass: null,
      note: `p50 ${floor.p50.toFixed(0)} ms, p99 ${floor.p99.toFixed(0)} ms${floor.cpuAllMsPerEvent !== undefined ? `, CPU per event ${floor.cpuMainMsPerEvent!.toFixed(2)} ms main thread, ${floor.cpuAllMsPerEvent.toFixed(2)} ms all threads` : ''}`,
    },
    {
      figure: '6 sustained load',
      metric: 'pipeline events/s / floor events/s',
      value: rate / floor.rate,
      unit: 'x',
      pass: null,
    },
  );
  result.details = { ...result.details, floor };
  return result;
}

interface Floor {
  events: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  cpuMainMsPerEvent?: number;
  cpuAllMsPerEvent?: number;
}

/** bench/dynamo-floor.ts in a child process (it reads its own CPU time during the load from /proc). */
async function dynamoFloor(seconds: number, workers: number): Promise<Floor> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'dynamo-floor.ts'), String(seconds), String(workers)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`dynamo-floor exited with ${code}: ${err.trim()}`);
  const floor = JSON.parse(out.trim().split('\n').pop() as string) as Floor;
  return floor;
}

async function pipelineUnderLoad(opts: { seconds: number; workers: number; root?: string }): Promise<FigureResult> {
  const pipeline = await startLocalPipeline(opts.root ? { root: opts.root } : {});
  const queue = NotificationsTail.follow(pipeline.dataDir, { start: false });
  const client = new SignedClient(pipeline.url, pipeline.key, opts.workers);
  try {
    const expected = new Set<string>();
    const latencies: number[] = [];
    let retries = 0;
    let fullResends = 0;

    const worker = async (w: number, baselined: () => void) => {
      const scope = `load-${w}`;
      const checks: HealthCheckFixture[] = Array.from({ length: CHECKS_PER_SCOPE }, (_, k) =>
        healthCheck({ Node: `load-node-${w}`, CheckID: `${scope}-c${k}`, ServiceID: scope, ServiceName: scope, CreateIndex: 5, ModifyIndex: 10 + k }),
      );
      let index = 10 + CHECKS_PER_SCOPE;
      const baseline = await client.post(checksEnvelope(pipeline.cluster, scope, index, goJsonLine(checks)));
      if (baseline.status !== 200) throw new Error(`baseline ${scope}: HTTP ${baseline.status} ${JSON.stringify(baseline.body)}`);
      let base = index - 1;
      baselined();
      const until = await ready;
      for (let n = 0; nowMs() < until; n++) {
        const k = n % CHECKS_PER_SCOPE;
        const c = checks[k] as HealthCheckFixture;
        index++;
        checks[k] = { ...c, Status: c.Status === 'critical' ? 'passing' : 'critical', Output: `event ${index}`, ModifyIndex: index };
        const started = nowMs();
        let delta = true;
        for (let attempt = 0; ; attempt++) {
          const body = delta ? JSON.stringify({ changed: [checks[k]], removed: [] }) : goJsonLine(checks);
          const r = await client.post(checksEnvelope(pipeline.cluster, scope, index, body, delta ? { base } : undefined));
          if (r.status === 200) break;
          if (r.status === 409 && delta) {
            delta = false;
            fullResends++;
            continue;
          }
          if (r.status >= 500 && attempt < 20) {
            retries++;
            await new Promise((res) => setTimeout(res, 50 * (attempt + 1)));
            continue;
          }
          throw new Error(`${scope} event ${index}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
        }
        latencies.push(nowMs() - started);
        base = index;
        expected.add(`${c.CheckID}@${index}`);
      }
    };

    // Baselines first; the clock starts when every worker has its baseline (or failed).
    let go!: (until: number) => void;
    const ready = new Promise<number>((r) => (go = r));
    let pending = opts.workers;
    let allBaselined!: () => void;
    const baselinesDone = new Promise<void>((r) => (allBaselined = r));
    const onBaseline = () => {
      if (--pending === 0) allBaselined();
    };
    const workers = Array.from({ length: opts.workers }, (_, w) =>
      worker(w, onBaseline).catch((e: Error) => {
        onBaseline();
        return e;
      }),
    );
    await baselinesDone;
    const started = nowMs();
    const cpuBefore = procCpu(pipeline.pid);
    go(started + opts.seconds * 1000);
    const outcomes = await Promise.all(workers);
    const elapsed = (nowMs() - started) / 1000;
    // The pipeline's CPU during the load (its queue workers included): per event, it does not depend on the machine's other load.
    const cpu = cpuSince(pipeline.pid, cpuBefore);
    const failures = outcomes.filter((o): o is Error => o instanceof Error);
    if (failures.length > 0) throw failures[0];

    // Every change must have produced exactly one alert.
    queue.start();
    await queue.waitFor(expected.size, 180_000);
    await new Promise((r) => setTimeout(r, 3000)); // anything extra (duplicates) still in flight
    const got = queue.arrivals.map((a) => `${a.alert.check}@${a.alert.details.find(([k]) => k === 'ModifyIndex')?.[1]}`);
    const gotSet = new Set(got);
    const lost = [...expected].filter((e) => !gotSet.has(e)).length;
    const duplicates = got.length - gotSet.size;
    const unexpected = [...gotSet].filter((g) => !expected.has(g)).length;
    const rate = expected.size / elapsed;
    const cores = os.cpus().length;
    const clean = lost === 0 && duplicates === 0 && unexpected === 0;
    return {
      rows: [
        {
          figure: '6 sustained load',
          metric: `events/s for ${opts.seconds} s, ${opts.workers} keep-alive senders, ${cores} cores`,
          value: rate,
          unit: '/s',
          target: 'nothing lost',
          pass: clean,
          note: `${expected.size} events, ${lost} lost, ${duplicates} duplicated`,
        },
        { figure: '6 sustained load', metric: 'request latency under that load, p50', value: percentile(latencies, 50), unit: 'ms', pass: null, note: `p99 ${percentile(latencies, 99).toFixed(0)} ms` },
        ...(cpu
          ? [
              {
                figure: '6 sustained load',
                metric: 'pipeline CPU per event, its event loop (main thread)',
                value: cpu.mainMs / expected.size,
                unit: 'ms',
                pass: null,
                note: `all its threads ${(cpu.allMs / expected.size).toFixed(2)} ms`,
              },
            ]
          : []),
      ],
      details: {
        seconds: elapsed,
        workers: opts.workers,
        cores,
        events: expected.size,
        alerts: got.length,
        lost,
        duplicates,
        unexpected,
        retries,
        fullResends,
        p99: percentile(latencies, 99),
        ...(cpu ? { cpuMainMsPerEvent: cpu.mainMs / expected.size, cpuAllMsPerEvent: cpu.allMs / expected.size } : {}),
        loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      },
    };
  } finally {
    client.close();
    await queue.stop();
    await pipeline.stop();
  }
}
