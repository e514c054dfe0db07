/**
 * SecretsManagerWebhookUrls reads a Slack channel's webhook URL from Secrets Manager with a
 * real GetSecretValueCommand (the SDK is required when the first URL is read, not when the
 * module loads: the CLI reads tocsin.yaml through this module and must not load the SDK).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerWebhookUrls } from '../../channels/slack/webhook';

function clientAnswering(values: Record<string, string>): { client: SecretsManagerClient; asked: string[] } {
  const asked: string[] = [];
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  client.send = (async (command: unknown) => {
    expect(command).toBeInstanceOf(GetSecretValueCommand);
    const id = (command as GetSecretValueCommand).input.SecretId as string;
    asked.push(id);
    return { SecretString: values[id] };
  }) as SecretsManagerClient['send'];
  return { client, asked };
}

describe('SecretsManagerWebhookUrls', () => {
  it('reads the URL (plain or {"url"}) with GetSecretValue, caches it, refuses a non-https value', async () => {
    const { client, asked } = clientAnswering({ 'tocsin/ops': 'https://hooks.slack.com/services/A', 'tocsin/dev': '{"url": "https://hooks.slack.com/services/B"}', 'tocsin/bad': 'http://x' });
    const urls = new SecretsManagerWebhookUrls(client, { ops: 'tocsin/ops', dev: 'tocsin/dev', bad: 'tocsin/bad' });
    expect(await urls.urlFor('ops')).toBe('https://hooks.slack.com/services/A');
    expect(await urls.urlFor('ops')).toBe('https://hooks.slack.com/services/A');
    expect(await urls.urlFor('dev')).toBe('https://hooks.slack.com/services/B');
    await expect(urls.urlFor('bad')).rejects.toThrow('secret tocsin/bad does not hold an https webhook URL');
    await expect(urls.urlFor('none')).rejects.toThrow('no webhook secret configured for channel none');
    expect(asked).toEqual(['tocsin/ops', 'tocsin/dev', 'tocsin/bad']);
  });
});

describe('the Slack secret command of README "Deploying to AWS"', () => {
  it('stores a value the notifier reads (the JSON form, which AWS CLI v1 does not fetch)', async () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Deploying to AWS'), readme.indexOf('## The shim on your nodes'));
    const secretString = /--secret-string '([^']+)'/.exec(section)?.[1];
    expect(secretString).toBeDefined();
    // AWS CLI v1 fetches a parameter that starts with http:// or https:// (paramfile); JSON does not.
    expect(secretString).not.toMatch(/^https?:\/\//);
    const { client } = clientAnswering({ 'tocsin/slack/team': secretString! });
    const urls = new SecretsManagerWebhookUrls(client, { team: 'tocsin/slack/team' });
    expect(await urls.urlFor('team')).toMatch(/^https:\/\/hooks\.slack\.com\/services\//);
  });
});
