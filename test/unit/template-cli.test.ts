/**
 * `tocsin template render`, the built CLI run as `npx tocsin` runs it (bin/run-cli.cjs in a
 * child process): the exact payload a channel would get, the channel's and the matching
 * rule's templates applied (rules found from the configuration when the alert names none),
 * links.alert filled in; a template that does not parse is a config error with file and line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../shim/helpers';
import { ensureCliBuilt, runTocsin } from '../support/built-cli';
import { teamsMessageErrors } from '../support/fake-teams';

const dir = tempDir('tocsin-template-cli-');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const CONFIG = `clusters: [prod]
links: { alert: "https://consul.example.com/ui/{cluster}/nodes/{node}" }
channels:
  ops: { type: teams, url: "http://127.0.0.1:1/w", template: { title: "{{SEVERITY}} {{service}} on {{node}}" } }
  pager: { type: pagerduty, routingKey: "R0UT1NGKEY0123456789abcdefABCDEF" }
  mail: { type: email, addresses: [oncall@example.com] }
rules:
  - name: web
    match: { service: web }
    channels: [ops, pager, mail]
    template:
      body: |
        {{#details}}{{name}}: {{value}}
        {{/details}}{{link}}
`;
const GOOD = file('tocsin.yaml', CONFIG);
const BAD = file('bad.yaml', CONFIG.replace('{{/details}}', '{{/detail}}'));
const ALERT = file(
  'alert.json',
  JSON.stringify({ cluster: 'prod', source: 'consul', kind: 'check', severity: 'critical', state: 'firing', node: 'web-1', service: 'web', check: 'service:web', title: 'CRITICAL: web-1 / service:web (HTTP on :80)', from: 'passing', to: 'critical', at: '2026-03-01T12:00:00Z', details: [['Output', 'HTTP 503 *down*']], episode: 'ep-1' }),
);

const env = { ...process.env, TOCSIN_CONFIG: '' };
beforeAll(() => ensureCliBuilt());

test('Teams: the card as sent, the channel title and the rule body applied, valid', async () => {
  const run = await runTocsin(['template', 'render', '--channel', 'ops', '--alert', ALERT, '--config', GOOD], env);
  expect(run).toMatchObject({ code: 0, stderr: '' });
  const message = JSON.parse(run.stdout);
  expect(teamsMessageErrors(message)).toEqual([]);
  expect(message.summary).toBe('CRITICAL web on web-1');
  const card = message.attachments[0].content;
  expect(card.body[0].style).toBe('attention');
  expect(JSON.stringify(card.body)).toContain('"text":"Output: HTTP 503 *down*\\nhttps://consul.example.com/ui/prod/nodes/web-1\\n"');
  expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open', url: 'https://consul.example.com/ui/prod/nodes/web-1' }]);
});

test('email: the subject and text as sent; PagerDuty: the event without its routing key', async () => {
  const mail = await runTocsin(['template', 'render', '--channel', 'mail', '--alert', ALERT, '--config', GOOD], env);
  expect(mail).toEqual({ code: 0, stderr: '', stdout: 'Subject: [tocsin prod] CRITICAL: web-1 / service:web (HTTP on :80)\n\nOutput: HTTP 503 *down*\nhttps://consul.example.com/ui/prod/nodes/web-1\n\n' });
  const pd = await runTocsin(['template', 'render', '--channel', 'pager', '--alert', ALERT, '--config', GOOD], env);
  const event = JSON.parse(pd.stdout);
  expect(event).toMatchObject({ event_action: 'trigger', dedup_key: 'ep-1', payload: { summary: '[prod] CRITICAL: web-1 / service:web (HTTP on :80)', custom_details: { message: 'Output: HTTP 503 *down*\nhttps://consul.example.com/ui/prod/nodes/web-1\n' } } });
  expect(pd.stdout).not.toContain('R0UT1NGKEY');
});

test.each<[string, string[], number, string]>([
  ['a template that does not parse: the config error with file and line', ['--channel', 'ops', '--alert', ALERT, '--config', BAD], 1, `${BAD}:12:13: rules[0].template.body: the template does not parse: Unclosed section "details" at 32 (line 2 of the template)`],
  ['an unknown channel', ['--channel', 'nope', '--alert', ALERT, '--config', GOOD], 64, 'no channel "nope"'],
  ['no --alert', ['--channel', 'ops', '--config', GOOD], 64, 'template render needs --alert FILE'],
])('%s', async (_name, args, code, stderr) => {
  const run = await runTocsin(['template', 'render', ...args], env);
  expect(run.code).toBe(code);
  expect(run.stderr).toContain(stderr);
});
