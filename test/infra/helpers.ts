import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { NagPack } from 'cdk-nag';
import { applyNagPacks } from '../../lib/nag';
import { TocsinStack } from '../../lib/tocsin-stack';

const CDK_JSON = path.join(__dirname, '..', '..', 'cdk.json');

/** Feature flags and other context from cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(fs.readFileSync(CDK_JSON, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
}

export interface Synth {
  app: App;
  stack: TocsinStack;
  template: Template;
  packs: NagPack[];
}

/** Writes a tocsin.yaml for a test and returns its path. */
export function writeConfig(yaml: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tocsin-infra-'));
  const file = path.join(dir, 'tocsin.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

export interface SynthOptions {
  /** tocsin.yaml text. @default "clusters: [default]" */
  config?: string;
  /** Extra CDK context values. */
  context?: Record<string, unknown>;
  /**
   * Bundle the Lambda with esbuild (a few seconds). When false, CDK skips asset
   * bundling for the stack (`aws:cdk:bundling-stacks: []`), which is enough for
   * template assertions that do not look at the code.
   */
  bundle?: boolean;
  /** Register the cdk-nag packs as bin/tocsin.ts does. @default true */
  nag?: boolean;
}

/** Build the app the way bin/tocsin.ts does (env-agnostic) and synthesize it. */
export function synth(opts: SynthOptions = {}): Synth {
  const app = new App({
    context: {
      ...cdkJsonContext(),
      ...(opts.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
      'tocsin:config': writeConfig(opts.config ?? 'clusters: [default]\n'),
      ...opts.context,
    },
  });
  const stack = new TocsinStack(app, 'Tocsin');
  const packs = opts.nag === false ? [] : applyNagPacks(app);
  // Template.fromStack synthesizes the whole app, which runs the validation plugins.
  const template = Template.fromStack(stack);
  return { app, stack, template, packs };
}

/** Logical ids of all resources of a type. */
export function logicalIds(template: Template, type: string): string[] {
  return Object.keys(template.findResources(type));
}
