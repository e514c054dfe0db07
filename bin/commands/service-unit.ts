/**
 * `tocsin service-unit`: a systemd unit that runs the pipeline of `npm start` as a service.
 * The whole output is the unit file (instructions are comments), so it can be redirected
 * into /etc/systemd/system/tocsin.service. Pure: options in, text out. The choices are
 * explained in README.md, "Running as a service".
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LOCAL_DEFAULTS } from '../../local/names';
import { UsageError, type CliOutput } from './admin-client';

export const SERVICE_UNIT_DEFAULTS = {
  user: 'tocsin',
  dataDir: '/var/lib/tocsin',
  envFile: '/etc/tocsin/tocsin.env',
  port: LOCAL_DEFAULTS.port,
  restartSec: 5,
} as const;

/** The checkout holding local/main.ts: where this CLI runs from, wherever it is built to. */
function checkoutRoot(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'local', 'main.ts'))) return dir;
    if (dirname(dir) === dir) return resolve(__dirname, '..', '..');
  }
}

export const SERVICE_UNIT_USAGE = `Usage: tocsin service-unit [options] > /etc/systemd/system/tocsin.service

Prints a systemd unit running the tocsin pipeline (npm start's local/main.ts) as a service:
restart on failure, secrets from an environment file, a hardened sandbox that may write
only the data directory. The instructions are comments in the unit.

Options:
  --user NAME          the service's user (default "${SERVICE_UNIT_DEFAULTS.user}"; create it with useradd --system)
  --working-dir DIR    the tocsin checkout, with node_modules installed (default: this one, ${checkoutRoot()})
  --data-dir DIR       the pipeline's --data-dir (default ${SERVICE_UNIT_DEFAULTS.dataDir}; under /var/lib/ systemd creates it)
  --env-file FILE      environment file for secrets: SMTP password, TOCSIN_CONFIG ... (default ${SERVICE_UNIT_DEFAULTS.envFile})
  --config FILE        tocsin.yaml to use (TOCSIN_CONFIG; default: tocsin.yaml of the working dir, or the env file's TOCSIN_CONFIG)
  --port N             ingest API port (default ${SERVICE_UNIT_DEFAULTS.port})
  --host ADDR          serve the ingest API on ADDR (default ${LOCAL_DEFAULTS.host}); with --tls-cert and --tls-key: HTTPS
  --tls-cert FILE      PEM certificate (chain) for HTTPS
  --tls-key FILE       PEM private key (readable by --user)
  --node PATH          the node binary (default: the one running this, ${process.execPath})
`;

export interface ServiceUnitOptions {
  user: string;
  workingDir: string;
  dataDir: string;
  envFile: string;
  config?: string;
  port: number;
  host?: string;
  tls?: { cert: string; key: string };
  node: string;
}

/** An absolute path systemd takes as is: no whitespace, quotes or backslashes ("%" is escaped). */
function absolutePath(flag: string, value: string): string {
  if (!isAbsolute(value)) throw new UsageError(`--${flag} "${value}" must be an absolute path`);
  if (/[\s"'\\]/.test(value)) throw new UsageError(`--${flag} "${value}": a path with whitespace, quotes or backslashes is not supported in a unit file`);
  return resolve(value);
}

/** systemd specifiers start with "%": a literal one is "%%". */
const escapePercent = (value: string) => value.replace(/%/g, '%%');

export function serviceUnitOptions(argv: string[]): ServiceUnitOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      user: { type: 'string', default: SERVICE_UNIT_DEFAULTS.user },
      'working-dir': { type: 'string', default: checkoutRoot() },
      'data-dir': { type: 'string', default: SERVICE_UNIT_DEFAULTS.dataDir },
      'env-file': { type: 'string', default: SERVICE_UNIT_DEFAULTS.envFile },
      config: { type: 'string' },
      port: { type: 'string', default: String(SERVICE_UNIT_DEFAULTS.port) },
      host: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      node: { type: 'string', default: process.execPath },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(values.user)) throw new UsageError(`--user "${values.user}" is not a user name (lower-case letters, digits, "_", "-")`);
  if (values.user === 'root') throw new UsageError('--user root: the pipeline needs no privileges; give it a user of its own (useradd --system tocsin)');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port ${values.port} is not a port number (1-65535)`);
  if (values.host !== undefined && !/^[A-Za-z0-9.:_-]+$/.test(values.host)) throw new UsageError(`--host "${values.host}" is not an address or host name`);
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const workingDir = absolutePath('working-dir', values['working-dir']);
  const dataDir = absolutePath('data-dir', values['data-dir']);
  if (dataDir === '/' || dataDir === workingDir) throw new UsageError(`--data-dir ${dataDir}: give the pipeline a directory of its own`);
  return {
    user: values.user,
    workingDir,
    dataDir,
    envFile: absolutePath('env-file', values['env-file']),
    port,
    node: absolutePath('node', values.node),
    ...(values.config !== undefined ? { config: absolutePath('config', values.config) } : {}),
    ...(values.host !== undefined ? { host: values.host } : {}),
    ...(values['tls-cert'] !== undefined && values['tls-key'] !== undefined
      ? { tls: { cert: absolutePath('tls-cert', values['tls-cert']), key: absolutePath('tls-key', values['tls-key']) } }
      : {}),
  };
}

/** /var/lib/X: systemd's StateDirectory=X creates it for the user; elsewhere it must exist. */
function stateDirectory(dataDir: string): string | undefined {
  const m = /^\/var\/lib\/(.+)$/.exec(dataDir);
  return m?.[1];
}

export function serviceUnitText(o: ServiceUnitOptions): string {
  const state = stateDirectory(o.dataDir);
  const args = [
    o.node,
    '--import',
    'tsx',
    join(o.workingDir, 'local', 'main.ts'),
    '--data-dir',
    o.dataDir,
    '--port',
    String(o.port),
    ...(o.host ? ['--host', o.host] : []),
    ...(o.tls ? ['--tls-cert', o.tls.cert, '--tls-key', o.tls.key] : []),
    '--quiet',
  ];
  const privileged = o.port < 1024;
  return `${[
    '# tocsin.service: the tocsin pipeline (npm start) as a systemd service.',
    '# Printed by `npx tocsin service-unit`. To install, as root:',
    `#   useradd --system --home-dir ${o.dataDir} --shell /usr/sbin/nologin ${o.user}`,
    `#   (cd ${o.workingDir} && npm ci)     # the service may not write its working directory`,
    ...(state ? [] : [`#   install -d -o ${o.user} -m 0700 ${o.dataDir}`]),
    `#   install -d -m 0755 ${dirname(o.envFile)} && install -m 0600 /dev/null ${o.envFile}`,
    '#   npx tocsin service-unit [options] > /etc/systemd/system/tocsin.service',
    '#   systemctl daemon-reload && systemctl enable --now tocsin',
    '#   journalctl -u tocsin    # the banner: TOCSIN_URL, keys (also in the data dir)',
    `# ${o.envFile} (root's, mode 0600: systemd reads it before it drops to ${o.user}) holds the`,
    '# secrets, one VAR=value a line, e.g.:',
    '#   SMTP_PASSWORD=...                    # the variable named by local.smtp.passwordEnv',
    ...(o.config ? [] : ['#   TOCSIN_CONFIG=/etc/tocsin/tocsin.yaml  # else tocsin.yaml of the working directory']),
    '# A second copy on the same data directory refuses to start (tocsin.lock names the one running).',
    '',
    '[Unit]',
    'Description=tocsin alerting pipeline (Consul and Serf)',
    `Documentation=file://${escapePercent(join(o.workingDir, 'README.md'))}`,
    'After=network-online.target',
    'Wants=network-online.target',
    '# Restart on failure, but give up after 10 failures in 5 minutes (systemctl reset-failed tocsin).',
    'StartLimitIntervalSec=300',
    'StartLimitBurst=10',
    '',
    '[Service]',
    'Type=exec',
    `User=${o.user}`,
    `WorkingDirectory=${escapePercent(o.workingDir)}`,
    `EnvironmentFile=${escapePercent(o.envFile)}`,
    ...(o.config ? [`Environment=TOCSIN_CONFIG=${escapePercent(o.config)}`] : []),
    '# node itself, not npm: signals reach the pipeline, and npm start\'s prestart (npm ci) cannot run here.',
    '# --quiet: notification bodies stay out of the journal (they are in <data dir>/notifications.jsonl).',
    `ExecStart=${args.map(escapePercent).join(' ')}`,
    'Restart=on-failure',
    `RestartSec=${SERVICE_UNIT_DEFAULTS.restartSec}s`,
    '# SIGTERM: a clean stop (the lock on the data directory is released).',
    'TimeoutStopSec=30s',
    'UMask=0077',
    ...(state ? [`StateDirectory=${escapePercent(state)}`, 'StateDirectoryMode=0700'] : []),
    '# Hardening: the pipeline needs the network and its data directory, nothing else.',
    'NoNewPrivileges=true',
    'ProtectSystem=strict',
    `ReadWritePaths=${escapePercent(o.dataDir)}`,
    'ProtectHome=read-only',
    'PrivateTmp=true',
    'PrivateDevices=true',
    'ProtectKernelTunables=true',
    'ProtectKernelModules=true',
    'ProtectKernelLogs=true',
    'ProtectControlGroups=true',
    'ProtectClock=true',
    'ProtectHostname=true',
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK',
    'RestrictNamespaces=true',
    'RestrictRealtime=true',
    'RestrictSUIDSGID=true',
    'LockPersonality=true',
    'SystemCallArchitectures=native',
    ...(privileged
      ? [`# Port ${o.port} < 1024: only the right to bind it.`, 'AmbientCapabilities=CAP_NET_BIND_SERVICE', 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE']
      : ['CapabilityBoundingSet=']),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
  ].join('\n')}\n`;
}

export function runServiceUnit(argv: string[]): CliOutput {
  if (argv.includes('--help') || argv.includes('-h')) return { code: 0, stdout: SERVICE_UNIT_USAGE, stderr: '' };
  try {
    return { code: 0, stdout: serviceUnitText(serviceUnitOptions(argv)), stderr: '' };
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (!usage) throw err;
    return { code: 64, stdout: '', stderr: `tocsin service-unit: ${(err as Error).message}\n\n${SERVICE_UNIT_USAGE}` };
  }
}

/** Entry point from bin/tocsin-cli.ts. */
export function serviceUnitMain(argv: string[]): void {
  const out = runServiceUnit(argv);
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.code;
}
