/**
 * tocsin.yaml for PagerDuty and webhook channels: what the schema and the kinds' checks
 * refuse (file, path, line), and what `npm start` refuses when it reads the secrets (an
 * environment variable that is unset or holds no valid key), before anything starts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { channelsOfType } from '../../channels';
import type { LocalChannelContext } from '../../channels/local';
import { pagerdutyLocal } from '../../channels/pagerduty/local';
import { webhookLocal } from '../../channels/webhook/local';
import { loadConfigFile, parseConfigText } from '../../lambdas/commons/config-file';
import { tempDir } from '../shim/helpers';

const head = 'clusters: [default]\ndefaults: { channels: [x] }\nchannels:\n';

test.each<[string, string, string]>([
  ['a routing key of 31 characters', `  x: { type: pagerduty, routingKey: "${'k'.repeat(31)}" }`, 'channels.x.routingKey'],
  ['routingKey and routingKeyEnv', `  x: { type: pagerduty, routingKey: "${'k'.repeat(32)}", routingKeyEnv: PD }`, 'give routingKey or routingKeyEnv, not both'],
  ['a Slack key on a pagerduty channel', '  x: { type: pagerduty, webhookUrl: "https://x.example" }', 'unknown key "webhookUrl" for a pagerduty channel (allowed: type, secretParameter, secretName, routingKeyEnv, routingKey, url, minSeverity, template)'],
  ['a webhook without url', '  x: { type: webhook, signingKeyEnv: K }', 'a webhook channel needs url'],
  ['a short signing key', `  x: { type: webhook, url: "http://127.0.0.1:1/", signingKey: "short" }`, 'channels.x.signingKey'],
  ['a minSeverity that is no severity', '  x: { type: webhook, url: "http://127.0.0.1:1/", minSeverity: loud }', 'channels.x.minSeverity'],
])('refused: %s', (_name, channel, reason) => {
  expect(() => parseConfigText(`${head}${channel}\n`, '/etc/tocsin.yaml')).toThrow(reason);
});

test('accepted: both kinds with every property', () => {
  const config = parseConfigText(
    `${head}  x: { type: pagerduty, secretName: tocsin/pd, routingKeyEnv: PD, url: "https://events.eu.pagerduty.com/v2/enqueue", minSeverity: warning }\n  y: { type: webhook, url: "https://h.example/in", secretName: tocsin/hook, signingKey: "${'s'.repeat(32)}", minSeverity: critical }\ndelivery: { pagerduty: { maxReceiveCount: 3, minIntervalMs: 0 }, webhook: { maxReceiveCount: 9 } }\n`,
    '/etc/tocsin.yaml',
  );
  expect(config.delivery.pagerduty).toEqual({ maxReceiveCount: 3, minIntervalMs: 0 });
  expect(config.delivery.webhook).toEqual({ maxReceiveCount: 9 });
});

describe('npm start reads the secrets at start', () => {
  const start = async (channel: string, env: NodeJS.ProcessEnv) => {
    const file = join(tempDir('tocsin-queue-config-'), 'tocsin.yaml');
    writeFileSync(file, `${head}${channel}\n`);
    const config = loadConfigFile(file);
    // The checks run before the bus is touched: a context without one is enough to see them fail.
    const ctx = { config, env } as unknown as LocalChannelContext;
    const type = config.runtime.channels.x!.type;
    return type === 'pagerduty' ? pagerdutyLocal.start(ctx, channelsOfType(config.runtime.channels, 'pagerduty')) : webhookLocal.start(ctx, channelsOfType(config.runtime.channels, 'webhook'));
  };

  test.each<[string, string, NodeJS.ProcessEnv, RegExp]>([
    ['routingKeyEnv unset', '  x: { type: pagerduty, routingKeyEnv: PD_KEY }', {}, /channels\.x\.routingKeyEnv \(line 4, column \d+\): the environment variable PD_KEY \(the routing key\) is not set/],
    ['routingKeyEnv holding no routing key', '  x: { type: pagerduty, routingKeyEnv: PD_KEY }', { PD_KEY: 'abc' }, /the environment variable PD_KEY does not hold a PagerDuty routing key/],
    ['signingKeyEnv unset', '  x: { type: webhook, url: "http://127.0.0.1:1/", signingKeyEnv: HOOK }', {}, /channels\.x\.signingKeyEnv \(line 4, column \d+\): the environment variable HOOK \(the signing key\) is not set/],
    ['signingKeyEnv too short', '  x: { type: webhook, url: "http://127.0.0.1:1/", signingKeyEnv: HOOK }', { HOOK: 'short' }, /the environment variable HOOK does not hold a webhook signing key/],
  ])('%s: the start fails naming the file and line', async (_name, channel, env, message) => {
    await expect(start(channel, env)).rejects.toThrow(message);
  });

  test('without any key: not delivered, said in the banner', async () => {
    const out = await start('  x: { type: pagerduty, secretName: tocsin/pd }', {});
    expect(out.workers).toEqual([]);
    expect(out.banner).toEqual([expect.stringMatching(/^# pagerduty channel x: no routingKey or routingKeyEnv in .*tocsin\.yaml, not delivered locally$/)]);
  });
});
