/**
 * CPU time a process has used, from Linux's /proc: all its threads, and its main thread
 * (the event loop that serves the API) alone. CPU time per event does not depend on what
 * else the machine runs, unlike events per second, so it is what a change is judged by on
 * a shared machine. Elsewhere (no /proc) nothing is measured.
 */
import { readFileSync } from 'node:fs';

export interface ProcCpu {
  /** ms of CPU, all threads (event loop, workers, libuv's pool, V8's GC and compiler threads). */
  allMs: number;
  /** ms of CPU of the main thread. */
  mainMs: number;
}

/** utime + stime of a /proc stat file, in ms (clock ticks of 10 ms: USER_HZ is 100 on Linux). */
function statMs(path: string): number {
  const stat = readFileSync(path, 'utf8');
  // Fields after the command name (which may hold spaces), from field 3 (state) on.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function procCpu(pid: number | undefined): ProcCpu | undefined {
  if (pid === undefined) return undefined;
  try {
    return { allMs: statMs(`/proc/${pid}/stat`), mainMs: statMs(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

export function cpuSince(pid: number | undefined, before: ProcCpu | undefined): ProcCpu | undefined {
  const now = procCpu(pid);
  return now && before ? { allMs: now.allMs - before.allMs, mainMs: now.mainMs - before.mainMs } : undefined;
}
