/**
 * `tocsin service-unit`: the systemd unit for the pipeline. Checked with the tools that
 * will read it (systemd-analyze verify), and its ExecStart run as systemd would run it
 * (in its WorkingDirectory), through the CLI as an operator calls it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServiceUnit } from '../../bin/commands/service-unit';
import { ROOT } from '../support/local-pipeline';
import { freePort } from '../support/ports';

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

  it('npx tocsin service-unit prints it, and its ExecStart, run in its WorkingDirectory, is the pipeline (ready, then a clean stop on SIGTERM)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tocsin-unit-data-'));
    const port = await freePort();
    const cli = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'bin', 'tocsin-cli.ts'), 'service-unit', '--data-dir', dataDir, '--port', String(port)], { cwd: tmpdir(), encoding: 'utf8' });
    expect({ status: cli.status, stderr: cli.stderr }).toEqual({ status: 0, stderr: '' });
    const [execStart] = values(cli.stdout, 'ExecStart');
    const [cwd] = values(cli.stdout, 'WorkingDirectory');
    const [command, ...args] = (execStart as string).split(' ');
    const child = spawn(command as string, args, { cwd: cwd as string, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 60000;
      while (!stdout.includes('export TOCSIN_KEY=') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).toContain(`tocsin local pipeline ready: http://127.0.0.1:${port}/v1/ingest`);
      expect(stdout).toContain('# --quiet: notification bodies are not printed');
      expect(existsSync(join(dataDir, 'tocsin.lock'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(existsSync(join(dataDir, 'tocsin.lock'))).toBe(false);
  }, 90000);
});
