/**
 * Figure 7, CLI start: wall time of one `tocsin` call, the built CLI (bin/run-cli.cjs: the
 * freshness check, then the esbuild bundle) against a bare `node -e ''` and against the
 * old path, the TypeScript sources through tsx. Three commands: `--help` (reads nothing),
 * `heartbeat-config` (reads and validates tocsin.yaml), `silence list` (one signed request
 * to the local pipeline). Also the same `--help` through `npx` and `npm run`, whose own
 * start is npm's and not tocsin's. Interleaved, medians.
 */
import { join } from 'node:path';
import { BENCH_CONFIG, startBenchPipeline } from './lib/pipeline';
import { ROOT } from './lib/paths';
import type { FigureResult, Row } from './lib/report';
import { interleave, median, percentile, timeExec } from './lib/stats';

/** `tocsin --help` (built) over bare node. */
export const TARGET_HELP_RATIO = 1.5;

const RUN_CLI = join(ROOT, 'bin', 'run-cli.cjs');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SOURCES = join(ROOT, 'bin', 'tocsin-cli.ts');

export async function cliStart(opts: { rounds: number }): Promise<FigureResult> {
  const pipeline = await startBenchPipeline();
  try {
    const adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1];
    if (!adminKey) throw new Error('no TOCSIN_ADMIN_KEY in the pipeline output');
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      TOCSIN_CONFIG: BENCH_CONFIG,
      TOCSIN_URL: pipeline.url,
      TOCSIN_CLUSTER: pipeline.cluster,
      TOCSIN_ADMIN_KEY: adminKey,
    };
    const run = (cmd: string, args: string[]) => async () => {
      const r = await timeExec(cmd, args, { env, cwd: ROOT });
      if (r.code !== 0 || r.stderr.trim() !== '') throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
      return r.ms;
    };
    const node = process.execPath;
    const variants = {
      bare: run(node, ['-e', '']),
      helpBuilt: run(node, [RUN_CLI, '--help']),
      helpTsx: run(TSX, [SOURCES, '--help']),
      heartbeatBuilt: run(node, [RUN_CLI, 'heartbeat-config']),
      heartbeatTsx: run(TSX, [SOURCES, 'heartbeat-config']),
      silenceBuilt: run(node, [RUN_CLI, 'silence', 'list']),
      silenceTsx: run(TSX, [SOURCES, 'silence', 'list']),
      helpNpmRun: run('npm', ['run', '--silent', 'tocsin', '--', '--help']),
      helpNpx: run('npx', ['tocsin', '--help']),
    };
    // Warm-up: builds the bundle if a source changed, fills tsx's cache and the page cache.
    for (const v of Object.values(variants)) await v();
    const samples = await interleave(opts.rounds, variants);
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v as number[])])) as Record<keyof typeof variants, number>;
    const x = (v: number, over: number) => `${(v / over).toFixed(2)}x`;
    const row = (metric: string, value: number, note?: string): Row => ({ figure: '7 cli start', metric, value, unit: 'ms', pass: null, ...(note ? { note } : {}) });
    const helpRatio = m.helpBuilt / m.bare;
    return {
      rows: [
        row('bare `node -e ""`, median', m.bare),
        row('`tocsin --help`, built (node bin/run-cli.cjs), median', m.helpBuilt),
        { figure: '7 cli start', metric: '`tocsin --help` built / bare node', value: helpRatio, unit: 'x', target: `<= ${TARGET_HELP_RATIO}x`, pass: helpRatio <= TARGET_HELP_RATIO },
        row('`tocsin --help`, old path (tsx bin/tocsin-cli.ts), median', m.helpTsx, `${x(m.helpTsx, m.bare)} bare, ${x(m.helpTsx, m.helpBuilt)} built`),
        row('`tocsin heartbeat-config` (reads tocsin.yaml), built, median', m.heartbeatBuilt, `${x(m.heartbeatBuilt, m.bare)} bare`),
        row('`tocsin heartbeat-config`, old path (tsx), median', m.heartbeatTsx, `${x(m.heartbeatTsx, m.heartbeatBuilt)} built`),
        row('`tocsin silence list` against npm start, built, median', m.silenceBuilt, `${x(m.silenceBuilt, m.bare)} bare`),
        row('`tocsin silence list`, old path (tsx), median', m.silenceTsx, `${x(m.silenceTsx, m.silenceBuilt)} built`),
        row('`npm run tocsin -- --help` (built; npm starts first), median', m.helpNpmRun, `${x(m.helpNpmRun, m.bare)} bare`),
        row('`npx tocsin --help` (built; npx reads node_modules first), median', m.helpNpx, `${x(m.helpNpx, m.bare)} bare`),
      ],
      details: {
        rounds: opts.rounds,
        medians: m,
        p90: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, percentile(v as number[], 90)])),
        samples,
      },
    };
  } finally {
    await pipeline.stop();
  }
}
