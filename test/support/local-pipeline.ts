/** `npm start` as a child process, the way an operator runs it; parsed from its stdout. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');

export interface LocalPipeline {
  /** The spawned process (with inProcess: the pipeline itself). */
  pid: number;
  url: string;
  cluster: string;
  key: string;
  dataDir: string;
  /** The runner's message bus (a LevelDB directory in the data dir). */
  busDir: string;
  /** Everything printed so far on stdout. */
  output(): string;
  /** Everything printed so far on stderr (the JSON request logs). */
  logs(): string;
  /** Stop it with `signal` (default SIGINT; SIGKILL: as `kill -9`, nothing flushed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * `inProcess` (default true): run main.ts in the spawned node process itself (`node --import
 * tsx`), not under the tsx CLI (which runs it in a child of its own), so that a signal,
 * SIGKILL included, reaches the pipeline as a terminal's Ctrl-C reaches `npm start`'s whole
 * process group. Under the tsx CLI a signal goes through tsx's relay, which SIGKILLs its child
 * (exit 130) when the child does not confirm the signal within 30 ms: on a loaded machine
 * that turned clean stops into failures. `inProcess: false` keeps the wrapper.
 */
export async function startLocalPipeline(opts: { args?: string[]; env?: Record<string, string>; dataDir?: string; inProcess?: boolean; root?: string; nodeArgs?: string[] } = {}): Promise<LocalPipeline> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'tocsin-e2e-'));
  // `root`: another checkout's pipeline (the bench compares two), with this one's tsx.
  // `nodeArgs` (with `inProcess`): node's own options, e.g. V8 flags NODE_OPTIONS refuses.
  const root = opts.root ?? ROOT;
  const args = [join(root, 'local', 'main.ts'), '--port', '0', '--data-dir', dataDir, ...(opts.args ?? [])];
  const inProcess = opts.inProcess ?? true;
  const child: ChildProcess = spawn(inProcess ? process.execPath : join(ROOT, 'node_modules', '.bin', 'tsx'), inProcess ? [...(opts.nodeArgs ?? []), '--import', 'tsx', ...args] : args, {
    cwd: root,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

  const deadline = Date.now() + 60000;
  while (!/^export TOCSIN_KEY=.*$/m.test(stdout)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`local pipeline did not become ready:\n${stdout}\n${stderr.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const grab = (re: RegExp): string => {
    const m = re.exec(stdout);
    if (!m?.[1]) throw new Error(`no ${re} in local pipeline output:\n${stdout}`);
    return m[1];
  };
  return {
    pid: child.pid as number,
    url: grab(/^export TOCSIN_URL=(\S+)$/m),
    cluster: grab(/^export TOCSIN_CLUSTER=(\S+)$/m),
    key: grab(/^export TOCSIN_KEY=(\S+)$/m),
    dataDir,
    busDir: grab(/^# message bus: (\S+)/m),
    output: () => stdout,
    logs: () => stderr,
    stop: async (signal: NodeJS.Signals = 'SIGINT') => {
      if (child.exitCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
