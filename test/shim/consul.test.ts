import * as os from 'node:os';
import { HEADERS } from '../../lambdas/domain/protocol';
import { CLUSTER, checksSnapshot, compactBody, consulEnv, ensureBuilt, queued, runShim, startApi, tempDir, type FakeApi } from './helpers';

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

describe('Consul watch handler', () => {
  it('POSTs a signed envelope with the watch type, exact CONSUL_INDEX string and the watch result in its compact form', async () => {
    const spool = tempDir();
    const stdin = '[{"CheckID":"serfHealth","Status":"passing","Output":"Agent alive \\u003cok\\u003e"}]\n';
    const r = await runShim({
      args: ['--watch', 'checks'],
      env: consulEnv(api.url, spool, { CONSUL_INDEX: '18446744073709551615', CONSUL_HTTP_TOKEN: 'secret-token', CONSUL_HTTP_ADDR: '127.0.0.1:8500' }),
      stdin,
    });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    expect(api.requests).toHaveLength(1);
    const req = api.requests[0];
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/ingest');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers[HEADERS.cluster]).toBe(CLUSTER);
    expect(req.headers[HEADERS.timestamp]).toMatch(/^\d{10}$/);
    expect(Math.abs(Number(req.headers[HEADERS.timestamp]) - Date.now() / 1000)).toBeLessThan(60);
    expect(req.headers['content-encoding']).toBeUndefined();
    expect(req.signatureOk).toBe(true);
    const e = req.envelope;
    expect(e).toMatchObject({
      v: 1,
      cluster: CLUSTER,
      source: 'consul',
      type: 'checks',
      scope: 'checks',
      node: os.hostname(),
      index: '18446744073709551615',
      body: compactBody('checks', stdin),
      bodyEncoding: 'utf8',
      form: 'projected',
    });
    expect(Date.now() - Date.parse(e.sentAt)).toBeLessThan(60_000);
    // CONSUL_* is forwarded, but never anything that looks like a credential.
    expect(e.env).toEqual({ CONSUL_INDEX: '18446744073709551615', CONSUL_HTTP_ADDR: '127.0.0.1:8500' });
    expect(queued(spool)).toEqual([]);
  });

  it('forwards non-ASCII UTF-8 verbatim as text, also past the first 64 KB read (a watch type without a compact form)', async () => {
    const stdin = `{"knödel-1":["Grüße ✓ ${'x'.repeat(70_000)} 日本"]}\n`;
    const r = await runShim({ args: ['--watch', 'services'], env: consulEnv(api.url, tempDir()), stdin });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests[0]?.envelope).toMatchObject({ body: stdin, bodyEncoding: 'utf8' });
  });

  it('uses --scope, TOCSIN_NODE, and sends null for the "no data" key watch', async () => {
    const r = await runShim({
      args: ['--watch=key', '--scope', 'feature-flags'],
      env: consulEnv(api.url, tempDir(), { TOCSIN_NODE: 'consul-node-7', CONSUL_INDEX: undefined }),
      stdin: 'null\n',
    });
    expect(r.code).toBe(0);
    expect(api.requests[0].envelope).toMatchObject({ type: 'key', scope: 'feature-flags', node: 'consul-node-7', index: null, body: 'null', form: 'projected' });
    expect(api.requests[0].envelope.env).toBeUndefined();
  });

  it('signs over the pathname only when TOCSIN_URL carries a query string', async () => {
    const r = await runShim({ args: ['--watch', 'services'], env: consulEnv(`${api.url}?src=shim`, tempDir()), stdin: '{}\n' });
    expect(r.code).toBe(0);
    expect(api.requests[0].url).toBe('/v1/ingest?src=shim');
    expect(api.requests[0].signatureOk).toBe(true);
  });

  it('gzips a large snapshot (2,000 checks) and signs the compressed bytes', async () => {
    const stdin = checksSnapshot(2000);
    expect(stdin.length).toBeGreaterThan(500_000);
    const r = await runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, tempDir()), stdin });
    expect(r.code).toBe(0);
    const req = api.requests[0];
    expect(req.headers['content-encoding']).toBe('gzip');
    expect(Number(req.headers['content-length'])).toBe(req.raw.length);
    expect(req.raw.length).toBeLessThan(stdin.length / 4);
    expect(req.signatureOk).toBe(true);
    expect(req.envelope.body).toBe(compactBody('checks', stdin));
  });

  it('keeps small bodies uncompressed', async () => {
    await runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, tempDir()), stdin: checksSnapshot(3) });
    expect(api.requests[0].headers['content-encoding']).toBeUndefined();
  });

  it('fails with a clear usage error when neither --watch nor SERF_EVENT is present', async () => {
    const r = await runShim({ env: consulEnv(api.url, tempDir()), stdin: '[]\n' });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^tocsin-shim: .*--watch/);
    expect(api.requests).toHaveLength(0);
  });

  it('rejects an unknown watch type', async () => {
    const r = await runShim({ args: ['--watch', 'connect_roots'], env: consulEnv(api.url, tempDir()), stdin: '[]\n' });
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('unknown Consul watch type "connect_roots"');
  });

  it('an explicit --watch wins over a stray SERF_EVENT', async () => {
    const r = await runShim({ args: ['--watch', 'nodes'], env: consulEnv(api.url, tempDir(), { SERF_EVENT: 'member-join' }), stdin: '[]\n' });
    expect(r.code).toBe(0);
    expect(api.requests[0].envelope).toMatchObject({ source: 'consul', type: 'nodes', index: '42' });
  });

  it('gives up on an stdin that is never closed, within the time bound', async () => {
    const r = await runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, tempDir(), { TOCSIN_TIMEOUT_MS: '1000' }), holdStdin: true });
    expect(r.code).toBe(66);
    expect(r.stderr).toContain('stdin was not closed');
    expect(r.ms).toBeLessThan(1000 + 4000);
    expect(api.requests).toHaveLength(0);
  });
});
