/** Small statistics and timing helpers. */
import { spawn } from 'node:child_process';

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export const nowMs = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Exec {
  code: number | null;
  ms: number;
  /** performance-clock ms at spawn and at exit. */
  startedAt: number;
  exitedAt: number;
  stderr: string;
  /** Phase marks (ms since the child's start) when run with `trace`. */
  marks?: Record<string, number>;
}

/** Wall time of one child process, from spawn to exit, with `stdin` piped in. */
export function timeExec(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string | Buffer; cwd?: string; /** preload that writes JSON marks to fd 3 */ trace?: string } = {},
): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const startedAt = nowMs();
    const child = spawn(cmd, opts.trace ? ['-r', opts.trace, ...args] : args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    let marks = '';
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (marks += c.toString('utf8')));
    child.stdin?.on('error', () => undefined);
    child.on('error', reject);
    child.on('exit', (code) => {
      const exitedAt = nowMs();
      // stderr may still be draining: give it the next tick.
      setImmediate(() =>
        resolve({
          code,
          ms: exitedAt - startedAt,
          startedAt,
          exitedAt,
          stderr: Buffer.concat(err).toString('utf8'),
          ...(marks ? { marks: JSON.parse(marks) as Record<string, number> } : {}),
        }),
      );
    });
    if (opts.stdin !== undefined) child.stdin?.end(opts.stdin);
    else child.stdin?.end();
  });
}

/**
 * Runs the variants interleaved (A,B,C,A,B,C...) `rounds` times, so that machine noise
 * hits all of them alike; returns the samples per variant.
 */
export async function interleave<K extends string>(rounds: number, variants: Record<K, () => Promise<number>>): Promise<Record<K, number[]>> {
  const keys = Object.keys(variants) as K[];
  const out = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    // Rotate the start so no variant always runs right after the same other one.
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + r) % keys.length] as K;
      out[k].push(await variants[k]());
    }
  }
  return out;
}

/** CPU time (user + system) of `fn`, in ms. */
export async function cpuMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
