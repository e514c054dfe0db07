import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LIMITS } from '../../lambdas/domain/protocol';
import type { Envelope } from '../../lambdas/domain/types';
import { CLUSTER, consulEnv, deadPort, ensureBuilt, queued, readJson, runShim, seedSpool, startApi, tempDir, type FakeApi } from './helpers';

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

const checks = (spool: string, stdin: string, extra: Record<string, string | undefined> = {}, args: string[] = []) =>
  runShim({ args: ['--watch', 'checks', ...args], env: consulEnv(api.url, spool, extra), stdin });

describe('retryable failures are spooled', () => {
  it.each([500, 503, 429])('HTTP %i: spools the unsigned envelope, notes it on stderr, exits 0', async (status) => {
    api.reply = () => ({ status, body: { error: 'try later' } });
    const spool = tempDir();
    const r = await checks(spool, '[{"CheckID":"a"}]\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^tocsin-shim: could not deliver .*HTTP ${status}.*try later.*spooled as ${spool}/\\d{13}-\\d+-[0-9a-f]+\\.json \\(1 queued\\)`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const files = queued(spool);
    expect(files).toHaveLength(1);
    const stored = readJson(path.join(spool, files[0]));
    expect(stored).toEqual(api.requests[0].envelope);
    expect(JSON.stringify(stored)).not.toContain('v1=');
    // Atomic write leaves no temp files behind; files are private.
    expect(fs.readdirSync(spool).filter((n) => n.startsWith('.tmp-'))).toEqual([]);
    expect(fs.statSync(path.join(spool, files[0])).mode & 0o077).toBe(0);
  });

  it('connection refused: spools and exits 0', async () => {
    const spool = tempDir();
    const url = `http://127.0.0.1:${await deadPort()}/v1/ingest`;
    const r = await runShim({ args: ['--watch', 'checks'], env: consulEnv(url, spool), stdin: '[]\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(queued(spool)).toHaveLength(1);
  });

  it('a hanging API: gives up within the time bound and spools', async () => {
    api.reply = () => 'hang';
    const spool = tempDir();
    const r = await checks(spool, '[]\n', { TOCSIN_TIMEOUT_MS: '1500' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no answer within the time bound');
    // Bounded: the budget plus generous process start-up slack for a loaded CI box.
    expect(r.ms).toBeLessThan(1500 + 2500);
    expect(queued(spool)).toHaveLength(1);
  });

  it('--timeout-ms overrides TOCSIN_TIMEOUT_MS', async () => {
    api.reply = () => 'hang';
    const r = await checks(tempDir(), '[]\n', { TOCSIN_TIMEOUT_MS: '60000' }, ['--timeout-ms', '800']);
    expect(r.code).toBe(0);
    expect(r.ms).toBeLessThan(800 + 2500);
  });
});

describe('draining the spool', () => {
  it('the next invocation resends spooled envelopes oldest first, re-signed, then the current one', async () => {
    const spool = tempDir();
    // Seeded with names out of creation order to prove ordering is by file name.
    const names = seedSpool(spool, ['first', 'second', 'third']);
    fs.utimesSync(path.join(spool, names[0]), new Date(), new Date());
    const seededSentAt = readJson(path.join(spool, names[0])).sentAt;
    const r = await checks(spool, 'current');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tocsin-shim: resent 3 spooled envelopes\n');
    expect(api.requests.map((q) => q.envelope.body)).toEqual(['first', 'second', 'third', 'current']);
    expect(api.requests.every((q) => q.signatureOk)).toBe(true);
    // The original handler time is kept; only the signature is fresh.
    expect(api.requests[0].envelope.sentAt).toBe(seededSentAt);
    expect(queued(spool)).toEqual([]);
  });

  it('stops at the first retryable failure, keeps order, and queues the current one behind', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['first', 'second', 'third']);
    api.reply = (n) => (n === 0 ? 200 : 503);
    const r = await checks(spool, 'current');
    expect(r.code).toBe(0);
    expect(api.requests.map((q) => q.envelope.body)).toEqual(['first', 'second']);
    const left = queued(spool);
    expect(left.slice(0, 2)).toEqual(names.slice(1));
    expect(left).toHaveLength(3);
    expect(readJson(path.join(spool, left[2])).body).toBe('current');
    expect(r.stderr).toContain('older envelopes are still queued');
  });

  it('flush subcommand sends everything oldest first and exits 0', async () => {
    const spool = tempDir();
    seedSpool(spool, ['a', 'b', 'c', 'd']);
    const r = await runShim({ args: ['flush'], env: consulEnv(api.url, spool) });
    expect(r.code).toBe(0);
    expect(api.requests.map((q) => q.envelope.body)).toEqual(['a', 'b', 'c', 'd']);
    expect(api.requests.every((q) => q.signatureOk)).toBe(true);
    expect(r.stderr).toContain('flush: sent 4, rejected 0, 0 still queued');
    expect(queued(spool)).toEqual([]);
  });

  it('flush with an empty or missing spool is silent', async () => {
    const r = await runShim({ args: ['flush'], env: consulEnv(api.url, path.join(tempDir(), 'does-not-exist')) });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(api.requests).toHaveLength(0);
  });

  it('flush against a failing API stops after one attempt, keeps everything and exits 75', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['a', 'b']);
    api.reply = () => 500;
    const r = await runShim({ args: ['flush'], env: consulEnv(api.url, spool) });
    expect(r.code).toBe(75);
    expect(api.requests).toHaveLength(1);
    expect(queued(spool)).toEqual(names);
    expect(r.stderr).toContain('2 still queued');
  });

  it('flush honours the time bound when the API hangs', async () => {
    const spool = tempDir();
    seedSpool(spool, ['a']);
    api.reply = () => 'hang';
    const r = await runShim({ args: ['flush', '--timeout-ms', '1000'], env: consulEnv(api.url, spool) });
    expect(r.code).toBe(75);
    expect(r.ms).toBeLessThan(1000 + 2500);
    expect(queued(spool)).toHaveLength(1);
  });

  it('concurrent invocations do not send the same spooled file twice', async () => {
    const spool = tempDir();
    seedSpool(spool, ['a', 'b', 'c', 'd', 'e', 'f']);
    api.reply = () => ({ status: 200, delayMs: 100 });
    const runs = await Promise.all([checks(spool, 'x1'), checks(spool, 'x2'), checks(spool, 'x3')]);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const bodies = api.requests.map((q) => q.envelope.body);
    expect(bodies.filter((b) => b.length === 1).sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(new Set(bodies).size).toBe(bodies.length);
    expect(queued(spool)).toEqual([]);
  });

  it('a corrupt spool file is moved to rejected/ and does not block the rest', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['a', 'b']);
    fs.writeFileSync(path.join(spool, names[0]), '{"v":1,"clus');
    const r = await runShim({ args: ['flush'], env: consulEnv(api.url, spool) });
    expect(r.code).toBe(65);
    expect(api.requests.map((q) => q.envelope.body)).toEqual(['b']);
    expect(fs.existsSync(path.join(spool, 'rejected', names[0]))).toBe(true);
    expect(r.stderr).toContain('unusable spool file');
  });
});

describe('non-retryable rejections', () => {
  it('400: prints the API reason, stores the envelope in rejected/ and exits 65', async () => {
    api.reply = () => ({ status: 400, body: { error: 'invalid envelope', message: 'envelope.type is not a watch or event type' } });
    const spool = tempDir();
    const r = await checks(spool, '[]\n');
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/^tocsin-shim: error: the API rejected the consul checks envelope \(HTTP 400 Bad Request: invalid envelope: envelope\.type is not a watch or event type\); saved as /);
    expect(queued(spool)).toEqual([]);
    const rejected = queued(path.join(spool, 'rejected'));
    expect(rejected).toHaveLength(1);
    expect(readJson<Envelope>(path.join(spool, 'rejected', rejected[0])).type).toBe('checks');
    expect(fs.readFileSync(path.join(spool, 'rejected', rejected[0].replace('.json', '.reason.txt')), 'utf8')).toContain('HTTP 400');
    expect(api.requests).toHaveLength(1);
  });

  it('an envelope over the API limit on the wire (gzipped) is rejected locally without uploading it; each watch keeps one such copy', async () => {
    const spool = tempDir();
    // Random bytes as base64 gzip to ~76 %: 6 MB of them stay over 4 MiB sent.
    const big = JSON.stringify(crypto.randomBytes(4_600_000).toString('base64'));
    const r = await checks(spool, big);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`over the API limit of ${LIMITS.maxWireBytes} bytes on the wire`);
    expect(api.requests).toHaveLength(0);
    // The next run of the same watch is refused alike and replaces the copy: a watch over the
    // limit does not fill the spool's caps with copies of itself.
    expect((await checks(spool, big)).code).toBe(65);
    expect(queued(path.join(spool, 'rejected'))).toEqual([`too-large+${CLUSTER}+consul+checks+checks.json`]);
    expect(fs.readFileSync(path.join(spool, 'rejected', `too-large+${CLUSTER}+consul+checks+checks.reason.txt`), 'utf8')).toContain('bytes on the wire');
  });

  it('an envelope over the API limit of plain JSON is rejected locally, however well it compresses', async () => {
    const spool = tempDir();
    const r = await checks(spool, JSON.stringify('z'.repeat(LIMITS.maxInflatedBytes)));
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`over the API limit of ${LIMITS.maxInflatedBytes} bytes of JSON`);
    expect(api.requests).toHaveLength(0);
  });

  it('a compressible envelope over the old 6 MiB plain limit is sent gzipped', async () => {
    const r = await checks(tempDir(), JSON.stringify('z'.repeat(7 * 1024 * 1024)));
    expect(r.code).toBe(0);
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]!.headers['content-encoding']).toBe('gzip');
    expect(api.requests[0]!.raw.length).toBeLessThan(LIMITS.maxWireBytes);
  });

  it('caps a long API reason at ~500 characters', async () => {
    api.reply = () => ({ status: 422, body: { error: 'unprocessable', message: 'y'.repeat(5000) } });
    const r = await checks(tempDir(), '[]\n');
    expect(r.code).toBe(65);
    expect(r.stderr.length).toBeLessThan(1200);
    expect(r.stderr).toContain('…');
  });

  it('401: exits 77 with a hint about key, cluster and clock', async () => {
    api.reply = () => ({ status: 401, body: { error: 'signature mismatch' } });
    const spool = tempDir();
    const r = await checks(spool, '[]\n');
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('signature mismatch');
    expect(r.stderr).toContain('TOCSIN_KEY');
    expect(queued(path.join(spool, 'rejected'))).toHaveLength(1);
  });

  it('a 4xx while flushing moves only that file aside and continues', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['a', 'bad', 'c']);
    api.reply = (_n, req) => (req.envelope.body === 'bad' ? { status: 413, body: { error: 'too large' } } : 200);
    const r = await checks(spool, 'current');
    expect(r.code).toBe(65);
    expect(api.requests.map((q) => q.envelope.body)).toEqual(['a', 'bad', 'c', 'current']);
    expect(queued(path.join(spool, 'rejected'))).toEqual([names[1]]);
    expect(queued(spool)).toEqual([]);
    expect(r.stderr).toContain('too large');
  });

  it('a 401 while flushing stops: the rest and the current envelope stay queued', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['a', 'b']);
    api.reply = () => ({ status: 403, body: { error: 'forbidden' } });
    const r = await checks(spool, 'current');
    expect(r.code).toBe(77);
    expect(api.requests).toHaveLength(1);
    expect(queued(path.join(spool, 'rejected'))).toEqual([names[0]]);
    const left = queued(spool);
    expect(left[0]).toBe(names[1]);
    expect(readJson(path.join(spool, left[1])).body).toBe('current');
  });
});

describe('spool caps', () => {
  it('when the file cap is reached: clear error, exit 75, nothing deleted', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['a', 'b']);
    const before = names.map((n) => fs.readFileSync(path.join(spool, n), 'utf8'));
    api.reply = () => 503;
    const r = await checks(spool, 'current', { TOCSIN_SPOOL_MAX_FILES: '2' });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/NOT delivered .* and NOT spooled: spool .* is full \(2 files/);
    expect(r.stderr).toContain('TOCSIN_SPOOL_MAX_FILES');
    expect(queued(spool)).toEqual(names);
    expect(names.map((n) => fs.readFileSync(path.join(spool, n), 'utf8'))).toEqual(before);
  });

  it('when the byte cap would be exceeded: exit 75, nothing deleted', async () => {
    const spool = tempDir();
    const names = seedSpool(spool, ['x'.repeat(2000)]);
    api.reply = () => 500;
    const r = await checks(spool, 'y'.repeat(2000), { TOCSIN_SPOOL_MAX_BYTES: '3000' });
    expect(r.code).toBe(75);
    expect(r.stderr).toContain('is full');
    expect(queued(spool)).toEqual(names);
  });

  it('an unwritable spool directory is reported and exits 75', async () => {
    const base = tempDir();
    const file = path.join(base, 'not-a-dir');
    fs.writeFileSync(file, '');
    api.reply = () => 500;
    const r = await checks(path.join(file, 'spool'), '[]\n');
    expect(r.code).toBe(75);
    expect(r.stderr).toContain('NOT spooled');
  });
});
