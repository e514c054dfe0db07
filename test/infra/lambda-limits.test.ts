/**
 * Limits AWS applies at deploy time that synth alone does not check: every function's
 * environment within Lambda's 4 KB (keys and values, as Lambda counts them:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html) and the stack's
 * outputs within CloudFormation's quota, with the largest tocsin.yaml the schema allows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { configDigest, readBundledConfig } from '../../lambdas/commons/bundled-config';
import { BUNDLED_CONFIG, CHANNEL_QUEUES } from '../../lambdas/commons/deployment';
import { channelQueuePrefix } from '../../lib/channel-worker';
import { synth } from './helpers';

const LAMBDA_ENV_LIMIT_BYTES = 4 * 1024;
/**
 * An unresolved reference (Ref, GetAtt, Join of them) counted as this many bytes: longer
 * than any name, URL or ARN it resolves to here (an SNS topic ARN is at most ~330 with a
 * 256-character name; CloudFormation-made names are far shorter).
 */
const REFERENCE_BYTES = 330;

/** Bytes a value will have once deployed, references counted at their longest. */
function deployedBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (value && typeof value === 'object') {
    const join = (value as Record<string, unknown>)['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].reduce<number>((sum, part, i) => sum + deployedBytes(part) + (i > 0 ? join[0].length : 0), 0);
    return REFERENCE_BYTES;
  }
  return String(value).length;
}

const longName = (i: number, length: number) => `${String(i).padStart(2, '0')}${'x'.repeat(length - 2)}`;

/** The schema's maxima: 50 clusters and 50 channels, names at their longest. */
function largestConfig(): string {
  const clusters = Array.from({ length: 50 }, (_, i) => longName(i, 63));
  const channels = Array.from({ length: 50 }, (_, i) => `  ${longName(i, 40)}: { type: slack, secretName: tocsin/slack/${longName(i, 40)} }`);
  return `clusters: [${clusters.join(', ')}]\nchannels:\n${channels.join('\n')}\n`;
}

describe('Lambda limits with the largest configuration the schema allows', () => {
  const { template } = synth({ bundle: false, nag: false, config: largestConfig() });
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

  test('every function environment stays under 4 KB', () => {
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const [id, fn] of functions) {
      const vars = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
      const bytes = Object.entries(vars).reduce((sum, [k, v]) => sum + Buffer.byteLength(k, 'utf8') + deployedBytes(v), 0);
      expect({ id, bytes, under: bytes < LAMBDA_ENV_LIMIT_BYTES }).toEqual({ id, bytes, under: true });
    }
  });

  // CloudFormation quotas: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
  test('the stack has at most 200 outputs, each description a literal string of at most 1 KB', () => {
    const outputs = Object.values(template.toJSON().Outputs as Record<string, { Description?: unknown }>);
    expect(outputs.length).toBeGreaterThan(50);
    expect(outputs.length).toBeLessThanOrEqual(200);
    for (const o of outputs) {
      if (o.Description === undefined) continue;
      expect(typeof o.Description).toBe('string');
      expect(Buffer.byteLength(o.Description as string, 'utf8')).toBeLessThanOrEqual(1024);
    }
  });

  test('each of the 50 channel queues has a valid SQS name', () => {
    const names = Object.values(template.findResources('AWS::SQS::Queue')).map((q) => q.Properties.QueueName as string | undefined).filter((n): n is string => n !== undefined);
    expect(names).toHaveLength(50);
    for (const name of names) {
      expect(name.length).toBeLessThanOrEqual(CHANNEL_QUEUES.maxNameChars);
      expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    }
  });
});

/**
 * The bundled config is a file in each function's asset (BUNDLED_CONFIG), not an esbuild
 * --define: one command-line argument, which Linux refuses over 128 KiB (E2BIG), at about
 * 500 ordinary rules. The schema allows 500 rules; these 500 are long, so the config is
 * larger than 1,000 ordinary ones would be.
 */
describe('a config far over the command-line limit is bundled', () => {
  const MAX_ARG_STRLEN = 128 * 1024;
  const rules = Array.from({ length: 500 }, (_, i) => {
    const name = `rule-${String(i).padStart(3, '0')}-${'r'.repeat(50)}`;
    const glob = `svc-${i}-${'g'.repeat(250)}*`;
    return `  - name: ${name}\n    match: { service: { glob: "${glob}" }, node: { glob: "node-${i}-*" }, check: { glob: "check-${i}-${'c'.repeat(60)}*" } }\n    channels: [team]\n    for: 2m\n    repeat: 1h`;
  });
  const config = `clusters: [prod]\nchannels:\n  team: { type: slack, secretName: tocsin/slack/team }\nrules:\n${rules.join('\n')}\n`;

  test('synth bundles every function with the whole config beside its code', () => {
    const s = synth({ bundle: true, nag: false, config });
    const functions = Object.values(s.template.findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const fn of functions) {
      const assetDir = path.join(s.app.outdir, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`);
      const file = path.join(assetDir, BUNDLED_CONFIG.file);
      expect(fs.statSync(file).size).toBeGreaterThan(2 * MAX_ARG_STRLEN);
      const { config: bundled, rules: compiled } = readBundledConfig(assetDir);
      expect(bundled.rules).toHaveLength(500);
      expect(compiled.rules).toHaveLength(500);
      // The digest in the environment names exactly this file's config.
      expect(fn.Properties.Environment.Variables.TOCSIN_CONFIG_DIGEST).toBe(configDigest(bundled));
    }
  }, 240_000);
});

describe('channel queue names (CHANNEL_QUEUES)', () => {
  test('a long stack name is cut and kept unique by a hash, within SQS limits', () => {
    const a = channelQueuePrefix(`${'Tocsin-production-eu-west-1-'.repeat(4)}a`);
    const b = channelQueuePrefix(`${'Tocsin-production-eu-west-1-'.repeat(4)}b`);
    expect(a).not.toBe(b);
    for (const prefix of [a, b, channelQueuePrefix('Tocsin')]) {
      const name = CHANNEL_QUEUES.queueName(prefix, 'c'.repeat(40));
      expect(name.length).toBeLessThanOrEqual(CHANNEL_QUEUES.maxNameChars);
      expect(CHANNEL_QUEUES.channelOf(prefix, `arn:aws:sqs:eu-west-1:123456789012:${name}`)).toBe('c'.repeat(40));
    }
    expect(channelQueuePrefix('Tocsin')).toBe('Tocsin-channel-');
  });

  test("a queue that is not one of this stack's channel queues names no channel", () => {
    expect(CHANNEL_QUEUES.channelOf('Tocsin-channel-', 'arn:aws:sqs:eu-west-1:123456789012:Other-channel-team')).toBeUndefined();
    expect(CHANNEL_QUEUES.channelOf('Tocsin-channel-', 'arn:aws:sqs:eu-west-1:123456789012:Tocsin-channel-')).toBeUndefined();
  });
});
