/**
 * `tocsin service-unit`: the systemd unit for the pipeline, checked with the tool that
 * will read it (systemd-analyze verify). Its ExecStart is run in test/e2e/service-unit.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServiceUnit } from '../../bin/commands/service-unit';
import { ROOT } from '../support/local-pipeline';

const unit = (argv: string[]) => runServiceUnit(argv);

/** The value of `Key=` lines, in order. */
const values = (text: string, key: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;

function verify(text: string): { status: number | null; stderr: string } {
  const file = join(mkdtempSync(join(tmpdir(), 'tocsin-unit-')), 'tocsin.service');
  writeFileSync(file, text);
  const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('tocsin service-unit', () => {
  it('defaults: its own user, this checkout, /var/lib/tocsin, restart on failure, an environment file, a hardened sandbox', () => {
    const out = unit([]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const text = out.stdout;
    expect(values(text, 'User')).toEqual(['tocsin']);
    expect(values(text, 'WorkingDirectory')).toEqual([ROOT]);
    expect(values(text, 'ExecStart')).toEqual([`${process.execPath} --import tsx ${ROOT}/local/main.ts --data-dir /var/lib/tocsin --port 8787 --quiet`]);
    expect(values(text, 'Restart')).toEqual(['on-failure']);
    expect(values(text, 'RestartSec')).toEqual(['5s']);
    expect(values(text, 'EnvironmentFile')).toEqual(['/etc/tocsin/tocsin.env']);
    expect(values(text, 'StateDirectory')).toEqual(['tocsin']);
    expect(values(text, 'ReadWritePaths')).toEqual(['/var/lib/tocsin']);
    for (const [key, value] of [
      ['NoNewPrivileges', 'true'],
      ['ProtectSystem', 'strict'],
      ['PrivateTmp', 'true'],
      ['ProtectHome', 'read-only'],
      ['CapabilityBoundingSet', ''],
      ['WantedBy', 'multi-user.target'],
    ]) {
      expect(values(text, key as string)).toEqual([value]);
    }
    expect(values(text, 'AmbientCapabilities')).toEqual([]);
  });

  it('the options: user, working dir, data dir, env file, config, host, TLS, a privileged port', () => {
    const out = unit(['--user', 'alerts', '--working-dir', '/opt/tocsin', '--data-dir', '/srv/tocsin', '--env-file', '/etc/alerts/secrets.env', '--config', '/etc/alerts/tocsin.yaml', '--port', '443', '--host', '0.0.0.0', '--tls-cert', '/etc/alerts/cert.pem', '--tls-key', '/etc/alerts/key.pem', '--node', '/usr/bin/node']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    const text = out.stdout;
    expect(values(text, 'User')).toEqual(['alerts']);
    expect(values(text, 'WorkingDirectory')).toEqual(['/opt/tocsin']);
    expect(values(text, 'EnvironmentFile')).toEqual(['/etc/alerts/secrets.env']);
    expect(values(text, 'Environment')).toEqual(['TOCSIN_CONFIG=/etc/alerts/tocsin.yaml']);
    expect(values(text, 'ExecStart')).toEqual(['/usr/bin/node --import tsx /opt/tocsin/local/main.ts --data-dir /srv/tocsin --port 443 --host 0.0.0.0 --tls-cert /etc/alerts/cert.pem --tls-key /etc/alerts/key.pem --quiet']);
    // Not under /var/lib: the directory is the operator's to create, and the only writable one.
    expect(values(text, 'StateDirectory')).toEqual([]);
    expect(values(text, 'ReadWritePaths')).toEqual(['/srv/tocsin']);
    expect(text).toContain('#   install -d -o alerts -m 0700 /srv/tocsin\n');
    expect(values(text, 'AmbientCapabilities')).toEqual(['CAP_NET_BIND_SERVICE']);
    expect(values(text, 'CapabilityBoundingSet')).toEqual(['CAP_NET_BIND_SERVICE']);
  });

  it('a "%" in a path is escaped from systemd specifiers', () => {
    expect(values(unit(['--data-dir', '/srv/100%']).stdout, 'ReadWritePaths')).toEqual(['/srv/100%%']);
  });

  it('bad options: exit 64 with the reason', () => {
    const cases: Array<[string[], string]> = [
      [['--user', 'root'], '--user root: the pipeline needs no privileges'],
      [['--user', 'Bad User'], '--user "Bad User" is not a user name'],
      [['--data-dir', 'relative/dir'], '--data-dir "relative/dir" must be an absolute path'],
      [['--working-dir', '/opt/my tocsin'], 'a path with whitespace, quotes or backslashes is not supported'],
      [['--port', '0'], '--port 0 is not a port number'],
      [['--tls-cert', '/etc/c.pem'], '--tls-cert and --tls-key go together'],
      [['--data-dir', ROOT, '--working-dir', ROOT], 'give the pipeline a directory of its own'],
      [['--bogus'], "Unknown option '--bogus'"],
    ];
    for (const [argv, message] of cases) expect(unit(argv)).toMatchObject({ code: 64, stdout: '', stderr: expect.stringContaining(message) });
  });

  (analyze ? it : it.skip)('systemd-analyze verify accepts the unit, with defaults and with every option', () => {
    expect(verify(unit([]).stdout)).toEqual({ status: 0, stderr: '' });
    const full = unit(['--user', 'alerts', '--working-dir', '/opt/tocsin', '--data-dir', '/srv/tocsin', '--config', '/etc/alerts/tocsin.yaml', '--port', '443', '--host', '0.0.0.0', '--tls-cert', '/etc/alerts/cert.pem', '--tls-key', '/etc/alerts/key.pem']);
    expect(verify(full.stdout)).toEqual({ status: 0, stderr: '' });
  });
});
