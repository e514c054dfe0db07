/**
 * `tocsin config check` and `tocsin config routes`, the built CLI run as `npx tocsin` runs it
 * (bin/run-cli.cjs in a child process): exit codes, one line per problem with file, line,
 * column and path, and what an alert would get (rules, channels, mutes at --at, inhibitions).
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../shim/helpers';
import { ensureCliBuilt, ROOT, RUN_CLI, runTocsin } from '../support/built-cli';

const dir = tempDir('tocsin-config-cli-');
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const GOOD = file(
  'tocsin.yaml',
  `clusters: [prod]
channels:
  pager: { type: email }
  chat: { type: email }
defaults: { channels: [pager] }
timeIntervals:
  workingHours:
    - weekdays: ['monday:friday']
      times: [{ start: '09:00', end: '17:00' }]
      location: Europe/Berlin
rules:
  - name: chat-in-hours
    match: { severity: warning }
    channels: [chat]
    activeTimeIntervals: [workingHours]
    repeat: 1h
inhibit:
  - source: { check: serfHealth, status: critical }
    target: { check: { not: serfHealth } }
    equal: [node]
`,
);

const BAD = file(
  'bad.yaml',
  `clusters: [prod]
channels:
  chat: { type: email }
timeIntervals:
  nights: [{ times: [{ start: '22:00', end: '06:00' }] }]
rules:
  - name: r
    channels: [chat]
    muteTimeIntervals: [night]
inhibit:
  - source: { check: serfHealth }
    target: { kind: check }
    equal: [host]
`,
);

const WARNING_DISK = file('disk.json', JSON.stringify({ cluster: 'prod', source: 'consul', kind: 'check', severity: 'warning', state: 'firing', node: 'web-1', check: 'disk', from: 'passing', to: 'warning' }));
const SERF = file('serf.json', JSON.stringify({ cluster: 'prod', source: 'consul', kind: 'check', severity: 'critical', state: 'firing', node: 'web-1', check: 'serfHealth', to: 'critical' }));

const env = { ...process.env, TOCSIN_CONFIG: '' };
beforeAll(() => ensureCliBuilt());

describe('tocsin config check', () => {
  test('a valid file: exit 0 and what it holds', async () => {
    const run = await runTocsin(['config', 'check', GOOD], env);
    expect(run).toEqual({ code: 0, stdout: `${GOOD}: valid (1 cluster, 2 channels, 1 rule, 1 inhibit rule, 1 time interval)\n`, stderr: '' });
  });

  test('the file from $TOCSIN_CONFIG when none is given', async () => {
    const run = await runTocsin(['config', 'check'], { ...process.env, TOCSIN_CONFIG: GOOD });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(GOOD);
  });

  test('every problem on its own line with file, line, column and path; exit 1', async () => {
    const run = await runTocsin(['config', 'check', BAD], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')).toEqual([
      `${BAD}:5:22: timeIntervals.nights[0].times[0]: start 22:00 must be before end 06:00; a range crossing midnight is two ranges, e.g. { start: "22:00", end: "24:00" } and { start: "00:00", end: "06:00" }`,
      `${BAD}:9:25: rules[0].muteTimeIntervals[0]: time interval "night" is not defined under timeIntervals (defined: nights)`,
      expect.stringMatching(new RegExp(`^${BAD.replace(/[.]/g, '\\.')}:13:13: inhibit\\[0\\]\\.equal\\[0\\]: unknown field "host"`)),
      `${BAD}: 3 problems`,
      '',
    ]);
  });

  test('schema problems too (an unknown key), and a missing file', async () => {
    const run = await runTocsin(['config', 'check', file('unknown.yaml', 'clusters: [prod]\nrules:\n  - { name: x, muteTimeInterval: [a] }\n')], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/unknown\.yaml:3:5: rules\[0\]: unknown key "muteTimeInterval"/);
    const missing = await runTocsin(['config', 'check', join(dir, 'nope.yaml')], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('file not found');
  });

  test('usage errors: exit 64', async () => {
    expect((await runTocsin(['config', 'check', GOOD, 'extra'], env)).code).toBe(64);
    expect((await runTocsin(['config', 'lint'], env)).code).toBe(64);
  });
});

describe('tocsin config routes --alert FILE', () => {
  test('outside working hours: the chat route is muted until Monday 09:00 Berlin; what could inhibit it', async () => {
    const run = await runTocsin(['config', 'routes', '--alert', WARNING_DISK, '--config', GOOD, '--at', '2026-12-04T18:00:00Z'], env);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      'alert: consul check warning (warning) in cluster prod, node web-1, check disk',
      'matched rules: chat-in-hours',
      'routes:',
      '  chat-in-hours -> chat  (severity warning, for 0s, repeat 1h, resolved yes)',
      '    MUTED at 2026-12-04T18:00:00.000Z (outside workingHours) until 2026-12-07T08:00:00.000Z: a firing notice waits until then',
      'inhibited (not delivered) while a firing alert of the cluster matches:',
      '  inhibit[0]: source check=serfHealth status=critical; target check!=serfHealth; equal node=web-1',
      '',
    ]);
  });

  test('in working hours (--json): not muted', async () => {
    const run = await runTocsin(['config', 'routes', '--alert', WARNING_DISK, '--config', GOOD, '--at', '2026-12-07T08:00:00Z', '--json'], env);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    expect(report.routes).toEqual([{ rule: 'chat-in-hours', channels: ['chat'], severity: 'warning', for: '0s', repeat: '1h', resolved: true, mute: null, timeIntervals: { mute: [], active: ['workingHours'] } }]);
    expect(report.inhibitedWhile.map((i: { rule: string }) => i.rule)).toEqual(['inhibit[0]']);
  });

  test('a source: the defaults route, and what it inhibits while firing (from stdin)', async () => {
    const run = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [RUN_CLI, 'config', 'routes', '--alert', '-', '--config', GOOD], { cwd: ROOT, env }, (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
      child.stdin?.end(readFileSync(SERF, 'utf8'));
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('matched rules: (none: the defaults route)');
    expect(run.stdout).toContain('  default -> pager  (severity critical');
    expect(run.stdout).toContain('inhibited: never (no inhibit rule targets it)');
    expect(run.stdout).toContain('while firing, it inhibits alerts of the cluster that match:\n  inhibit[0]: source check=serfHealth status=critical; target check!=serfHealth; equal node=web-1');
  });

  test('service impact: healthyInstances and healthyFraction among the facts select the route; a node incident folds its node', async () => {
    const config = file(
      'impact.yaml',
      `clusters: [prod]
channels:
  pager: { type: email }
  chat: { type: email }
defaults: { channels: [chat] }
rules:
  - name: last-instance
    match: { kind: service, healthyInstances: { lte: 0 } }
    channels: [pager]
`,
    );
    const service = (name: string, healthyInstances: number, healthyFraction: number) =>
      file(name, JSON.stringify({ cluster: 'prod', source: 'consul', kind: 'service', severity: 'critical', state: 'firing', node: 'web-1', service: 'web', to: 'critical', facts: { healthyInstances, healthyFraction } }));
    const last = await runTocsin(['config', 'routes', '--alert', service('last.json', 0, 0), '--config', config], env);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain('service impact: healthyInstances 0, healthyFraction 0\nmatched rules: last-instance\nroutes:\n  last-instance -> pager');
    const oneOfTen = await runTocsin(['config', 'routes', '--alert', service('one.json', 9, 0.9), '--config', config], env);
    expect(oneOfTen.stdout).toContain('matched rules: (none: the defaults route)\nroutes:\n  default -> chat');
    const node = file('node.json', JSON.stringify({ cluster: 'prod', source: 'tocsin', kind: 'node', severity: 'critical', state: 'firing', node: 'web-1', to: 'down' }));
    const incident = await runTocsin(['config', 'routes', '--alert', node, '--config', config], env);
    expect(incident.stdout).toContain("while firing, it inhibits alerts of the cluster that match:\n  node-incident (built in): source kind=node (the node is down as one incident); target the node's own checks, instances and member while it is down; equal node=web-1");
    const bad = await runTocsin(['config', 'routes', '--alert', file('badfact.json', JSON.stringify({ cluster: 'prod', source: 'consul', kind: 'service', facts: { healthyInstances: 'none' } })), '--config', config], env);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/facts\.healthyInstances must be a number/);
  });

  test.each([
    ['no --alert', ['config', 'routes', '--config', GOOD], /needs --alert FILE/],
    ['a bad --at', ['config', 'routes', '--alert', WARNING_DISK, '--config', GOOD, '--at', 'tomorrow'], /--at "tomorrow" is not an ISO-8601 time/],
    ['an alert without cluster', ['config', 'routes', '--alert', file('nocluster.json', '{"source":"consul","kind":"check"}'), '--config', GOOD], /cluster is required/],
    ['not JSON', ['config', 'routes', '--alert', file('notjson.json', 'cluster: prod'), '--config', GOOD], /not JSON/],
  ])('usage error, exit 64: %s', async (_n, args, message) => {
    const run = await runTocsin(args, env);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(message);
  });

  test('an invalid config: its problems, exit 1', async () => {
    const run = await runTocsin(['config', 'routes', '--alert', WARNING_DISK, '--config', BAD], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${BAD}:9:25: rules[0].muteTimeIntervals[0]`);
  });
});
