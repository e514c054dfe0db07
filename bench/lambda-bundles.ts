/**
 * Figure 4, Lambda bundles: each lambdas/functions/*.ts that exports a handler, bundled
 * with the stack's own settings (lib/lambda-bundling.ts and the bundled tocsin.yaml
 * define, as NodejsFunction runs esbuild), its minified size,
 * and its module init time - `require` in a fresh process with the function's environment,
 * the AWS SDK resolved from node_modules as the runtime resolves its own copy - against a
 * bare node start. Interleaved.
 */
import { build } from 'esbuild';
import { mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from '../lib/lambda-bundling';
import { toTocsinConfig } from '../lib/config';
import { bundledConfigDefine } from '../lib/notifications';
import { loadConfigFile } from '../lambdas/commons/config-file';
import { LAMBDA_ENV } from '../lambdas/commons/topology';
import { ROOT, TMP } from './lib/paths';
import type { FigureResult, Row } from './lib/report';
import { interleave, median, timeExec } from './lib/stats';

export const TARGETS = { ingestKB: 250, initRatio: 1.3 };

/** Values that let each function's config read succeed at init. */
const PLACEHOLDERS: Record<string, string> = {
  [LAMBDA_ENV.tableName]: 'tocsin-state',
  [LAMBDA_ENV.alertsTopicArn]: 'arn:aws:sns:us-east-1:123456789012:tocsin-alerts',
  [LAMBDA_ENV.clusterSecretPrefix]: 'tocsin/cluster/',
  [LAMBDA_ENV.clusters]: 'default',
  [LAMBDA_ENV.adminSecretPrefix]: 'tocsin/admin/',
  [LAMBDA_ENV.timersQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/tocsin-timers',
  [LAMBDA_ENV.configDigest]: '0'.repeat(64),
  [LAMBDA_ENV.slackQueues]: '{}',
};

export function functionEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    NODE_OPTIONS: LAMBDA_NODE_OPTIONS,
    // The SDK's "node >= 22" notice is not part of the Lambda runtime's start.
    NODE_NO_WARNINGS: '1',
  };
  for (const name of Object.values(LAMBDA_ENV)) env[name] = PLACEHOLDERS[name] ?? 'bench';
  return env;
}

export async function bundleFunction(entry: string, outDir: string, define: Record<string, string>): Promise<string> {
  const outfile = join(outDir, `${basename(entry, '.ts')}.js`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    external: [...LAMBDA_BUNDLING.externalModules],
    // As the stack does: the validated tocsin.yaml travels inside the bundle.
    define,
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

/** The external @aws-sdk packages a bundle requires, in order of first appearance. */
function sdkPackages(bundle: string): string[] {
  const found = [...readFileSync(bundle, 'utf8').matchAll(/require\("(@aws-sdk\/[^"]+)"\)/g)].map((m) => m[1] as string);
  return [...new Set(found)];
}

/** In one fresh process: ms to require each SDK package, then the bundle (what dominates init). */
async function breakdown(bundle: string, env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  const script = `
    const t = (f) => { const s = performance.now(); f(); return performance.now() - s; };
    const out = {};
    for (const m of ${JSON.stringify(sdkPackages(bundle))}) out[m] = t(() => require(m));
    out['bundle (after the SDK)'] = t(() => require(${JSON.stringify(bundle)}));
    out['node bootstrap'] = performance.nodeTiming.bootstrapComplete;
    process.stdout.write(JSON.stringify(out));`;
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['-e', script], { env, cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`breakdown failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, number>;
}

export async function lambdaBundles(opts: { rounds: number }): Promise<FigureResult> {
  const outDir = join(TMP, 'lambdas');
  mkdirSync(outDir, { recursive: true });
  const dir = join(ROOT, 'lambdas', 'functions');
  // Entry points only (notify-deps.ts is a module the functions share).
  const entries = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f))
    .filter((f) => /export (async )?function handler\b|export const handler\b/.test(readFileSync(f, 'utf8')));
  const env = functionEnv();
  const define = bundledConfigDefine(toTocsinConfig(loadConfigFile(join(ROOT, 'tocsin.yaml'))));
  const rows: Row[] = [];
  const details: Record<string, unknown> = {};
  for (const entry of entries) {
    const name = basename(entry, '.ts');
    const bundle = await bundleFunction(entry, outDir, define);
    const kb = statSync(bundle).size / 1024;
    const load = async () => {
      const r = await timeExec(process.execPath, ['-e', `require(${JSON.stringify(bundle)})`], { env, cwd: ROOT });
      if (r.code !== 0) throw new Error(`${name}: init failed (${r.code}): ${r.stderr.slice(0, 2000)}`);
      return r.ms;
    };
    const samples = await interleave(opts.rounds, {
      bare: async () => (await timeExec(process.execPath, ['-e', ''], { env: { PATH: process.env.PATH }, cwd: ROOT })).ms,
      init: load,
    });
    const bare = median(samples.bare);
    const init = median(samples.init);
    const ratio = init / bare;
    const parts = await breakdown(bundle, env);
    const sdk = Object.entries(parts).filter(([k]) => k.startsWith('@aws-sdk/')).reduce((n, [, v]) => n + v, 0);
    const isIngest = name === 'ingest';
    rows.push(
      {
        figure: '4 lambda bundles',
        metric: `${name}.js minified size`,
        value: kb,
        unit: 'KB',
        ...(isIngest ? { target: `<= ${TARGETS.ingestKB} KB`, pass: kb <= TARGETS.ingestKB } : { pass: null }),
      },
      { figure: '4 lambda bundles', metric: `${name} init (fresh process, require), median`, value: init, unit: 'ms', pass: null, note: `bare node ${bare.toFixed(1)} ms` },
      { figure: '4 lambda bundles', metric: `${name} init / bare node`, value: ratio, unit: 'x', target: `<= ${TARGETS.initRatio}x`, pass: ratio <= TARGETS.initRatio },
      {
        figure: '4 lambda bundles',
        metric: `${name} init: AWS SDK requires, one fresh process`,
        value: sdk,
        unit: 'ms',
        pass: null,
        note: `own bundle after the SDK ${(parts['bundle (after the SDK)'] ?? NaN).toFixed(1)} ms`,
      },
    );
    details[name] = { bytes: statSync(bundle).size, medians: { bare, init }, samples, requireBreakdownMs: parts };
  }
  return { rows, details };
}
