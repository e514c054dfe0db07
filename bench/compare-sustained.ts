/**
 * Figure 6 (sustained load) on two versions of the pipeline, side by side in one run:
 * this checkout and a git revision of it, interleaved (A, B, A, B, ...) so that both meet
 * the same machine. Prints events/s, latency, the pipeline's CPU per event (which does not
 * depend on the machine's other load) and the load average around each run.
 *
 *   npx tsx bench/compare-sustained.ts --against <git rev> [--rounds 2] [--seconds 20]
 *
 * The revision is exported with `git archive` into bench/tmp and run with this checkout's
 * node_modules and bench configuration; the load and its checks are this checkout's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, scratchDir } from './lib/paths';
import { median } from './lib/stats';
import { sustained } from './sustained';

interface Run {
  variant: string;
  round: number;
  rate: number;
  p50: number;
  p99: number;
  cpuMain?: number;
  cpuAll?: number;
  clean: string;
  load: string;
}

function exportRevision(rev: string): string {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${rev}^{commit}`], { cwd: ROOT, encoding: 'utf8' }).trim();
  const dir = join(scratchDir('compare'), commit.slice(0, 12));
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${commit} | tar -x -C "${dir}"`], { cwd: ROOT });
  if (!existsSync(join(dir, 'node_modules'))) symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const loadAverage = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { against: { type: 'string' }, rounds: { type: 'string', default: '2' }, seconds: { type: 'string', default: '20' }, workers: { type: 'string', default: '16' } },
  });
  if (!values.against) throw new Error('--against <git rev> is required');
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const workers = Number(values.workers);
  process.removeAllListeners('warning'); // the AWS SDK's Node 20 notice
  const base = exportRevision(values.against);
  const variants = [
    { name: `A ${values.against}`, root: base },
    { name: 'B this checkout', root: ROOT },
  ];
  const runs: Run[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const v of variants) {
      const before = loadAverage();
      process.stderr.write(`compare: ${v.name}, round ${round}...\n`);
      const r = await sustained({ seconds, workers, root: v.root });
      const d = r.details as Record<string, number>;
      runs.push({
        variant: v.name,
        round,
        rate: r.rows[0]!.value,
        p50: r.rows[1]!.value,
        p99: d.p99 as number,
        ...(d.cpuMainMsPerEvent !== undefined ? { cpuMain: d.cpuMainMsPerEvent, cpuAll: d.cpuAllMsPerEvent } : {}),
        clean: `${d.events} events, ${d.lost} lost, ${d.duplicates} dup`,
        load: `${before} -> ${loadAverage()}`,
      });
    }
  }
  const ms = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(2));
  const lines = [
    `figure 6 compared: ${workers} keep-alive senders, ${seconds} s per run, ${os.cpus().length} cores, node ${process.version}`,
    '',
    '| variant | round | events/s | p50 ms | p99 ms | CPU/event main thread ms | CPU/event all threads ms | events | load average (1 5 15 min) before -> after |',
    '|---|---|---|---|---|---|---|---|---|',
    ...runs.map((r) => `| ${r.variant} | ${r.round} | ${r.rate.toFixed(1)} | ${r.p50.toFixed(0)} | ${r.p99.toFixed(0)} | ${ms(r.cpuMain)} | ${ms(r.cpuAll)} | ${r.clean} | ${r.load} |`),
    ...variants.map((v) => {
      const of = runs.filter((r) => r.variant === v.name);
      const m = (f: (r: Run) => number | undefined) => {
        const xs = of.map(f).filter((x): x is number => x !== undefined);
        return xs.length ? median(xs) : undefined;
      };
      return `| ${v.name} | median | ${m((r) => r.rate)!.toFixed(1)} | ${m((r) => r.p50)!.toFixed(0)} | ${m((r) => r.p99)!.toFixed(0)} | ${ms(m((r) => r.cpuMain))} | ${ms(m((r) => r.cpuAll))} | | |`;
    }),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`compare-sustained: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
