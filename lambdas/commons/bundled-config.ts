/**
 * The runtime config the CDK app bundles into the Lambdas (see BUNDLED_CONFIG in
 * deployment.ts), decoded and checked once at init: a bad bundle fails the cold start.
 */
import { createHash } from 'node:crypto';
import { compileRules, type RuleSet } from '../domain/rules/evaluate';
import type { RuntimeConfig } from '../domain/rules/types';

export function encodeBundledConfig(config: RuntimeConfig): string {
  return Buffer.from(JSON.stringify(config), 'utf8').toString('base64');
}

export function configDigest(config: RuntimeConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** `encoded`: what esbuild put in place of process.env.TOCSIN_BUNDLED_CONFIG. */
export function decodeBundledConfig(encoded: string | undefined): { config: RuntimeConfig; rules: RuleSet } {
  if (!encoded) throw new Error('no bundled tocsin config: this function must be built by the CDK app (lib/)');
  const config = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as RuntimeConfig;
  // The CDK app validated the file; compiling the matchers once here is the rest of the check.
  return { config, rules: compileRules(config) };
}

let decoded: { config: RuntimeConfig; rules: RuleSet } | undefined;

/** The bundle's config (esbuild defines the expression; unbundled, it is undefined). Decoded once per process. */
export function bundledConfig(): { config: RuntimeConfig; rules: RuleSet } {
  return (decoded ??= decodeBundledConfig(process.env.TOCSIN_BUNDLED_CONFIG));
}
