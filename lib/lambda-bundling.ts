/**
 * How every Lambda in lambdas/functions/ is bundled (NodejsFunction's esbuild, no Docker)
 * and started. One place, read by the CDK constructs and by `npm run bench`, which
 * rebuilds the bundles with exactly these settings to measure their size and init time.
 * No CDK imports here: the benchmark loads this file on its own.
 */
export const LAMBDA_BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node22',
  // The Node.js 22 runtime ships AWS SDK v3.
  externalModules: ['@aws-sdk/*'],
} as const;

/** NODE_OPTIONS of every function (stack traces through the source map). */
export const LAMBDA_NODE_OPTIONS = '--enable-source-maps';
