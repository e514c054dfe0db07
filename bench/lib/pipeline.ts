/** `npm start` as the benchmarks run it: test/support's launcher with bench/tocsin.bench.yaml. */
import { join } from 'node:path';
import { startLocalPipeline, type LocalPipeline } from '../../test/support/local-pipeline';
import { ROOT } from './paths';

export type { LocalPipeline };

export const BENCH_CONFIG = join(ROOT, 'bench', 'tocsin.bench.yaml');

export function startBenchPipeline(): Promise<LocalPipeline> {
  return startLocalPipeline({ env: { TOCSIN_CONFIG: BENCH_CONFIG } });
}
