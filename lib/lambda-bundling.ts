/**
 * How every Lambda in lambdas/functions/ is bundled (NodejsFunction's esbuild, no Docker)
 * and started. One place, read by the CDK constructs and by `npm run bench`, which
 * rebuilds the bundles with exactly these settings to measure their size and init time.
 * No CDK imports here: the benchmark loads this file on its own.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configDigest, serializeBundledConfig } from '../lambdas/commons/bundled-config';
import { BUNDLED_CONFIG } from '../lambdas/commons/deployment';
import { lambdaConfig } from '../channels';
import type { RuntimeConfig } from '../lambdas/domain/rules/types';

export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node22',
  // The Node.js 22 runtime ships AWS SDK v3.
  externalModules: ['@aws-sdk/*'],
} as const;

/** NODE_OPTIONS of every function (stack traces through the source map). */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';

/** The validated runtime config as every function carries it. */
export interface ConfigBundle {
  /** The config file copied beside each bundle as BUNDLED_CONFIG.file (commons/deployment.ts). */
  readonly file: string;
  /** SHA-256 of that config: the TOCSIN_CONFIG_DIGEST env var names which rules a version runs. */
  readonly digest: string;
}

export function configBundle(runtime: RuntimeConfig): ConfigBundle {
  const forLambda = lambdaConfig(runtime);
  const digest = configDigest(forLambda);
  // Named by its digest: concurrent synths of different configs never share a file.
  const dir = join(tmpdir(), `tocsin-config-${digest.slice(0, 16)}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, BUNDLED_CONFIG.file);
  // Written whole, then renamed: a parallel synth never copies a half-written file.
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, serializeBundledConfig(forLambda));
  renameSync(partial, file);
  return { file, digest };
}

/** Shell commands (run by NodejsFunction after esbuild) putting the config file beside the bundle. */
export function copyConfigCommands(config: ConfigBundle, outputDir: string): string[] {
  return [`cp ${shellQuote(config.file)} ${shellQuote(join(outputDir, BUNDLED_CONFIG.file))}`];
}

/** Shell commands (run by NodejsFunction after esbuild) copying each directory's files into `<outputDir>/<target>`. */
export function copyDirectoryCommands(dirs: ReadonlyArray<{ source: string; target: string }>, outputDir: string): string[] {
  return dirs.flatMap((d) => [`mkdir -p ${shellQuote(join(outputDir, d.target))}`, `cp -R ${shellQuote(d.source)}/. ${shellQuote(join(outputDir, d.target))}`]);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
