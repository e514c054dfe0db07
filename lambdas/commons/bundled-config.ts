/**
 * The runtime config the CDK app bundles with the Lambdas (BUNDLED_CONFIG in deployment.ts:
 * a JSON file beside the bundle), read and checked once at init: a bad or missing file
 * fails the cold start.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileRules, type RuleSet } from '../domain/rules/evaluate';
import type { RuntimeConfig } from '../domain/rules/types';
import { BUNDLED_CONFIG } from './deployment';

/** The file's contents. */
export function serializeBundledConfig(config: RuntimeConfig): string {
  return JSON.stringify(config);
}

export function configDigest(config: RuntimeConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** `json`: the contents of the bundled file. */
export function parseBundledConfig(json: string): { config: RuntimeConfig; rules: RuleSet } {
  const config = JSON.parse(json) as RuntimeConfig;
  // The CDK app validated the file; compiling the matchers once here is the rest of the check.
  return { config, rules: compileRules(config) };
}

/** Reads `<dir>/tocsin-config.json`; `dir` defaults to the bundle's own directory. */
export function readBundledConfig(dir: string): { config: RuntimeConfig; rules: RuleSet } {
  const file = join(dir, BUNDLED_CONFIG.file);
  let json: string;
  try {
    json = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`no bundled tocsin config (${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): this function must be built by the CDK app (lib/)`);
  }
  return parseBundledConfig(json);
}

let loaded: { config: RuntimeConfig; rules: RuleSet } | undefined;

/** The config beside the bundle (esbuild keeps __dirname: the bundle's directory, /var/task). Read once per process. */
export function bundledConfig(): { config: RuntimeConfig; rules: RuleSet } {
  return (loaded ??= readBundledConfig(__dirname));
}
