/** Plain argv parsing: the flags are few and node:util's parseArgs buys nothing here. */

export class UsageError extends Error {}

export interface CliArgs {
  command: 'event' | 'flush' | 'heartbeat';
  help: boolean;
  version: boolean;
  watch?: string;
  scope?: string;
  config?: string;
  timeoutMs?: string;
}

const VALUE_FLAGS = {
  '--watch': 'watch',
  '--scope': 'scope',
  '--config': 'config',
  '--timeout-ms': 'timeoutMs',
} as const;
type ValueFlag = keyof typeof VALUE_FLAGS;

export function parseArgs(argv: readonly string[]): CliArgs {
  const out: CliArgs = { command: 'event', help: false, version: false };
  let sawCommand = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      out.help = true;
      continue;
    }
    if (arg === '--version' || arg === '-V') {
      out.version = true;
      continue;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg : arg.slice(0, eq);
      if (!(name in VALUE_FLAGS)) throw new UsageError(`unknown option ${name} (see --help)`);
      let value: string | undefined;
      if (eq !== -1) value = arg.slice(eq + 1);
      else {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`${name} needs a value`);
      }
      if (value === '') throw new UsageError(`${name} needs a non-empty value`);
      out[VALUE_FLAGS[name as ValueFlag]] = value;
      continue;
    }
    if ((arg === 'flush' || arg === 'heartbeat') && !sawCommand) {
      out.command = arg;
      sawCommand = true;
      continue;
    }
    throw new UsageError(`unexpected argument "${arg}" (see --help)`);
  }
  if (out.command === 'heartbeat' && (out.watch !== undefined || out.scope !== undefined)) {
    throw new UsageError('heartbeat takes no --watch or --scope: it reports the node, not a watch');
  }
  return out;
}
