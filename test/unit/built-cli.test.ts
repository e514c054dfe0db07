/**
 * The CLI users run (`npx tocsin`, `npm run tocsin`): bin/run-cli.cjs loading the esbuild
 * bundle. It must never run code older than the sources (an edit, a git pull, a checkout),
 * must start without loading what the command does not use, and must start quietly.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CLI_BUNDLE, ensureCliBuilt, ROOT, RUN_CLI, runTocsin } from '../support/built-cli';

/** Only what the CLI is built from; node_modules shared. */
function copyOfTheSources(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-build-'));
  for (const entry of ['bin', 'lambdas', 'channels', 'local', 'schema', 'package.json', 'tsconfig.json']) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, filter: (src) => !src.includes(`${join('bin', 'dist')}`) });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const check = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin', 'cli-build.cjs'), '--check'], { encoding: 'utf8' });

describe('the built CLI', () => {
  let copy: string;
  beforeAll(() => {
    copy = copyOfTheSources();
    ensureCliBuilt();
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('is built on its first run and rebuilt whenever a source it is made from changes, naming the file', async () => {
    const run = (...args: string[]) => runTocsin(args, { PATH: process.env.PATH }, join(copy, 'bin', 'run-cli.cjs'));

    const first = await run('--help');
    expect(first).toMatchObject({ code: 0, stderr: 'tocsin: built the CLI first (bin/dist/tocsin-cli.cjs is missing or has no build record)\n' });
    expect(first.stdout).toMatch(/^Usage: tocsin <command>/);
    expect(check(copy).status).toBe(0);
    expect(await run('--help')).toEqual({ ...first, stderr: '' });

    // A module the entry imports only through another one.
    const file = join(copy, 'bin', 'cli', 'heartbeat-config.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('# tocsin heartbeats for cluster', '# EDITED tocsin heartbeats for cluster'));
    const stale = check(copy);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toBe('tocsin CLI bundle is stale: changed since the CLI was built: bin/cli/heartbeat-config.ts\n');
    const edited = await run('heartbeat-config', '--every', '1m');
    expect(edited.stderr).toBe('tocsin: built the CLI first (changed since the CLI was built: bin/cli/heartbeat-config.ts)\n');
    expect(edited.stdout).toContain('# EDITED tocsin heartbeats for cluster "default"');
    expect(check(copy).status).toBe(0);
  });

  it('reads no source whose stat is unchanged, and tells a write by its ctime even with size and mtime put back', () => {
    const build = require(join(ROOT, 'bin', 'cli-build.cjs')) as {
      RACY_MS: number;
      statKey(file: string): { key: string; changedMs: number } | undefined;
      filesToHash(record: { inputs: string[]; stats: Record<string, { key: string; takenAtMs: number }> }): string[];
    };
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-stat-'));
    try {
      const path = join(dir, 'source.ts');
      writeFileSync(path, 'export const a = 1;\n');
      // A whole second, which utimes can put back exactly.
      utimesSync(path, 1_700_000_000, 1_700_000_000);
      const file = relative(ROOT, path);
      const statAt = (takenAtMs: number) => ({ inputs: [file], stats: { [file]: { key: build.statKey(file)!.key, takenAtMs } } });
      // Stat taken well after the file's last write: trusted, the file is not read.
      const record = statAt(build.statKey(file)!.changedMs + build.RACY_MS + 1);
      expect(build.filesToHash(record)).toEqual([]);
      // Taken within RACY_MS of the write: a coarse clock could hide a later write, so it is hashed.
      expect(build.filesToHash(statAt(build.statKey(file)!.changedMs + 1))).toEqual([file]);
      // Past the file system's timestamp tick (a jiffy): a write within it is the racy case above.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
      writeFileSync(path, 'export const b = 2;\n');
      utimesSync(path, 1_700_000_000, 1_700_000_000);
      expect(statSync(path).size).toBe('export const a = 1;\n'.length);
      expect(statSync(path).mtimeMs).toBe(1_700_000_000_000);
      expect(build.filesToHash(record)).toEqual([file]);
      expect(build.filesToHash({ inputs: [file], stats: {} })).toEqual([file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to run old code when the sources do not build: the build error, exit 70', async () => {
    const run = (...args: string[]) => runTocsin(args, { PATH: process.env.PATH }, join(copy, 'bin', 'run-cli.cjs'));
    const file = join(copy, 'lambdas', 'domain', 'rules', 'duration.ts');
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, `${before}\nexport const broken = ;\n`);
    const out = await run('--help');
    expect(out.code).toBe(70);
    expect(out.stdout).toBe('');
    expect(out.stderr).toMatch(/^tocsin: the CLI needs a build \(changed since the CLI was built: lambdas\/domain\/rules\/duration\.ts\), which failed:\nlambdas\/domain\/rules\/duration\.ts:\d+:\d+: .+\n$/);
    writeFileSync(file, before);
    expect(await run('--help')).toMatchObject({ code: 0, stderr: '' });
  });

  it('--help loads no npm package; heartbeat-config loads yaml and ajv for tocsin.yaml but not the AWS SDK', () => {
    const loaded = (argv: string[]) => {
      const script = `const cli = require(${JSON.stringify(CLI_BUNDLE)}); cli.runCli(${JSON.stringify(argv)}, { TOCSIN_CONFIG: ${JSON.stringify(join(ROOT, 'tocsin.yaml'))} });
        const packages = Object.keys(require.cache).filter((f) => f.includes('/node_modules/')).map((f) => f.split('/node_modules/').pop().split('/').slice(0, 2).join('/'));
        process.stdout.write(JSON.stringify([...new Set(packages.map((p) => (p.startsWith('@') ? p : p.split('/')[0])))].sort()));`;
      return JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
    };
    expect(loaded(['--help'])).toEqual([]);
    const heartbeat = loaded(['heartbeat-config']);
    expect(heartbeat).toEqual(expect.arrayContaining(['yaml', 'ajv']));
    expect(heartbeat.filter((p) => p.startsWith('@aws-sdk/') || p.startsWith('@smithy/'))).toEqual([]);
  });

  it('starts quietly: nothing on stderr for --help and for heartbeat-config reading tocsin.yaml', async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TOCSIN_CONFIG: join(ROOT, 'tocsin.yaml') };
    expect(await runTocsin(['--help'], env)).toMatchObject({ code: 0, stderr: '' });
    const hb = await runTocsin(['heartbeat-config'], env);
    expect(hb).toMatchObject({ code: 0, stderr: '' });
    expect(hb.stdout).toContain(`(heartbeats of ${join(ROOT, 'tocsin.yaml')})`);
    expect(RUN_CLI).toBe(join(ROOT, JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).bin.tocsin as string));
  });
});
