/**
 * `npm run bench`: every figure of docs issue 6, measured side by side in one run on this
 * machine, printed as a table with target and pass/fail per row and written to
 * bench/results.json. Not run by CI.
 *
 *   npm run bench                 all figures
 *   npm run bench -- --only 1,4   some of them
 *   npm run bench -- --quick      fewer rounds (a smoke test of the harness, not figures)
 */
import '../local/quiet-aws-sdk'; // first: the SDK's Node 20 notice would interleave with the table
import { rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { cliStart } from './cli-start';
import { costModel } from './cost-model';
import { datacenter } from './datacenter';
import { dynamoCost } from './dynamo-cost';
import { endToEnd } from './end-to-end';
import { ingestCore } from './ingest-core';
import { lambdaBundles } from './lambda-bundles';
import { massOutage } from './mass-outage';
import { ROOT, TMP } from './lib/paths';
import { table, type FigureResult, type Row } from './lib/report';
import { shimStart } from './shim-start';
import { sustained } from './sustained';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a, i) => a.startsWith('--only') && (a.includes('=') || args[i + 1]));
const only = onlyArg ? new Set((onlyArg.includes('=') ? onlyArg.split('=')[1] : args[args.indexOf(onlyArg) + 1])!.split(',').map(Number)) : undefined;

const FIGURES: Array<{ n: number; name: string; run: () => Promise<FigureResult> }> = [
  { n: 1, name: 'shim start', run: () => shimStart({ rounds: quick ? 3 : 25 }) },
  { n: 2, name: 'ingest core', run: () => ingestCore({ iterations: quick ? 20 : 300, blocks: quick ? 2 : 15 }) },
  { n: 3, name: 'dynamodb cost', run: () => dynamoCost({ rounds: quick ? 1 : 3 }) },
  { n: 4, name: 'lambda bundles', run: () => lambdaBundles({ rounds: quick ? 3 : 20 }) },
  { n: 5, name: 'end to end', run: () => endToEnd({ rounds: quick ? 1 : 6, singlesPerRound: 2 }) },
  { n: 6, name: 'sustained load', run: () => sustained({ seconds: quick ? 10 : 60, workers: 16, floor: true }) },
  { n: 7, name: 'cli start', run: () => cliStart({ rounds: quick ? 3 : 15 }) },
  { n: 8, name: 'cost model', run: () => costModel({ rounds: quick ? 1 : 5 }) },
  { n: 9, name: 'mass outage', run: () => massOutage() },
  { n: 10, name: '30,000-check datacenter', run: () => datacenter({ rounds: quick ? 2 : 21 }) },
];

function machine() {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    cores: cpus.length,
    cpu: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true }); // scratch of earlier runs
  const started = machine();
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of FIGURES) {
    if (only && !only.has(f.n)) continue;
    process.stderr.write(`bench: ${f.n} ${f.name}...\n`);
    const t = Date.now();
    try {
      const r = await f.run();
      rows.push(...r.rows);
      details[`${f.n} ${f.name}`] = r.details ?? {};
    } catch (err) {
      errors[`${f.n} ${f.name}`] = (err as Error).stack ?? String(err);
      rows.push({ figure: `${f.n} ${f.name}`, metric: `did not complete: ${(err as Error).message.split('\n')[0]}`, value: NaN, unit: '', target: 'completes', pass: false });
    }
    process.stderr.write(`bench: ${f.n} ${f.name} done in ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  }
  const m = { ...started, loadAverageAtEnd: os.loadavg().map((l) => Number(l.toFixed(2))) };
  const header = `tocsin bench, ${m.date}: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.platform}, node ${m.node}, load average ${m.loadAverage.join(' ')} -> ${m.loadAverageAtEnd.join(' ')}${quick ? ' [--quick: not figures]' : ''}`;
  process.stdout.write(`\n${header}\n\n${table(rows)}\n`);
  const failed = rows.filter((r) => r.pass === false);
  process.stdout.write(`\n${failed.length === 0 ? 'all targets met' : `${failed.length} row(s) FAIL`}\n`);
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify({ machine: m, quick, rows, details, errors }, null, 2)}\n`);
  process.stdout.write('written to bench/results.json\n');
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
