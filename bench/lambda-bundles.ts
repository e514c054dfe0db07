/**
 * Figure 4, Lambda bundles: each lambdas/functions/*.ts that exports a handler, bundled
 * with the stack's own settings (lib/lambda-bundling.ts and the bundled tocsin.yaml
 * define, as NodejsFunction runs esbuild), its minified size,
 * and its module init time - `require` in a fresh process with the function's environment,
 * the AWS SDK resolved from node_modules as the runtime resolves its own copy - against its
 * SDK floor (issue 16): a bundle built the same way that only loads the same SDK packages
 * and constructs the same clients, nothing else. The ratio over bare node start (the target
 * before issue 16) stays as an informational row. Measured in the same interleaved rounds: two floors (bare node, and
 * `require('node:https')`, the HTTP stack every SDK client loads) and one alternative the
 * stack does not use, the ingest function with the AWS SDK bundled in. Powertools Metrics'
 * cost, side by side: each function that bundles it is also built without it (the package
 * replaced by a no-op of the same shape: the same code, no EMF), and a floor requiring just
 * the bundled Powertools package (and constructing its Metrics) over bare node.
 */
import { build, type Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { configBundle, LAMBDA_BUNDLING, LAMBDA_NODE_OPTIONS } from '../lib/lambda-bundling';
import { loadConfigFile } from '../lambdas/commons/config-file';
import { BUNDLED_CONFIG, LAMBDA_ENV } from '../lambdas/commons/deployment';
import { ROOT, TMP } from './lib/paths';
import type { FigureResult, Row } from './lib/report';
import { interleave, median, timeExec } from './lib/stats';

/**
 * initRatio: a function's init over its SDK floor's. What is left above the floor is
 * tocsin's own code, its bundled config, Powertools and the source map: at most 30% of what
 * loading the SDK clients costs (README, Benchmarks). oldInitRatioOverBare: the target
 * before issue 16, now informational.
 */
export const TARGETS = { ingestKB: 250, initRatio: 1.3, oldInitRatioOverBare: 1.3 };

/**
 * How a function constructs the client of each external SDK package it requires (as
 * lambdas/functions/ and aws-application.ts do). lib-dynamodb wraps the DynamoDB client, so
 * client-dynamodb alone adds nothing when both are present. A package missing here stops the
 * bench: a floor without it would flatter the function.
 */
const SDK_CLIENTS: Record<string, { imports: string; construct: string }> = {
  '@aws-sdk/client-dynamodb': { imports: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';", construct: 'new DynamoDBClient({})' },
  '@aws-sdk/lib-dynamodb': {
    imports: "import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
    construct: 'DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } })',
  },
  '@aws-sdk/client-sns': { imports: "import { SNSClient } from '@aws-sdk/client-sns';", construct: 'new SNSClient({})' },
  '@aws-sdk/client-sqs': { imports: "import { SQSClient } from '@aws-sdk/client-sqs';", construct: 'new SQSClient({})' },
  '@aws-sdk/client-secrets-manager': { imports: "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';", construct: 'new SecretsManagerClient({})' },
  '@aws-sdk/client-ssm': { imports: "import { SSMClient } from '@aws-sdk/client-ssm';", construct: 'new SSMClient({})' },
};

/** The source of `name`'s SDK floor: its SDK packages loaded, one client of each constructed. */
export function sdkFloorSource(name: string, packages: string[]): string {
  const missing = packages.filter((p) => !SDK_CLIENTS[p]);
  if (missing.length > 0) throw new Error(`${name} requires ${missing.join(', ')}: add its client to SDK_CLIENTS in bench/lambda-bundles.ts`);
  const used = new Set(packages);
  if (used.has('@aws-sdk/lib-dynamodb')) used.add('@aws-sdk/client-dynamodb');
  const imports = [...used].map((p) => SDK_CLIENTS[p]!.imports);
  const constructed = [...used].filter((p) => !(p === '@aws-sdk/client-dynamodb' && used.has('@aws-sdk/lib-dynamodb'))).map((p) => SDK_CLIENTS[p]!.construct);
  return `${imports.join('\n')}\nexport const clients = [\n  ${constructed.join(',\n  ')},\n];\n`;
}

/** Values that let each function's config read succeed at init. */
const PLACEHOLDERS: Record<string, string> = {
  [LAMBDA_ENV.tableName]: 'tocsin-state',
  [LAMBDA_ENV.alertsTopicArn]: 'arn:aws:sns:us-east-1:123456789012:tocsin-alerts',
  [LAMBDA_ENV.clusterSecretPrefix]: '/tocsin/cluster/',
  [LAMBDA_ENV.adminSecretPrefix]: '/tocsin/admin/',
  [LAMBDA_ENV.timersQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/tocsin-timers',
  [LAMBDA_ENV.configDigest]: '0'.repeat(64),
  [LAMBDA_ENV.channelQueuePrefix]: 'tocsin-channel-',
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

/**
 * The stack's esbuild settings; `alt` builds a variant the stack does not use (another
 * output name, other externals or package entry points).
 */
export async function bundleFunction(
  entry: string,
  outDir: string,
  define: Record<string, string>,
  alt: { name?: string; external?: string[]; mainFields?: string[]; plugins?: Plugin[] } = {},
): Promise<string> {
  const outfile = join(outDir, `${alt.name ?? basename(entry, '.ts')}.js`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    external: alt.external ?? [...LAMBDA_BUNDLING.externalModules],
    ...(alt.mainFields ? { mainFields: alt.mainFields } : {}),
    ...(alt.plugins ? { plugins: alt.plugins } : {}),
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
function breakdown(bundle: string, env: NodeJS.ProcessEnv): Record<string, number> {
  const script = `
    const t = (f) => { const s = performance.now(); f(); return performance.now() - s; };
    const out = {};
    for (const m of ${JSON.stringify(sdkPackages(bundle))}) out[m] = t(() => require(m));
    out['bundle (after the SDK)'] = t(() => require(${JSON.stringify(bundle)}));
    out['node bootstrap'] = performance.nodeTiming.bootstrapComplete;
    process.stdout.write(JSON.stringify(out));`;
  return nodeJson('breakdown', script, env) as Record<string, number>;
}

/** Runs `node -e script` in a fresh process; what the script wrote to stdout, as JSON. */
function nodeJson(label: string, script: string, env: NodeJS.ProcessEnv): unknown {
  const r = spawnSync(process.execPath, ['-e', script], { env, cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${label} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** ms from spawn to exit of `node -e <code>`. */
async function nodeExec(label: string, code: string, env: NodeJS.ProcessEnv): Promise<number> {
  const r = await timeExec(process.execPath, ['-e', code], { env, cwd: ROOT });
  if (r.code !== 0) throw new Error(`${label}: failed (${r.code}): ${r.stderr.slice(0, 2000)}`);
  return r.ms;
}

/**
 * Public Node builtins a fresh process has loaded after requiring `bundle` that a bare one
 * has not (process.moduleLoadList names every builtin module loaded so far).
 */
function builtinsLoadedBy(bundle: string, env: NodeJS.ProcessEnv): string[] {
  const script = `
    const loaded = () => new Set(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)));
    const before = loaded();
    require(${JSON.stringify(bundle)});
    const pub = new Set(require('node:module').builtinModules);
    process.stdout.write(JSON.stringify([...loaded()].filter((m) => !before.has(m) && pub.has(m)).sort()));`;
  return nodeJson(`builtins of ${bundle}`, script, env) as string[];
}

const FIGURE = '4 lambda bundles';
const INGEST_SDK_BUNDLED = 'ingest-sdk-bundled';
const POWERTOOLS = '@aws-lambda-powertools/metrics';
const POWERTOOLS_FLOOR = 'powertools-floor';
const WITHOUT_POWERTOOLS = '-without-powertools';
const SDK_FLOOR = '-sdk-floor';

/** Powertools Metrics replaced by a no-op class of the same shape: the function without its cost. */
function withoutPowertools(outDir: string): Plugin {
  const stub = join(outDir, 'powertools-absent.js');
  writeFileSync(
    stub,
    `class Metrics { addMetric() { return this; } addDimensions() { return this; } singleMetric() { return this; } publishStoredMetrics() {} }
     module.exports = { Metrics, MetricUnit: { Count: 'Count', Milliseconds: 'Milliseconds' } };`,
  );
  return { name: 'without-powertools', setup: (b) => b.onResolve({ filter: /^@aws-lambda-powertools\/metrics$/ }, () => ({ path: stub })) };
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
  const bareEnv = { PATH: process.env.PATH };
  // As the stack does: the validated tocsin.yaml beside the bundles (BUNDLED_CONFIG).
  copyFileSync(configBundle(loadConfigFile(join(ROOT, 'tocsin.yaml')).runtime).file, join(outDir, BUNDLED_CONFIG.file));
  const define = {};
  const bundles: Record<string, string> = {};
  for (const entry of entries) bundles[basename(entry, '.ts')] = await bundleFunction(entry, outDir, define);
  // The alternative: the SDK inside the bundle (the AWS blog's advice for cold starts). Its
  // packages' ESM entry points ("module") let esbuild drop what ingest never calls; with the
  // default order for node ("main" first) the CommonJS builds make the bundle ~730 KB.
  const ingestEntry = entries.find((e) => basename(e, '.ts') === 'ingest');
  const sdkBundled = ingestEntry ? await bundleFunction(ingestEntry, outDir, define, { name: INGEST_SDK_BUNDLED, external: [], mainFields: ['module', 'main'] }) : undefined;
  // Powertools Metrics: each function that bundles it, built again without it; and the package alone.
  const withPowertools = Object.keys(bundles).filter((name) => readFileSync(bundles[name]!, 'utf8').includes('CloudWatchMetrics'));
  const without: Record<string, string> = {};
  for (const name of withPowertools) {
    const entry = entries.find((e) => basename(e, '.ts') === name)!;
    without[name] = await bundleFunction(entry, outDir, define, { name: `${name}${WITHOUT_POWERTOOLS}`, plugins: [withoutPowertools(outDir)] });
  }
  const floorEntry = join(outDir, `${POWERTOOLS_FLOOR}.ts`);
  writeFileSync(floorEntry, `import { Metrics } from '${POWERTOOLS}';\nexport const metrics = new Metrics({ namespace: 'bench', serviceName: 'bench' });\n`);
  const powertoolsFloor = await bundleFunction(floorEntry, outDir, {});
  // Each function's SDK floor: the same SDK packages, the same clients constructed, built
  // and run as the function is (externals, source map, environment).
  const sdkFloors: Record<string, string> = {};
  for (const [name, bundle] of Object.entries(bundles)) {
    const entry = join(outDir, `${name}${SDK_FLOOR}.ts`);
    writeFileSync(entry, sdkFloorSource(name, sdkPackages(bundle)));
    sdkFloors[name] = await bundleFunction(entry, outDir, {});
    const floorPackages = sdkPackages(sdkFloors[name]!).sort();
    const fnPackages = sdkPackages(bundle).sort();
    if (floorPackages.join() !== [...new Set([...fnPackages, ...(fnPackages.includes('@aws-sdk/lib-dynamodb') ? ['@aws-sdk/client-dynamodb'] : [])])].sort().join()) {
      throw new Error(`${name}'s SDK floor requires ${floorPackages.join(', ')}, the function ${fnPackages.join(', ')}`);
    }
  }

  // The builtins the ingest function really loads at init (not every one its SDK mentions).
  const initBuiltins = builtinsLoadedBy(bundles.ingest ?? '', env);
  // One set of interleaved rounds for every variant, the floors included.
  const variants: Record<string, () => Promise<number>> = {
    bare: () => nodeExec('bare node', '', bareEnv),
    https: () => nodeExec('node:https', "require('node:https')", bareEnv),
    builtins: () => nodeExec('builtins', initBuiltins.map((b) => `require(${JSON.stringify(`node:${b}`)})`).join(';'), bareEnv),
  };
  for (const [name, bundle] of Object.entries(bundles)) variants[name] = () => nodeExec(`${name} init`, `require(${JSON.stringify(bundle)})`, env);
  if (sdkBundled) variants[INGEST_SDK_BUNDLED] = () => nodeExec(`${INGEST_SDK_BUNDLED} init`, `require(${JSON.stringify(sdkBundled)})`, env);
  for (const [name, bundle] of Object.entries(without)) variants[`${name}${WITHOUT_POWERTOOLS}`] = () => nodeExec(`${name} without Powertools init`, `require(${JSON.stringify(bundle)})`, env);
  for (const [name, bundle] of Object.entries(sdkFloors)) variants[`${name}${SDK_FLOOR}`] = () => nodeExec(`${name} SDK floor init`, `require(${JSON.stringify(bundle)})`, env);
  variants[POWERTOOLS_FLOOR] = () => nodeExec('Powertools floor', `require(${JSON.stringify(powertoolsFloor)})`, env);
  const samples = await interleave(opts.rounds, variants);
  const bare = median(samples.bare ?? []);
  const bareNote = `bare node ${bare.toFixed(1)} ms`;

  const rows: Row[] = [];
  const details: Record<string, unknown> = { samples, medians: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) };
  for (const [name, bundle] of Object.entries(bundles)) {
    const kb = statSync(bundle).size / 1024;
    const init = median(samples[name] ?? []);
    const floorInit = median(samples[`${name}${SDK_FLOOR}`] ?? []);
    const ratio = init / floorInit;
    const floorPackages = sdkPackages(sdkFloors[name]!);
    const parts = breakdown(bundle, env);
    const sdk = Object.entries(parts).filter(([k]) => k.startsWith('@aws-sdk/')).reduce((n, [, v]) => n + v, 0);
    const isIngest = name === 'ingest';
    rows.push(
      {
        figure: FIGURE,
        metric: `${name}.js minified size`,
        value: kb,
        unit: 'KB',
        ...(isIngest ? { target: `<= ${TARGETS.ingestKB} KB`, pass: kb <= TARGETS.ingestKB } : { pass: null }),
      },
      { figure: FIGURE, metric: `${name} init (fresh process, require), median`, value: init, unit: 'ms', pass: null, note: bareNote },
      {
        figure: FIGURE,
        metric: `${name} SDK floor: only its SDK clients loaded and constructed, init, median`,
        value: floorInit,
        unit: 'ms',
        pass: null,
        note: `${floorPackages.map((p) => p.replace('@aws-sdk/', '')).join(', ')}; ${(floorInit / bare).toFixed(2)}x bare`,
      },
      { figure: FIGURE, metric: `${name} init / its SDK floor`, value: ratio, unit: 'x', target: `<= ${TARGETS.initRatio}x`, pass: ratio <= TARGETS.initRatio },
      {
        figure: FIGURE,
        metric: `${name} init / bare node (informational: the target before issue 16)`,
        value: init / bare,
        unit: 'x',
        pass: null,
        note: `was <= ${TARGETS.oldInitRatioOverBare}x; its SDK floor alone is ${(floorInit / bare).toFixed(2)}x bare`,
      },
      {
        figure: FIGURE,
        metric: `${name} init: AWS SDK requires, one fresh process`,
        value: sdk,
        unit: 'ms',
        pass: null,
        // The bundle's share includes constructing its SDK clients and, with --enable-source-maps, reading its source map.
        note: `own bundle after the SDK ${(parts['bundle (after the SDK)'] ?? NaN).toFixed(1)} ms, with its SDK clients' construction and source map`,
      },
    );
    details[name] = { bytes: statSync(bundle).size, requireBreakdownMs: parts, sdkFloor: { source: readFileSync(sdkFloors[name]!.replace(/\.js$/, '.ts'), 'utf8'), bytes: statSync(sdkFloors[name]!).size, initMs: floorInit } };
  }

  const https = median(samples.https ?? []);
  rows.push(
    { figure: FIGURE, metric: "floor: `node -e \"require('node:https')\"` (the HTTP stack every SDK client loads), median", value: https, unit: 'ms', pass: null, note: bareNote },
    { figure: FIGURE, metric: 'floor: node:https / bare node', value: https / bare, unit: 'x', pass: null, note: `the old init target was ${TARGETS.oldInitRatioOverBare}x bare` },
    {
      figure: FIGURE,
      metric: "floor: `node` requiring just the Node builtins ingest's init loads, / bare node",
      value: median(samples.builtins ?? []) / bare,
      unit: 'x',
      pass: null,
      note: `${median(samples.builtins ?? []).toFixed(1)} ms: ${initBuiltins.join(', ')}`,
    },
  );
  details.initBuiltins = initBuiltins;
  if (sdkBundled) {
    const kb = statSync(sdkBundled).size / 1024;
    const init = median(samples[INGEST_SDK_BUNDLED] ?? []);
    const ingestInit = median(samples.ingest ?? []);
    const label = 'alternative (not used by the stack): ingest, AWS SDK bundled in';
    rows.push(
      { figure: FIGURE, metric: `${label}: minified size`, value: kb, unit: 'KB', pass: null, note: `the stack's target is <= ${TARGETS.ingestKB} KB` },
      { figure: FIGURE, metric: `${label}: init, median`, value: init, unit: 'ms', pass: null, note: `${bareNote}; the stack's ingest ${ingestInit.toFixed(1)} ms` },
      { figure: FIGURE, metric: `${label}: init / bare node`, value: init / bare, unit: 'x', pass: null, note: `the stack's ingest ${(ingestInit / bare).toFixed(2)}x` },
    );
    details[INGEST_SDK_BUNDLED] = { bytes: statSync(sdkBundled).size, mainFields: ['module', 'main'] };
  }
  // Powertools Metrics' cost: the same function with and without it, and the package alone.
  const floor = median(samples[POWERTOOLS_FLOOR] ?? []);
  rows.push(
    { figure: FIGURE, metric: 'floor: `node` requiring just the bundled Powertools Metrics (and constructing it), median', value: floor, unit: 'ms', pass: null, note: `${bareNote}; ${(statSync(powertoolsFloor).size / 1024).toFixed(1)} KB minified` },
    { figure: FIGURE, metric: 'floor: Powertools Metrics - bare node', value: floor - bare, unit: 'ms', pass: null },
  );
  const powertools: Record<string, unknown> = {};
  for (const [name, bundle] of Object.entries(without)) {
    const withMs = median(samples[name] ?? []);
    const withoutMs = median(samples[`${name}${WITHOUT_POWERTOOLS}`] ?? []);
    const withKb = statSync(bundles[name]!).size / 1024;
    const withoutKb = statSync(bundle).size / 1024;
    rows.push(
      { figure: FIGURE, metric: `Powertools Metrics in ${name}: init with - without, median`, value: withMs - withoutMs, unit: 'ms', pass: null, note: `with ${withMs.toFixed(1)} ms, without ${withoutMs.toFixed(1)} ms (${((withMs / withoutMs - 1) * 100).toFixed(1)}%)` },
      { figure: FIGURE, metric: `Powertools Metrics in ${name}: size with - without`, value: withKb - withoutKb, unit: 'KB', pass: null, note: `with ${withKb.toFixed(1)} KB, without ${withoutKb.toFixed(1)} KB` },
    );
    powertools[name] = { withMs, withoutMs, withBytes: statSync(bundles[name]!).size, withoutBytes: statSync(bundle).size };
  }
  details.powertools = { floorMs: floor, bareMs: bare, floorBytes: statSync(powertoolsFloor).size, functions: powertools };
  return { rows, details };
}
