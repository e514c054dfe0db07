/**
 * tocsin.yaml as the CDK app reads it: schema and semantic validation, with errors
 * that name the file, the path inside it and the reason; an invalid file fails synth.
 */
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigFileError, readConfig, toTocsinConfig, type TocsinConfig } from '../../lib/config';
import { severitiesAtOrAbove } from '../../channels/email/infra';
import { TocsinStack } from '../../lib/tocsin-stack';
import { loadConfigFile, parseConfigText, resolveConfigPath } from '../../lambdas/commons/config-file';
import { CONFIG_FILE } from '../../lambdas/commons/deployment';
import { writeConfig } from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const parse = (yaml: string): TocsinConfig => toTocsinConfig(parseConfigText(yaml, '/etc/tocsin/test.yaml'));
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected an error');
};

/** Constructing the stack is enough: validation runs before any construct is created. */
const buildStack = (yaml: string) => () =>
  new TocsinStack(new App({ context: { 'aws:cdk:bundling-stacks': [], 'tocsin:config': writeConfig(yaml) } }), 'Tocsin');

describe('the example tocsin.yaml', () => {
  test('is valid, names the schema for editors, and routes to the oncall channel', () => {
    const loaded = loadConfigFile(path.join(ROOT, 'tocsin.yaml'));
    expect(loaded.runtime.clusters).toEqual(['default']);
    expect(loaded.runtime.defaults.channels).toEqual(['oncall']);
    const text = require('node:fs').readFileSync(path.join(ROOT, 'tocsin.yaml'), 'utf8') as string;
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=./${CONFIG_FILE.schemaPath}`);
    expect(toTocsinConfig(loaded).channels.email).toEqual([{ name: 'oncall', addresses: [] }]);
  });
});

describe('defaults', () => {
  test('only clusters: no channels, throttling 50/100, 90-day logs', () => {
    const c = parse('clusters: [default]\n');
    expect(c).toMatchObject({
      clusters: ['default'],
      channels: { email: [], slack: [] },
      opsEmails: [],
      throttle: { rateLimit: 50, burstLimit: 100 },
      reservedConcurrency: undefined,
      logRetention: RetentionDays.THREE_MONTHS,
      delivery: { slack: { maxReceiveCount: 5 } },
    });
    expect(c.runtime.grouping).toEqual({ windowSeconds: 60, threshold: 20 });
  });

  test('the deployment opt-ins (fixed monthly costs) are off unless set; a non-boolean is refused at its line', () => {
    expect(parse('clusters: [default]\n').optIns).toEqual({ dashboard: false, tracing: false, customerManagedKey: false, detailedAlarms: false });
    expect(parse('clusters: [default]\ndeployment: { dashboard: true, customerManagedKey: true }\n').optIns).toEqual({
      dashboard: true,
      tracing: false,
      customerManagedKey: true,
      detailedAlarms: false,
    });
    expect(errorOf(() => parse('clusters: [default]\ndeployment:\n  tracing: "yes"\n'))).toMatch(/deployment\.tracing \(line 3, column 12\): must be boolean/);
    expect(errorOf(() => parse('clusters: [default]\ndeployment: { kmsKey: true }\n'))).toMatch(/unknown key "kmsKey"/);
  });

  test('which file: context > TOCSIN_CONFIG > ./tocsin.yaml', () => {
    expect(resolveConfigPath(undefined, {}, '/srv')).toBe('/srv/tocsin.yaml');
    expect(resolveConfigPath(undefined, { TOCSIN_CONFIG: 'prod.yaml' }, '/srv')).toBe('/srv/prod.yaml');
    expect(resolveConfigPath('/etc/x.yaml', { TOCSIN_CONFIG: 'prod.yaml' }, '/srv')).toBe('/etc/x.yaml');
    const file = writeConfig('clusters: [from-env]\n');
    expect(readConfig(new App(), { TOCSIN_CONFIG: file }).clusters).toEqual(['from-env']);
    const other = writeConfig('clusters: [from-context]\n');
    expect(readConfig(new App({ context: { 'tocsin:config': other } }), { TOCSIN_CONFIG: file }).clusters).toEqual(['from-context']);
  });
});

describe('channels', () => {
  test('email channels with a minimum severity; ops recipients default to their addresses', () => {
    const c = parse(`
clusters: [a]
channels:
  ops: { type: email, addresses: [ops@example.com, dev@example.com] }
  oncall: { type: email, addresses: [oncall@example.com, OPS@example.com], minSeverity: critical }
  team: { type: slack, secretName: tocsin/slack/team, webhookUrl: "http://127.0.0.1:9/hook" }
`);
    expect(c.channels.email).toEqual([
      { name: 'ops', addresses: ['ops@example.com', 'dev@example.com'] },
      { name: 'oncall', addresses: ['oncall@example.com', 'OPS@example.com'], minSeverity: 'critical' },
    ]);
    expect(c.opsEmails).toEqual(['ops@example.com', 'dev@example.com', 'oncall@example.com']);
    expect(c.channels.slack).toEqual([{ name: 'team', secret: { store: 'secretsManager', name: 'tocsin/slack/team' } }]);
  });

  test('deployment.opsEmails replaces the default ops recipients', () => {
    expect(parse('clusters: [a]\nchannels: { x: { type: email, addresses: [a@example.com] } }\ndeployment: { opsEmails: [sre@example.com] }\n').opsEmails).toEqual([
      'sre@example.com',
    ]);
  });

  test('a Slack channel without secretParameter or secretName cannot be deployed', () => {
    expect(errorOf(() => parse('clusters: [a]\nchannels:\n  team: { type: slack, webhookUrl: "http://127.0.0.1:9/" }\n'))).toBe(
      'Invalid tocsin configuration /etc/tocsin/test.yaml:\n  channels.team: a slack channel needs secretParameter (the SSM SecureString parameter holding its webhook URL) or secretName (a Secrets Manager secret) to be deployed',
    );
  });
});

describe('invalid files: file, path (line, column) and reason', () => {
  test.each([
    ['clusters: ["bad name!"]\n', 'clusters[0] (line 1, column 12): must match pattern'],
    ['clusters: []\n', 'clusters (line 1, column 11): must NOT have fewer than 1 items'],
    ['clusters: [a, a]\n', 'clusters (line 1, column 11): must NOT have duplicate items'],
    ['channels: {}\n', '(top level) (line 1, column 1): "clusters" is required'],
    ['clusters: [a]\nextra: 1\n', '(top level) (line 1, column 1): unknown key "extra"'],
    ['clusters: [a]\nchannels:\n  x: { type: email, addresses: [not-an-email] }\n', 'channels.x.addresses[0] (line 3, column 33): must match pattern'],
    ['clusters: [a]\nchannels:\n  x: { type: slack, addresses: [a@b.c] }\n', 'channels.x.addresses (line 3, column 32): unknown key "addresses" for a slack channel'],
    ['clusters: [a]\nchannels:\n  x: { type: pager }\n', 'channels.x.type (line 3, column 14): must be one of "email", "slack"'],
    ['clusters: [a]\nrules:\n  - name: r\n    match: { node: { regex: "([" } }\n', 'rules[0].match.node (line 4, column 20): regex "([" does not compile'],
    ['clusters: [a]\nrules:\n  - name: r\n    match: { node: { glob: x, regex: y } }\n', 'rules[0].match.node (line 4, column 20): must be a string (exact match), one of'],
    ['clusters: [a]\nrules:\n  - name: r\n    match: { colour: red }\n', 'rules[0].match (line 4, column 12): unknown key "colour"'],
    // Closed-set fields accept only what tocsin produces (domain/rules/vocabulary.ts).
    ['clusters: [a]\nrules:\n  - name: r\n    match: { kind: chek }\n    suppress: true\n', 'rules[0].match.kind (line 4, column 20): "chek" is not a kind tocsin produces (known: agent-service, catalog, check, event, heartbeat, key, maintenance, member, node, query, service, user-event)'],
    ['clusters: [a]\nrules:\n  - name: r\n    match:\n      status: [critical, { not: critcal }]\n', 'rules[0].match.status[1].not (line 5, column 33): "critcal" is not a status tocsin produces (known: '],
    ['clusters: [a]\nrules:\n  - name: r\n    match: { source: { glob: "consol*" } }\n', 'rules[0].match.source (line 4, column 22): glob "consol*" matches no source tocsin produces (known: consul, serf, tocsin)'],
    ['clusters: [a]\nrules:\n  - name: r\n    match: { from: { regex: "^sideways$" } }\n', 'rules[0].match.from (line 4, column 20): regex "^sideways$" matches no previous status (from) tocsin produces (known: alive, critical'],
    ['clusters: [a]\nrules:\n  - name: r\n    match:\n      kind: check\n      status: maintenance\n', 'rules[0].match (line 5, column 7): matches no alert tocsin produces: a check alert has status critical, warning, passing or removed'],
    ['clusters: [a]\nrules:\n  - name: r\n    match: { cluster: b }\n', 'rules[0].match.cluster (line 4, column 23): "b" is not a cluster listed under clusters (known: a)'],
    ['clusters: [a]\nrules:\n  - name: r\n    channels: [nope]\n', 'rules[0].channels[0] (line 4, column 16): channel "nope" is not defined under channels'],
    ['clusters: [a]\nrules:\n  - { name: r }\n  - { name: r }\n', 'rules[1].name (line 4, column 13): rule name "r" is already used by rules[0]'],
    ['clusters: [a]\nrules:\n  - { name: r, for: 5x }\n', 'rules[0].for (line 3, column 21): must be a number of seconds, or a duration'],
    ['clusters: [a]\nrules:\n  - { name: r, repeat: 0 }\n', 'rules[0].repeat (line 3, column 24): must be between 1s and 30 days'],
    ['clusters: [a]\nrules:\n  - { name: r, suppress: true, channels: [] }\n', 'rules[0].suppress (line 3, column 26): a suppress rule delivers nowhere'],
    ['clusters: [a]\ndeployment: { logRetentionDays: 31 }\n', 'deployment.logRetentionDays (line 2, column 33): must be one of 1, 3, 5'],
    ['clusters: [a]\nchecks: { firstRunGrace: 2d }\n', 'checks.firstRunGrace (line 2, column 26): must be between 0s and 1d'],
    ['clusters: [a]\nchecks: { grace: 5s }\n', 'checks (line 2, column 9): unknown key "grace"'],
    ['clusters: [a\n', '(top level) (line 2, column 1): YAML syntax:'],
    ['- a\n- b\n', '(top level): the file must hold a mapping'],
  ])('%j', (yaml, expected) => {
    const message = errorOf(() => parse(yaml));
    expect(message.startsWith('Invalid tocsin configuration /etc/tocsin/test.yaml:\n  ')).toBe(true);
    expect(message).toContain(expected);
  });

  test('every problem is listed, not only the first', () => {
    const message = errorOf(() => parse('clusters: [a]\nrules:\n  - name: r\n    match: { node: { regex: "(" } }\n    channels: [x, y]\n'));
    expect(message.split('\n')).toHaveLength(4);
  });

  test('a missing file says so and how to fix it', () => {
    expect(errorOf(() => loadConfigFile('/nonexistent/tocsin.yaml'))).toContain('/nonexistent/tocsin.yaml:\n  (top level): file not found (set TOCSIN_CONFIG');
  });

  test('synth fails on an invalid file with that message', () => {
    const yaml = 'clusters: [prod]\nrules:\n  - name: r\n    match:\n      service: { regex: "*web" }\n';
    expect(buildStack(yaml)).toThrow(ConfigFileError);
    expect(buildStack(yaml)).toThrow(/^Invalid tocsin configuration \/.*\/tocsin\.yaml:\n {2}rules\[0\]\.match\.service \(line 5, column 16\): regex "\*web" does not compile/);
  });
});

describe('severity filter', () => {
  test('minimum severity expands to itself and everything more severe', () => {
    expect(severitiesAtOrAbove('critical')).toEqual(['critical']);
    expect(severitiesAtOrAbove('warning')).toEqual(['critical', 'warning']);
    expect(severitiesAtOrAbove('info')).toEqual(['critical', 'warning', 'info']);
  });
});
