#!/usr/bin/env tsx
/**
 * tocsin operator CLI: `npx tocsin <command>` or `npm run tocsin -- <command>`, both the
 * bundle of this file (bin/cli-build.cjs, run by bin/run-cli.cjs); `tsx bin/tocsin-cli.ts`
 * runs it from the sources. Commands print configuration; nothing here talks to AWS or to the agents.
 */
import { parseArgs } from 'node:util';
import { CLUSTER_NAME_PATTERN } from '../lambdas/domain/protocol';
import { CONSUL_WATCH_TYPES, type ConsulWatchType } from '../lambdas/domain/types';
import {
  DEFAULT_OPTIONS,
  consulHcl,
  consulJson,
  fullText,
  serfSection,
  type AgentConfigOptions,
  type HandlerKind,
} from './cli/agent-config';
import { existsSync } from 'node:fs';
import { heartbeatSettings } from '../lambdas/domain/heartbeats';
import { parseDuration } from '../lambdas/domain/rules/duration';
import { heartbeatConfigText } from './cli/heartbeat-config';
import { ALERT_COMMANDS } from './commands/alert-commands';

type CommandMain = (argv: string[]) => void;

/**
 * The commands with a module of their own, each loaded only when it runs: a `require` in a
 * function stays lazy in the bundle (esbuild initialises a required module on its first
 * call), so `tocsin --help` and the config printers load none of them, nor their
 * node:crypto, streams, yaml or SDK (bench figure 7).
 */
const COMMANDS: Readonly<Record<string, () => CommandMain>> = {
  silence: () => (require('./commands/silence') as typeof import('./commands/silence')).silenceMain,
  watchers: () => (require('./commands/watchers') as typeof import('./commands/watchers')).watchersMain,
  'service-unit': () => (require('./commands/service-unit') as typeof import('./commands/service-unit')).serviceUnitMain,
  config: () => (require('./commands/config') as typeof import('./commands/config')).configMain,
  template: () => (require('./commands/template') as typeof import('./commands/template')).templateMain,
  ...Object.fromEntries(
    ALERT_COMMANDS.map((name) => [name, (): CommandMain => (argv) => (require('./commands/alerts') as typeof import('./commands/alerts')).alertsMain(name, argv)]),
  ),
};

export const USAGE = `Usage: tocsin <command> [options]

Commands:
  consul-config   Consul watch definitions for every watch type (script handler with
                  the shim, and Consul's http handler type), in JSON and HCL, plus the
                  Serf event handler line.
  serf-config     Only the Serf event handler configuration.
  heartbeat-config
                  A systemd service + timer pair and a cron line running
                  "tocsin-shim heartbeat" every heartbeats.every of tocsin.yaml.
  service-unit    A systemd unit running the pipeline (npm start) as a service
                  (tocsin service-unit --help).
  silence         add | list | expire silences (tocsin silence --help).
  watchers        heartbeat watchers: list, or forget one (tocsin watchers --help).
  alerts          what is firing now; history SUBJECT; ack ID; unack ID (tocsin alerts --help).
  config          check a tocsin.yaml, or show the routes, mutes and inhibitions an alert
                  would get (tocsin config --help).
  template        render: what a channel would be sent for an alert, templates applied
                  (tocsin template --help).
  help            This text.

Options:
  --url URL           tocsin API base URL (a trailing ${'/v1/ingest'} is dropped).
                      Default: $TOCSIN_URL, else ${DEFAULT_OPTIONS.url}
  --cluster NAME      cluster name. Default: $TOCSIN_CLUSTER, else "${DEFAULT_OPTIONS.cluster}"
  --shim-path PATH    where tocsin-shim is installed on the nodes (default ${DEFAULT_OPTIONS.shimPath})
  --shim-config PATH  the shim's JSON config file on the nodes (default ${DEFAULT_OPTIONS.shimConfig})
  --types LIST        comma-separated watch types (default: all of ${CONSUL_WATCH_TYPES.join(', ')})
  --format json|hcl   print only one Consul config file in that format, ready to save
                      under /etc/consul.d/ (default: everything, with comments)
  --handler script|http
                      with --format: which handler type (default script)
  --token TOKEN       bearer token for the http handler type (default the placeholder "${DEFAULT_OPTIONS.token}")
  --node NAME         http handler type: the node name this agent reports (an X-Tocsin-Node header)
  --service NAME      service (service watch) / service_id (agent_service) (default "${DEFAULT_OPTIONS.service}")
  --key KEY           key of the key watch (default "${DEFAULT_OPTIONS.key}")
  --prefix PREFIX     prefix of the keyprefix watch (default "${DEFAULT_OPTIONS.prefix}")

heartbeat-config options:
  --every DURATION    heartbeat period, e.g. 1m or 30 (seconds). Default: heartbeats.every
                      of the cluster in tocsin.yaml ($TOCSIN_CONFIG), else 1m
  --user NAME         the agent's user, who runs the heartbeat (default "consul")
  --agent NAME        the agent's systemd unit / process: heartbeats only while it runs
                      (default "consul"; "serf" for Serf; "none": no such guard)
`;

export class CliError extends Error {}

export interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

function options(values: Record<string, string | boolean | undefined>, env: NodeJS.ProcessEnv): AgentConfigOptions {
  const str = (name: string): string | undefined => {
    const v = values[name];
    if (v === '') throw new CliError(`--${name} needs a non-empty value`);
    return typeof v === 'string' ? v : undefined;
  };
  const url = str('url') ?? (env.TOCSIN_URL || DEFAULT_OPTIONS.url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`--url "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new CliError('--url must be an http:// or https:// URL');
  const cluster = str('cluster') ?? (env.TOCSIN_CLUSTER || DEFAULT_OPTIONS.cluster);
  if (!CLUSTER_NAME_PATTERN.test(cluster)) throw new CliError(`--cluster must be 1-63 letters, digits, ".", "_" or "-" (got "${cluster}")`);
  let types: readonly ConsulWatchType[] = DEFAULT_OPTIONS.types;
  const list = str('types');
  if (list !== undefined) {
    const wanted = list.split(',').map((t) => t.trim()).filter(Boolean);
    const unknown = wanted.filter((t) => !(CONSUL_WATCH_TYPES as readonly string[]).includes(t));
    if (unknown.length > 0 || wanted.length === 0) {
      throw new CliError(`--types: unknown watch type ${unknown.map((t) => `"${t}"`).join(', ') || '(none given)'}; known: ${CONSUL_WATCH_TYPES.join(', ')}`);
    }
    types = [...new Set(wanted)] as ConsulWatchType[];
  }
  return {
    url,
    cluster,
    types,
    shimPath: str('shim-path') ?? DEFAULT_OPTIONS.shimPath,
    shimConfig: str('shim-config') ?? DEFAULT_OPTIONS.shimConfig,
    token: str('token') ?? DEFAULT_OPTIONS.token,
    service: str('service') ?? DEFAULT_OPTIONS.service,
    key: str('key') ?? DEFAULT_OPTIONS.key,
    prefix: str('prefix') ?? DEFAULT_OPTIONS.prefix,
    ...(str('node') !== undefined ? { node: str('node') as string } : {}),
  };
}

/** --every, else the cluster's heartbeats.every in tocsin.yaml when there is one, else the default. */
function heartbeatEvery(flag: string | undefined, cluster: string, env: NodeJS.ProcessEnv): { every: number; everyFrom: string } {
  if (flag !== undefined) {
    const every = parseDuration(flag);
    if (every === undefined || every < 1) throw new CliError(`--every "${flag}" is not a duration (seconds, or e.g. 30s, 1m, 5m)`);
    return { every, everyFrom: '--every' };
  }
  // tocsin.yaml's reader (yaml, ajv, the channel registry) loads only here, not on every start.
  const { ConfigFileError, loadConfigFile, resolveConfigPath } = require('../lambdas/commons/config-file') as typeof import('../lambdas/commons/config-file');
  const file = resolveConfigPath(undefined, env);
  if (!existsSync(file)) return { every: heartbeatSettings(undefined, cluster).every, everyFrom: `the default; no ${file}` };
  try {
    const config = loadConfigFile(file);
    return { every: heartbeatSettings(config.runtime.heartbeats, cluster).every, everyFrom: `heartbeats of ${file}` };
  } catch (err) {
    if (err instanceof ConfigFileError) throw new CliError(err.message);
    throw err;
  }
}

export function runCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliOutput {
  const ok = (stdout: string): CliOutput => ({ code: 0, stdout, stderr: '' });
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        cluster: { type: 'string' },
        'shim-path': { type: 'string' },
        'shim-config': { type: 'string' },
        types: { type: 'string' },
        format: { type: 'string' },
        handler: { type: 'string' },
        token: { type: 'string' },
        node: { type: 'string' },
        service: { type: 'string' },
        key: { type: 'string' },
        prefix: { type: 'string' },
        every: { type: 'string' },
        user: { type: 'string' },
        agent: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    const [command, ...extra] = positionals;
    if (values.help || command === undefined || command === 'help') return ok(USAGE);
    if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
    const o = options(values, env);
    const format = values.format;
    if (format !== undefined && format !== 'json' && format !== 'hcl') throw new CliError('--format must be json or hcl');
    const handler = (values.handler ?? 'script') as HandlerKind;
    if (handler !== 'script' && handler !== 'http') throw new CliError('--handler must be script or http');
    if (values.handler !== undefined && format === undefined) throw new CliError('--handler needs --format json or hcl (without --format both handler types are printed)');
    switch (command) {
      case 'consul-config':
        if (format === 'json') return ok(consulJson(o, handler));
        if (format === 'hcl') return ok(consulHcl(o, handler));
        return ok(fullText(o));
      case 'serf-config':
        if (format !== undefined) throw new CliError('serf-config has no --format');
        return ok(serfSection(o));
      case 'heartbeat-config': {
        if (format !== undefined) throw new CliError('heartbeat-config has no --format');
        const { every, everyFrom } = heartbeatEvery(values.every, o.cluster, env);
        const name = (flag: string, fallback: string): string => {
          const v = values[flag as 'user' | 'agent'];
          if (v === undefined) return fallback;
          if (!/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/.test(v)) throw new CliError(`--${flag} "${v}" is not a user or unit name`);
          return v;
        };
        return ok(heartbeatConfigText({ cluster: o.cluster, shimPath: o.shimPath, shimConfig: o.shimConfig, every, everyFrom, user: name('user', 'consul'), agent: name('agent', 'consul') }));
      }
      default:
        throw new CliError(`unknown command "${command}"`);
    }
  } catch (err) {
    const message = err instanceof CliError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? (err as Error).message : String(err);
    return { code: 64, stdout: '', stderr: `tocsin: ${message}\n\n${USAGE}` };
  }
}

/** Run one command line (the arguments after `tocsin`) and set the exit code. */
export function main(argv: string[]): void {
  const command = argv[0] !== undefined && Object.prototype.hasOwnProperty.call(COMMANDS, argv[0]) ? COMMANDS[argv[0]] : undefined;
  if (command !== undefined) return command()(argv.slice(1));
  const out = runCli(argv);
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.code;
}

if (require.main === module) main(process.argv.slice(2));
