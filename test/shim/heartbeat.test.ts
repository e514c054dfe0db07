/**
 * `tocsin-shim heartbeat`, the built bundle as a child process against a fake API: one
 * signed tocsin/heartbeat envelope, then the spool flushed; never spooled itself, and a
 * heartbeat that does not get through is a loud line and a non-zero exit.
 */
import * as os from 'node:os';
import { CLUSTER, KEY, deadPort, ensureBuilt, queued, runShim, seedSpool, startApi, tempDir, type FakeApi } from './helpers';

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

const env = (spool: string, extra: Record<string, string | undefined> = {}) => ({ TOCSIN_URL: api.url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spool, ...extra });

describe('tocsin-shim heartbeat', () => {
  it('sends one signed tocsin/heartbeat envelope with an empty body, without reading stdin (a timer gives none)', async () => {
    const r = await runShim({ args: ['heartbeat'], env: env(tempDir(), { TOCSIN_NODE: 'web-3' }), holdStdin: true });
    expect({ code: r.code, stderr: r.stderr, stdout: r.stdout }).toEqual({ code: 0, stderr: '', stdout: '' });
    expect(api.requests).toHaveLength(1);
    const [req] = api.requests;
    expect(req!.signatureOk).toBe(true);
    expect(req!.url).toBe('/v1/ingest');
    expect(req!.envelope).toEqual({ v: 1, cluster: CLUSTER, source: 'tocsin', type: 'heartbeat', node: 'web-3', index: null, sentAt: expect.any(String), body: '', bodyEncoding: 'utf8' });
  });

  it('reports the host name unless a node is configured', async () => {
    await runShim({ args: ['heartbeat'], env: env(tempDir()) });
    expect(api.requests[0]!.envelope.node).toBe(os.hostname());
  });

  it('then flushes the spool, oldest first, so one timer serves both', async () => {
    const spool = tempDir();
    seedSpool(spool, ['[]', '[]']);
    const r = await runShim({ args: ['heartbeat'], env: env(spool, { TOCSIN_NODE: 'web-3' }) });
    expect(r.code).toBe(0);
    expect(api.requests.map((q) => `${q.envelope.source}/${q.envelope.type} ${q.envelope.index ?? ''}`)).toEqual(['tocsin/heartbeat ', 'consul/checks 10', 'consul/checks 11']);
    expect(queued(spool)).toEqual([]);
    expect(r.stderr).toContain('resent 2 spooled envelopes');
  });

  it('API unreachable: exit 75 and a loud line; the heartbeat is not spooled and the spool is left as it was', async () => {
    const spool = tempDir();
    const seeded = seedSpool(spool, ['[]']);
    const r = await runShim({ args: ['heartbeat'], env: env(spool, { TOCSIN_NODE: 'web-3', TOCSIN_URL: `http://127.0.0.1:${await deadPort()}/v1/ingest`, TOCSIN_TIMEOUT_MS: '2000' }) });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/^tocsin-shim: error: heartbeat of web-3 NOT delivered \(.*ECONNREFUSED.*\); not spooled/m);
    expect(queued(spool)).toEqual(seeded);
  });

  it('5xx: 75; refused credentials: 77 with the hint; refused otherwise: 65; nothing spooled', async () => {
    const spool = tempDir();
    for (const [status, code, text] of [
      [503, 75, 'NOT delivered (HTTP 503'],
      [401, 77, "check TOCSIN_KEY, TOCSIN_CLUSTER and this host's clock"],
      [422, 65, 'the API refused the heartbeat of web-3 (HTTP 422'],
    ] as const) {
      api.reply = () => status;
      const r = await runShim({ args: ['heartbeat'], env: env(spool, { TOCSIN_NODE: 'web-3' }) });
      expect({ status, code: r.code }).toEqual({ status, code });
      expect(r.stderr).toContain(text);
    }
    expect(queued(spool)).toEqual([]);
  });

  it('takes no --watch or --scope (64); --help describes it', async () => {
    const r = await runShim({ args: ['heartbeat', '--watch', 'checks'], env: env(tempDir()) });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('heartbeat takes no --watch or --scope');
    expect(api.requests).toHaveLength(0);
    expect((await runShim({ args: ['--help'] })).stdout).toContain('tocsin-shim heartbeat [--config FILE] [--timeout-ms N]');
  });
});
