/**
 * A deployed channel's secret read from where tocsin.yaml names it (channels/secret-location.ts):
 * an SSM SecureString parameter (GetParameter WithDecryption) or a Secrets Manager secret,
 * through real SDK v3 clients against the local Parameter Store and Secrets Manager
 * (test/support/fake-parameter-store.ts, which enforces their contract): the value or a
 * JSON field, cached five minutes then read again (a rotated value is picked up), a missing
 * parameter's clear error, throttling outlasted by the stack's client settings, and no
 * error ever quoting a value. Then the config keys (a table of what tocsin.yaml refuses)
 * and the README's put-parameter command.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployedChannelSecrets, ParameterStoreChannelSecrets, type SecretClients } from '../../channels/queue-delivered/secrets';
import { routingKeyOfSecret } from '../../channels/pagerduty/sender';
import { parameterNameIssue } from '../../channels/secret-location';
import { deployedSlackApps } from '../../channels/slack/interactivity';
import type { SlackThreadStore } from '../../channels/slack/threads';
import { SecretWebhookUrls, webhookUrlOfSecret } from '../../channels/slack/webhook';
import { PARAMETER_STORE_CLIENT } from '../../lambdas/adapters/parameter-values';
import { parseConfigText } from '../../lambdas/commons/config-file';
import { fakeParameterStore, type FakeParameterStore } from '../support/fake-parameter-store';

const HOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX';
const ROUTING_KEY = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32';
const secure = (value: string) => ({ value, type: 'SecureString' as const, tier: 'Standard' as const, version: 1 });
const clientsOf = (store: FakeParameterStore): SecretClients => ({ parameters: () => store.ssm, secrets: () => store.secretsManager });
const gets = (store: FakeParameterStore) => store.calls.filter((c) => c.startsWith('AmazonSSM.GetParameter'));

describe('ParameterStoreChannelSecrets', () => {
  afterEach(() => jest.restoreAllMocks());

  it('reads the decrypted value, plain or a JSON field, trimmed', async () => {
    const store = fakeParameterStore();
    store.parameters.set('/tocsin/slack/team', secure(`${HOOK}\n`));
    store.parameters.set('/tocsin/slack/dev', secure(JSON.stringify({ url: HOOK })));
    store.parameters.set('pd-oncall', secure(`{"routingKey": "${ROUTING_KEY}"}`));
    const urls = new ParameterStoreChannelSecrets(store.ssm, { team: '/tocsin/slack/team', dev: '/tocsin/slack/dev' }, webhookUrlOfSecret);
    expect(await urls.secretOf('team')).toBe(HOOK);
    expect(await urls.secretOf('dev')).toBe(HOOK);
    expect(await new ParameterStoreChannelSecrets(store.ssm, { pager: 'pd-oncall' }, routingKeyOfSecret).secretOf('pager')).toBe(ROUTING_KEY);
    // Decrypted: without WithDecryption the fake answers the ciphertext, which is no URL.
    expect(store.calls).toEqual(['AmazonSSM.GetParameter /tocsin/slack/team', 'AmazonSSM.GetParameter /tocsin/slack/dev', 'AmazonSSM.GetParameter pd-oncall']);
  });

  it('caches each value five minutes, then reads it again (a rotated value is picked up without a deploy)', async () => {
    const store = fakeParameterStore();
    store.parameters.set('/tocsin/pd', secure(ROUTING_KEY));
    let now = 1_800_000_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const keys = new ParameterStoreChannelSecrets(store.ssm, { pager: '/tocsin/pd' }, routingKeyOfSecret);
    expect(await keys.secretOf('pager')).toBe(ROUTING_KEY);
    const rotated = ROUTING_KEY.replace('R0ut', 'N3w-');
    store.parameters.set('/tocsin/pd', { ...secure(rotated), version: 2 });
    now += 5 * 60 * 1000 - 1;
    expect(await keys.secretOf('pager')).toBe(ROUTING_KEY);
    expect(gets(store)).toHaveLength(1);
    now += 1;
    expect(await keys.secretOf('pager')).toBe(rotated);
    expect(gets(store)).toHaveLength(2);
  });

  it('a missing parameter: an error naming it and the channel; nothing cached, so creating it is enough', async () => {
    const store = fakeParameterStore();
    const urls = new ParameterStoreChannelSecrets(store.ssm, { team: '/tocsin/slack/team' }, webhookUrlOfSecret);
    await expect(urls.secretOf('team')).rejects.toThrow('parameter /tocsin/slack/team (channel team) does not exist: create it (README "Deploying to AWS")');
    store.parameters.set('/tocsin/slack/team', secure(HOOK));
    expect(await urls.secretOf('team')).toBe(HOOK);
    await expect(urls.secretOf('other')).rejects.toThrow('no SSM parameter configured for channel other');
  });

  it.each<[string, string, RegExp]>([
    ['not https', 'http://hooks.example.com/x', /^parameter \/p does not hold an https webhook URL$/],
    ['JSON without url', '{"uri": "https://hooks.slack.com/services/SECRETPART"}', /^parameter \/p is JSON without a string "url"$/],
    ['broken JSON', '{"url": "https://hooks.slack.com/services/SECRETPART"', /^parameter \/p starts with \{ but is not JSON$/],
  ])('a value that is no webhook URL (%s): named, never quoted', async (_name, value, message) => {
    const store = fakeParameterStore();
    store.parameters.set('/p', secure(value));
    const err = await new ParameterStoreChannelSecrets(store.ssm, { team: '/p' }, webhookUrlOfSecret).secretOf('team').catch((e: Error) => e);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('SECRETPART');
  });

  it("with the stack's client settings (PARAMETER_STORE_CLIENT) a throttled burst is outlasted; with one attempt it is an error", async () => {
    const store = fakeParameterStore(PARAMETER_STORE_CLIENT);
    store.parameters.set('/tocsin/slack/team', secure(HOOK));
    store.failTimes('AmazonSSM.GetParameter', 'ThrottlingException', 2);
    expect(await new ParameterStoreChannelSecrets(store.ssm, { team: '/tocsin/slack/team' }, webhookUrlOfSecret).secretOf('team')).toBe(HOOK);
    expect(gets(store)).toHaveLength(3);

    const once = fakeParameterStore();
    once.parameters.set('/tocsin/slack/team', secure(HOOK));
    once.failTimes('AmazonSSM.GetParameter', 'ThrottlingException', 1);
    await expect(new ParameterStoreChannelSecrets(once.ssm, { team: '/tocsin/slack/team' }, webhookUrlOfSecret).secretOf('team')).rejects.toThrow(/ThrottlingException: Rate exceeded/);
  });
});

describe('DeployedChannelSecrets: each channel from the store it names', () => {
  it('parameters from Parameter Store, secrets from Secrets Manager (as before 2026-12); a store no channel uses gets no client', async () => {
    const store = fakeParameterStore();
    store.parameters.set('/tocsin/slack/team', secure(HOOK));
    store.secrets.set('tocsin/slack/old', JSON.stringify({ url: HOOK.replace('T000', 'T111') }));
    let made = 0;
    const counting: SecretClients = { parameters: () => store.ssm, secrets: () => (made++, store.secretsManager) };
    const urls = new SecretWebhookUrls(
      new DeployedChannelSecrets(counting, { team: { store: 'parameterStore', name: '/tocsin/slack/team' }, old: { store: 'secretsManager', name: 'tocsin/slack/old' } }, webhookUrlOfSecret),
    );
    expect(await urls.urlFor('team')).toBe(HOOK);
    expect(made).toBe(0);
    expect(await urls.urlFor('old')).toBe(HOOK.replace('T000', 'T111'));
    expect(store.calls).toEqual(['AmazonSSM.GetParameter /tocsin/slack/team', 'secretsmanager.GetSecretValue tocsin/slack/old']);
    await expect(urls.urlFor('none')).rejects.toThrow('no secret configured for channel none');
  });

  it('a missing secret is named as clearly as a missing parameter', async () => {
    const store = fakeParameterStore();
    const keys = new DeployedChannelSecrets(clientsOf(store), { pager: { store: 'secretsManager', name: 'tocsin/pd' } }, routingKeyOfSecret);
    await expect(keys.secretOf('pager')).rejects.toThrow('secret tocsin/pd (channel pager) does not exist');
  });
});

describe("a Slack app's bot token parameter (deployedSlackApps: the ingest function's Slack actions)", () => {
  it('holds the signing secret beside the token; an app channel naming a secret reads Secrets Manager', async () => {
    const store = fakeParameterStore();
    const signing = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    store.parameters.set('/tocsin/slack/bot', secure(JSON.stringify({ botToken: 'xoxb-1-2-abc', signingSecret: signing })));
    store.secrets.set('tocsin/slack/old-bot', JSON.stringify({ botToken: 'xoxb-9-9-old', signingSecret: 'ff'.repeat(16) }));
    const apps = deployedSlackApps(
      {
        ops: { type: 'slack', channel: 'C0123ABCD', botTokenParameter: '/tocsin/slack/bot' },
        old: { type: 'slack', channel: 'C0999ZZZZ', botTokenSecret: 'tocsin/slack/old-bot' },
        hook: { type: 'slack', secretParameter: '/tocsin/slack/team' },
      } as never,
      clientsOf(store),
      () => ({}) as SlackThreadStore,
    )!;
    expect((await apps.signingSecrets()).sort()).toEqual([signing, 'ff'.repeat(16)].sort());
    expect(apps.channelsFor('C0123ABCD')).toEqual(['ops']);
    expect(store.calls.sort()).toEqual(['AmazonSSM.GetParameter /tocsin/slack/bot', 'secretsmanager.GetSecretValue tocsin/slack/old-bot']);
  });
});

describe('secretParameter / botTokenParameter in tocsin.yaml', () => {
  const head = 'clusters: [default]\ndefaults: { channels: [x] }\nchannels:\n';
  const parse = (channel: string) => parseConfigText(`${head}  x: ${channel}\n`, '/etc/tocsin.yaml');

  test.each<[string, string]>([
    ['a hierarchy', '{ type: slack, secretParameter: /tocsin/slack/team }'],
    ['a plain name', '{ type: pagerduty, secretParameter: tocsin-pagerduty.oncall_1 }'],
    ['a webhook', '{ type: webhook, url: "https://h.example/in", secretParameter: /tocsin/webhook/ops }'],
    ['teams', '{ type: teams, secretParameter: /tocsin/teams/ops }'],
    ['a Slack app', '{ type: slack, channel: C0123ABCD, botTokenParameter: /tocsin/slack/bot }'],
    ['15 levels', `{ type: slack, secretParameter: ${'/l'.repeat(15)} }`],
    ['a secret, as before', '{ type: slack, secretName: tocsin/slack/team }'],
  ])('accepted: %s', (_name, channel) => expect(() => parse(channel)).not.toThrow());

  test.each<[string, string, string]>([
    ['both keys', '{ type: slack, secretParameter: /a, secretName: a }', 'channels.x.secretParameter (line 4, column 38): give secretParameter (an SSM parameter) or secretName (a Secrets Manager secret), not both'],
    ['both bot token keys', '{ type: slack, channel: C0123ABCD, botTokenParameter: /b, botTokenSecret: b }', 'give botTokenParameter (an SSM parameter) or botTokenSecret (a Secrets Manager secret), not both'],
    ['levels without a leading slash', '{ type: pagerduty, secretParameter: tocsin/pd }', 'the parameter name must start with "/" when it has levels (/tocsin/pd)'],
    ['a space', '{ type: teams, secretParameter: "/tocsin/my teams" }', 'the parameter name has " ": an SSM parameter name has only letters, digits, _ . - and / between levels'],
    ['a colon (an ARN)', '{ type: teams, secretParameter: "arn:aws:ssm:us-east-1:123456789012:parameter/x" }', 'the parameter name has ":"'],
    ['the aws prefix', '{ type: webhook, url: "https://h.example/in", secretParameter: /AWS/x }', 'starts with "aws" or "ssm"'],
    ['the ssm prefix', '{ type: slack, secretParameter: ssm-hook }', 'starts with "aws" or "ssm"'],
    ['an empty level', '{ type: slack, secretParameter: /tocsin//team }', 'has an empty level'],
    ['a trailing slash', '{ type: slack, secretParameter: /tocsin/ }', 'has an empty level'],
    ['16 levels', `{ type: slack, secretParameter: ${'/l'.repeat(16)} }`, 'has more than 15 levels'],
    ['1012 characters', `{ type: slack, secretParameter: /${'n'.repeat(1011)} }`, 'channels.x.secretParameter (line 4, column 38): must NOT have more than 1011 characters'],
    ['empty', '{ type: slack, secretParameter: "" }', 'must NOT have fewer than 1 characters'],
    ['a webhook key on an app channel', '{ type: slack, channel: C0123ABCD, secretParameter: /a }', 'secretParameter is for incoming webhooks'],
    ['an app key on a webhook channel', '{ type: slack, botTokenParameter: /a }', 'botTokenParameter is for Slack app channels'],
  ])('refused: %s', (_name, channel, reason) => expect(() => parse(channel)).toThrow(reason));

  test('the name rules are those of the fake Parameter Store, which enforces AWS PutParameter\'s', async () => {
    const store = fakeParameterStore();
    for (const name of ['/tocsin/slack/team', 'plain.name-1_x', 'tocsin/no-slash', '/aws/x', 'SSMx', '/a b']) {
      const put = await store.ssm.send(new (await import('@aws-sdk/client-ssm')).PutParameterCommand({ Name: name, Value: 'v', Type: 'SecureString' })).then(() => true, () => false);
      expect([name, put]).toEqual([name, parameterNameIssue(name) === undefined]);
    }
  });
});

describe("README \"Deploying to AWS\": the put-parameter commands", () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Deploying to AWS'), readme.indexOf('### What the stack costs'));
  const commands = [...section.matchAll(/^aws ssm put-parameter (.+)$/gm)].map((m) => m[1]!);

  test('each is a SecureString of the standard tier, its value a file:// (read as the value by AWS CLI v1 and v2; v1 would fetch a bare https:// value)', () => {
    expect(commands.length).toBeGreaterThanOrEqual(4);
    for (const c of commands) {
      expect(c).toMatch(/--type SecureString /);
      expect(c).toMatch(/--tier Standard /);
      expect(c).toMatch(/--value file:\/\/\S+$/);
      expect(parameterNameIssue(/--name (\S+)/.exec(c)![1]!)).toBeUndefined();
    }
  });

  test("the Slack one stores what the channel worker reads: the file's URL, its newline ignored; the example channel names that parameter", async () => {
    const slack = commands.find((c) => c.includes('/slack/'))!;
    const name = /--name (\S+)/.exec(slack)![1]!;
    const store = fakeParameterStore();
    // What `--value file://webhook.txt` sends: the file's text as it is, an editor's final newline included.
    await store.ssm.send(new (await import('@aws-sdk/client-ssm')).PutParameterCommand({ Name: name, Type: 'SecureString', Tier: 'Standard', Value: `${HOOK}\n` }));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!;
    const config = parseConfigText(`clusters: [prod]\n${yaml}`, '/etc/tocsin.yaml');
    const team = Object.entries(config.runtime.channels).find(([, ch]) => ch.type === 'slack')!;
    expect((team[1] as { secretParameter?: string }).secretParameter).toBe(name);
    const urls = new ParameterStoreChannelSecrets(store.ssm, { [team[0]]: name }, webhookUrlOfSecret);
    expect(await urls.secretOf(team[0])).toBe(HOOK);
  });
});
