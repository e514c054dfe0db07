/**
 * The channel registry: every kind's part of tocsin.yaml (schema, semantic and deploy
 * checks), what the Lambdas see of it, and that the JSON Schema file matches the kinds.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allowedChannelKeys, channelIssues, channelSchemas, lambdaConfig, readDeliverySettings } from '../../channels';
import { deployChannels } from '../../channels/infra';
import { parseConfigText } from '../../lambdas/commons/config-file';
import { CONFIG_FILE } from '../../lambdas/commons/deployment';
import type { RuntimeConfig } from '../../lambdas/domain/rules/types';

const ROOT = join(__dirname, '..', '..');

test('schema/tocsin.schema.json holds the registry\'s channel, delivery and local schemas (else: npm run schema)', () => {
  const file = JSON.parse(readFileSync(join(ROOT, CONFIG_FILE.schemaPath), 'utf8')) as { properties: { delivery: unknown; local: unknown }; definitions: { channel: unknown } };
  const { channel, delivery, local } = channelSchemas();
  expect(file.definitions.channel).toEqual(channel);
  expect(file.properties.delivery).toEqual(delivery);
  expect(file.properties.local).toEqual(local);
  expect(Object.keys((local as { properties: object }).properties)).toEqual(['smtp']);
});

describe('channelIssues', () => {
  test.each([
    [{ a: { type: 'email' }, b: { type: 'slack' } }, []],
    [{ x: { type: 'pager' } }, [{ path: ['channels', 'x', 'type'], reason: 'unknown channel type "pager" (known: email, slack, pagerduty, webhook, teams)' }]],
    [{ ok: { type: 'email' }, y: { type: '' } }, [{ path: ['channels', 'y', 'type'], reason: 'unknown channel type "" (known: email, slack, pagerduty, webhook, teams)' }]],
  ])('%j', (channels, issues) => {
    expect(channelIssues(channels)).toEqual(issues);
  });
});

describe('deployChannels: what deploying needs beyond a valid file', () => {
  test.each([
    [{ team: { type: 'slack', secretName: 's' } }, []],
    [{ team: { type: 'slack', webhookUrl: 'http://127.0.0.1:9/' } }, [{ path: ['channels', 'team'], reason: 'a slack channel needs secretParameter (the SSM SecureString parameter holding its webhook URL) or secretName (a Secrets Manager secret) to be deployed' }]],
    [{ oncall: { type: 'email' } }, []],
    [{ x: { type: 'pager' } }, [{ path: ['channels', 'x', 'type'], reason: 'unknown channel type "pager" (known: email, slack, pagerduty, webhook, teams)' }]],
  ])('%j', (channels, issues) => {
    const deployed = deployChannels(channels);
    expect('issues' in deployed ? deployed.issues : []).toEqual(issues);
  });
});

describe('lambdaConfig', () => {
  const base: Omit<RuntimeConfig, 'channels'> = { clusters: ['a'], defaults: { channels: [], resolved: true }, rules: [], grouping: { windowSeconds: 60, threshold: 20 } };

  test('each kind keeps what it needs at run time: no addresses, no local webhook URLs', () => {
    const channels = {
      oncall: { type: 'email', addresses: ['a@b.c'], minSeverity: 'warning' },
      all: { type: 'email', addresses: ['a@b.c'] },
      team: { type: 'slack', secretName: 'tocsin/slack/team', webhookUrl: 'http://127.0.0.1:9/' },
      local: { type: 'slack', webhookUrl: 'http://127.0.0.1:9/' },
    };
    expect(lambdaConfig({ ...base, channels }).channels).toEqual({
      oncall: { type: 'email', minSeverity: 'warning' },
      all: { type: 'email' },
      team: { type: 'slack', secretName: 'tocsin/slack/team' },
      local: { type: 'slack' },
    });
  });

  test('an unknown type is an error naming the channel, not an email channel', () => {
    expect(() => lambdaConfig({ ...base, channels: { ops: { type: 'opsgenie' } } })).toThrow('channels.ops: unknown channel type "opsgenie" (known: email, slack, pagerduty, webhook, teams)');
  });
});

test('an unknown type in tocsin.yaml fails with the file, the path and its line', () => {
  const parse = () => parseConfigText('clusters: [a]\nchannels:\n  x: { type: pager }\n', '/etc/tocsin/t.yaml');
  expect(parse).toThrow('Invalid tocsin configuration /etc/tocsin/t.yaml:\n');
  expect(parse).toThrow('channels.x.type (line 3, column 14): must be one of "email", "slack"');
});

test('allowed keys and delivery settings come from the kinds', () => {
  expect(allowedChannelKeys('email')).toEqual(['type', 'addresses', 'minSeverity', 'template']);
  expect(allowedChannelKeys('slack')).toEqual(['type', 'secretParameter', 'secretName', 'webhookUrl', 'channel', 'botTokenParameter', 'botTokenSecret', 'botTokenEnv', 'botToken', 'signingSecretEnv', 'apiUrl', 'minSeverity', 'template']);
  expect(allowedChannelKeys('pager')).toBeUndefined();
  expect(readDeliverySettings(undefined)).toEqual({ email: undefined, slack: { maxReceiveCount: 5 }, pagerduty: { maxReceiveCount: 5 }, webhook: { maxReceiveCount: 5 }, teams: { maxReceiveCount: 5 } });
  expect(readDeliverySettings({ slack: { maxReceiveCount: 7, minIntervalMs: 0 } }).slack).toEqual({ maxReceiveCount: 7, minIntervalMs: 0 });
});
