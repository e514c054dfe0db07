/** `npm start` as the benchmarks run it: test/support's launcher with bench/tocsin.bench.yaml. */
import { join } from 'node:path';
import { startLocalPipeline, type LocalPipeline } from '../../test/support/local-pipeline';
import { ROOT } from './paths';

export type { LocalPipeline };

export const BENCH_CONFIG = join(ROOT, 'bench', 'tocsin.bench.yaml');

/**
 * NODE_OPTIONS for the pipeline process only (not the bench's own), e.g.
 * `--require ./profile.cjs` to see where a figure's requests spend their time.
 */
export const PIPELINE_NODE_OPTIONS = 'TOCSIN_BENCH_PIPELINE_NODE_OPTIONS';
/** Node options for the pipeline process that NODE_OPTIONS does not allow (V8 flags), space-separated. */
export const PIPELINE_NODE_ARGS = 'TOCSIN_BENCH_PIPELINE_NODE_ARGS';

/**
 * `root`: the checkout whose local/main.ts runs (default: this one). The pipeline runs in
 * the spawned process itself (no tsx wrapper), so that its pid is the pipeline's and its
 * CPU time can be read (proc-cpu.ts).
 */
export function startBenchPipeline(opts: { root?: string } = {}): Promise<LocalPipeline> {
  const nodeOptions = process.env[PIPELINE_NODE_OPTIONS];
  const nodeArgs = process.env[PIPELINE_NODE_ARGS]?.split(' ').filter(Boolean);
  return startLocalPipeline({
    inProcess: true,
    ...(nodeArgs?.length ? { nodeArgs } : {}),
    ...(opts.root ? { root: opts.root } : {}),
    env: { TOCSIN_CONFIG: BENCH_CONFIG, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
  });
}
