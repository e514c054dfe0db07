/**
 * `tocsin heartbeat-config`: the systemd service + timer pair and the cron line, their
 * period from --every or tocsin.yaml, checked with the tools that will read them where the
 * machine has them (systemd-analyze verify, /bin/sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calendarPeriod } from '../../bin/cli/heartbeat-config';
import { builtCli } from '../support/built-cli';

/** The bundle npx tocsin runs (rebuilt first if a source changed). */
const { runCli } = builtCli();

const cli = (argv: string[], env: NodeJS.ProcessEnv = {}) => runCli(argv, env);

/** The text between a "## <title>" line and the next "## " line. */
function section(out: string, title: RegExp): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => title.test(l));
  expect(start).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  return `${lines.slice(start + 1, end === -1 ? undefined : end).join('\n').trim()}\n`;
}

const cronOf = (out: string) => out.trimEnd().split('\n').pop() as string;

function tempConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tocsin-hbcfg-')), 'tocsin.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('tocsin heartbeat-config', () => {
  it('a oneshot service that runs only while the agent runs, a minutely timer with a per-host offset, and a cron line', () => {
    const out = cli(['heartbeat-config', '--cluster', 'prod', '--every', '1m']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toContain('# tocsin heartbeats for cluster "prod": every 1m (--every)');
    const service = section(out.stdout, /tocsin-heartbeat\.service$/);
    expect(service).toContain('Requisite=consul.service\n');
    expect(service).toContain('Type=oneshot\nUser=consul\nExecStart=/usr/local/bin/tocsin-shim heartbeat --config /etc/tocsin/shim.json\n');
    const timer = section(out.stdout, /tocsin-heartbeat\.timer$/);
    expect(timer).toContain('OnCalendar=*-*-* *:*:00\n');
    expect(timer).toContain('RandomizedDelaySec=48\nFixedRandomDelay=true\n');
    expect(timer).toContain('WantedBy=timers.target');
    expect(cronOf(out.stdout)).toBe(
      '* * * * * consul pgrep -x consul >/dev/null && sleep $(( $(hostname | cksum | cut -d" " -f1) \\% 48 )) && /usr/local/bin/tocsin-shim heartbeat --config /etc/tocsin/shim.json',
    );
  });

  it('every comes from the cluster in tocsin.yaml ($TOCSIN_CONFIG) unless --every is given', () => {
    const file = tempConfig('clusters: [prod, batch]\nheartbeats:\n  every: 30s\n  clusters:\n    batch: { every: 10m, missingAfter: 30m }\n');
    const prod = cli(['heartbeat-config', '--cluster', 'prod'], { TOCSIN_CONFIG: file });
    expect(prod.stdout).toContain(`every 30s (heartbeats of ${file})`);
    expect(section(prod.stdout, /tocsin-heartbeat\.timer$/)).toContain('OnCalendar=*-*-* *:*:00/30\n');
    expect(prod.stdout).toContain('# cron runs at most once a minute: with every 30s use the systemd timer');
    const batch = cli(['heartbeat-config', '--cluster', 'batch'], { TOCSIN_CONFIG: file });
    const batchTimer = section(batch.stdout, /tocsin-heartbeat\.timer$/);
    expect(batchTimer).toContain('OnCalendar=*-*-* *:00/10:00\n');
    expect(batchTimer).toContain('RandomizedDelaySec=480\n');
    expect(cronOf(batch.stdout)).toMatch(/^\*\/10 \* \* \* \* consul /);
    expect(cli(['heartbeat-config', '--cluster', 'batch', '--every', '2m'], { TOCSIN_CONFIG: file }).stdout).toContain('every 2m (--every)');
    expect(cli(['heartbeat-config'], { TOCSIN_CONFIG: join(tmpdir(), 'no-such-tocsin.yaml') }).stdout).toContain('every 1m (the default; no ');
  });

  it('a period a calendar cannot repeat evenly runs at the next shorter step, and says so', () => {
    expect(calendarPeriod(45)).toEqual({ seconds: 30, onCalendar: '*-*-* *:*:00/30' });
    expect(calendarPeriod(7 * 60)).toEqual({ seconds: 360, onCalendar: '*-*-* *:00/6:00' });
    expect(calendarPeriod(5 * 3600)).toEqual({ seconds: 4 * 3600, onCalendar: '*-*-* 00/4:00:00' });
    expect(cli(['heartbeat-config', '--every', '7m']).stdout).toContain('# 7m is not a calendar step: the timer runs every 6m.');
  });

  it('--agent serf --user serf guards on the Serf agent; --agent none has no guard', () => {
    const serf = cli(['heartbeat-config', '--agent', 'serf', '--user', 'serf', '--every', '1m']);
    expect(section(serf.stdout, /tocsin-heartbeat\.service$/)).toContain('Requisite=serf.service\n');
    expect(cronOf(serf.stdout)).toMatch(/^\* \* \* \* \* serf pgrep -x serf >\/dev\/null && sleep /);
    const none = cli(['heartbeat-config', '--agent', 'none', '--every', '1m']);
    expect(none.stdout).not.toContain('Requisite=');
    expect(cronOf(none.stdout)).toMatch(/^\* \* \* \* \* consul sleep /);
  });

  it('bad --every, --user or tocsin.yaml: exit 64 with the reason', () => {
    expect(cli(['heartbeat-config', '--every', 'soon'])).toMatchObject({ code: 64, stderr: expect.stringContaining('--every "soon" is not a duration') });
    expect(cli(['heartbeat-config', '--user', 'a b'])).toMatchObject({ code: 64, stderr: expect.stringContaining('--user "a b" is not a user or unit name') });
    const bad = tempConfig('clusters: [prod]\nheartbeats: { every: 10m }\n');
    expect(cli(['heartbeat-config', '--cluster', 'prod'], { TOCSIN_CONFIG: bad })).toMatchObject({ code: 64, stderr: expect.stringContaining('heartbeats.every (line 2, column 22): missingAfter (5m, inherited)') });
  });

  it('the cron command runs under /bin/sh once cron has unescaped "%"', () => {
    const out = cli(['heartbeat-config', '--agent', 'none', '--every', '1m', '--shim-path', '/bin/echo']);
    const command = cronOf(out.stdout).split(' ').slice(6).join(' ').replace(/\\%/g, '%');
    // The per-host offset alone (not the sleep): a number in [0, 48).
    const expr = /^sleep (.*) && /.exec(command)?.[1] as string;
    const value = spawnSync('/bin/sh', ['-c', `echo ${expr}`], { encoding: 'utf8' });
    expect(value.status).toBe(0);
    expect(Number(value.stdout.trim())).toBeGreaterThanOrEqual(0);
    expect(Number(value.stdout.trim())).toBeLessThan(48);
    expect(spawnSync('/bin/sh', ['-n', '-c', command]).status).toBe(0);
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
  (analyze ? it : it.skip)('systemd-analyze verify accepts the service and the timer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-units-'));
    const out = cli(['heartbeat-config', '--agent', 'none', '--every', '30s', '--shim-path', '/bin/true']).stdout;
    writeFileSync(join(dir, 'tocsin-heartbeat.service'), section(out, /tocsin-heartbeat\.service$/));
    writeFileSync(join(dir, 'tocsin-heartbeat.timer'), section(out, /tocsin-heartbeat\.timer$/));
    const r = spawnSync('systemd-analyze', ['verify', join(dir, 'tocsin-heartbeat.service'), join(dir, 'tocsin-heartbeat.timer')], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
