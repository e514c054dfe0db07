/**
 * The operator CLI as users run it: bin/run-cli.cjs and the bundle it loads
 * (bin/dist/tocsin-cli.cjs, bin/cli-build.cjs), not the TypeScript sources through tsx.
 */
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const RUN_CLI = join(ROOT, 'bin', 'run-cli.cjs');
export const CLI_BUILD = join(ROOT, 'bin', 'cli-build.cjs');
export const CLI_BUNDLE = join(ROOT, 'bin', 'dist', 'tocsin-cli.cjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Build the bundle unless it matches the sources. Before a test's first run, so that
 * run-cli.cjs's own rebuild (and its note on stderr) cannot happen inside a test.
 */
export function ensureCliBuilt(): void {
  try {
    execFileSync(process.execPath, [CLI_BUILD, '--check'], { cwd: ROOT, stdio: 'pipe' });
  } catch {
    execFileSync(process.execPath, [CLI_BUILD], { cwd: ROOT, stdio: 'pipe' });
  }
}

/** The bundle's exports (runCli, USAGE, ...), for in-process tests of the built code. */
export function builtCli(): typeof import('../../bin/tocsin-cli') {
  ensureCliBuilt();
  return require(CLI_BUNDLE) as typeof import('../../bin/tocsin-cli');
}

/** `tocsin ARGS` in a child process: bin/run-cli.cjs, as `npx tocsin` runs it. */
export function runTocsin(args: string[], env: NodeJS.ProcessEnv = process.env, runCli = RUN_CLI): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [runCli, ...args], { cwd: ROOT, env }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
