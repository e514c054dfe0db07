import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLUSTER, KEY, ensureBuilt, runShim, startApi, tempDir, type FakeApi } from './helpers';

let api: FakeApi;
beforeAll(async () => {
  ensureBuilt();
  api = await startApi();
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
  api.reply = () => 200;
});

function writeConfig(obj: unknown): string {
  const file = path.join(tempDir(), 'tocsin.json');
  fs.writeFileSync(file, typeof obj === 'string' ? obj : JSON.stringify(obj), { mode: 0o600 });
  return file;
}

describe('command line', () => {
  it('--help explains flags, environment and exit codes, exit 0', async () => {
    const r = await runShim({ args: ['--help'] });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    for (const word of ['--watch', '--scope', '--config', '--timeout-ms', 'flush', 'TOCSIN_URL', 'TOCSIN_CLUSTER', 'TOCSIN_KEY', 'TOCSIN_NODE', 'TOCSIN_TIMEOUT_MS', 'TOCSIN_SPOOL_DIR', 'TOCSIN_SPOOL_MAX_BYTES', 'TOCSIN_SPOOL_MAX_FILES', 'TOCSIN_SCOPE', '/var/spool/tocsin', 'rejected/', 'EXIT CODES', ' 75 ', ' 78 ', 'checks']) {
      expect(r.stdout).toContain(word);
    }
  });

  it('--version prints the package version', async () => {
    const r = await runShim({ args: ['--version'] });
    expect(r.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout).toBe(`tocsin-shim ${pkg.version}\n`);
  });

  it('the bundle is one executable file with a node shebang and no dependencies', () => {
    const file = path.join(__dirname, '..', '..', 'agent-shim', 'dist', 'tocsin-shim.js');
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o755);
    const required = [...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]);
    expect(required.every((m) => m.startsWith('node:'))).toBe(true);
    // Start-up cost: never fetch/undici, zlib and https only lazily.
    expect(text).not.toMatch(/\bfetch\(/);
  });

  it('unknown options are usage errors (64)', async () => {
    const r = await runShim({ args: ['--wacth', 'checks'] });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('tocsin-shim: error: unknown option --wacth');
  });
});

describe('configuration', () => {
  it('missing TOCSIN_URL exits 78 and names the variable', async () => {
    const r = await runShim({ args: ['--watch', 'checks'], env: { TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY }, stdin: '[]' });
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/^tocsin-shim: error: configuration: missing TOCSIN_URL\b/);
    expect(api.requests).toHaveLength(0);
  });

  it('names every missing variable', async () => {
    const r = await runShim({ args: ['flush'], env: {} });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('missing TOCSIN_URL, TOCSIN_CLUSTER, TOCSIN_KEY');
  });

  it.each([
    [{ TOCSIN_URL: 'not a url' }, 'TOCSIN_URL is not a valid URL'],
    [{ TOCSIN_URL: 'ftp://x/v1/ingest' }, 'TOCSIN_URL must be an http:// or https:// URL'],
    [{ TOCSIN_TIMEOUT_MS: '5s' }, 'TOCSIN_TIMEOUT_MS must be a positive integer'],
    [{ TOCSIN_CLUSTER: 'bad cluster' }, 'TOCSIN_CLUSTER must be 1-63'],
    [{ TOCSIN_SPOOL_MAX_FILES: '0' }, 'TOCSIN_SPOOL_MAX_FILES must be a positive integer'],
  ])('invalid value %j exits 78', async (bad, message) => {
    const r = await runShim({ args: ['--watch', 'checks'], env: { TOCSIN_URL: api.url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: tempDir(), ...bad }, stdin: '[]' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(message);
  });

  it('reads everything from a --config file', async () => {
    const spool = tempDir();
    const file = writeConfig({ url: api.url, cluster: CLUSTER, key: KEY, node: 'from-file', timeoutMs: 3000, spoolDir: spool });
    const r = await runShim({ args: ['--watch', 'checks', '--config', file], env: { CONSUL_INDEX: '5' }, stdin: '[]\n' });
    expect(r.code).toBe(0);
    expect(api.requests[0].signatureOk).toBe(true);
    expect(api.requests[0].envelope).toMatchObject({ node: 'from-file', cluster: CLUSTER, index: '5' });
  });

  it('environment overrides the config file', async () => {
    const file = writeConfig({ url: 'http://127.0.0.1:1/unused', cluster: 'other', key: 'wrong', node: 'from-file', spoolDir: tempDir() });
    const r = await runShim({ args: ['--watch', 'checks', '--config', file], env: { TOCSIN_URL: api.url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY }, stdin: '[]\n' });
    expect(r.code).toBe(0);
    expect(api.requests[0].signatureOk).toBe(true);
    expect(api.requests[0].envelope).toMatchObject({ node: 'from-file', cluster: CLUSTER });
  });

  it.each([
    ['{"url": ', 'is not valid JSON'],
    [{ url: 'http://x', cluster: 'c', key: 'k', timeout: 5 }, 'unknown key "timeout"'],
    [[1, 2], 'must hold a JSON object'],
  ])('a bad config file %j exits 78', async (content, message) => {
    const r = await runShim({ args: ['--watch', 'checks', '--config', writeConfig(content)], stdin: '[]' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain(message);
  });

  it('a missing config file exits 78', async () => {
    const r = await runShim({ args: ['flush', '--config', '/nonexistent/tocsin.json'] });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('cannot read config file /nonexistent/tocsin.json');
  });
});
