/**
 * How every Lambda in lambdas/functions/ is bundled (NodejsFunction's esbuild, no Docker)
 * and started. One place, read by the CDK constructs and by `npm run bench`, which
 * rebuilds the bundles with exactly these settings to measure their size and init time.
 * No CDK imports here: the benchmark loads this file on its own.
 */
import { configDigest, encodeBundledConfig } from '../lambdas/commons/bundled-config';
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
  /** esbuild define putting the config into the bundle (BUNDLED_CONFIG in commons/deployment.ts). */
  readonly define: Readonly<Record<string, string>>;
  /** SHA-256 of that config: the TOCSIN_CONFIG_DIGEST env var names which rules a version runs. */
  readonly digest: string;
}

export function configBundle(runtime: RuntimeConfig): ConfigBundle {
  const forLambda = lambdaConfig(runtime);
  return { define: { [BUNDLED_CONFIG.define]: JSON.stringify(encodeBundledConfig(forLambda)) }, digest: configDigest(forLambda) };
}
