import { CLUSTER, KEY, ensureBuilt, queued, readJson, runShim, startApi, tempDir, type FakeApi } from './helpers';
import * as path from 'node:path';
import { parseEnvelope } from '../../lambdas/domain/envelope';
import { LIMITS } from '../../lambdas/domain/protocol';

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

function serfEnv(spoolDir: string, extra: Record<string, string | undefined>, url = api.url): Record<string, string | undefined> {
  return { TOCSIN_URL: url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spoolDir, SERF_SELF_NAME: 'serf-a', SERF_SELF_ROLE: 'web', ...extra };
}

describe('Serf event handler', () => {
  it('detects Serf from SERF_EVENT and forwards member lines verbatim with SERF_* env', async () => {
    const stdin = 'serf-b\t10.0.0.2\tweb\trole=web,dc=eu\nserf-c\t10.0.0.3\t\t\n';
    const r = await runShim({
      env: serfEnv(tempDir(), { SERF_EVENT: 'member-join', SERF_TAG_ROLE: 'web', SERF_TAG_KEY: 'tag-named-key', SERF_RPC_AUTH: 'rpc-secret' }),
      stdin,
    });
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const req = api.requests[0];
    expect(req.signatureOk).toBe(true);
    expect(req.envelope).toMatchObject({ source: 'serf', type: 'member-join', scope: 'member-join', node: 'serf-a', index: null, body: stdin, bodyEncoding: 'utf8' });
    expect(req.envelope.env).toEqual({
      SERF_EVENT: 'member-join',
      SERF_SELF_NAME: 'serf-a',
      SERF_SELF_ROLE: 'web',
      SERF_TAG_KEY: 'tag-named-key',
      SERF_TAG_ROLE: 'web',
    });
  });

  it('sends a binary user payload as base64 with the LTime as index', async () => {
    const payload = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const r = await runShim({ env: serfEnv(tempDir(), { SERF_EVENT: 'user', SERF_USER_EVENT: 'deploy', SERF_USER_LTIME: '9007199254740993' }), stdin: payload });
    expect(r.code).toBe(0);
    const e = api.requests[0].envelope;
    expect(e).toMatchObject({ type: 'user', index: '9007199254740993', bodyEncoding: 'base64' });
    expect(Buffer.from(e.body, 'base64').equals(payload)).toBe(true);
    expect(e.env?.SERF_USER_EVENT).toBe('deploy');
  });

  it('sends an empty user payload as an empty UTF-8 body', async () => {
    const r = await runShim({ env: serfEnv(tempDir(), { SERF_EVENT: 'user', SERF_USER_EVENT: 'ping', SERF_USER_LTIME: '3' }) });
    expect(r.code).toBe(0);
    expect(api.requests[0].envelope).toMatchObject({ body: '', bodyEncoding: 'utf8', index: '3' });
  });

  it('TOCSIN_NODE overrides SERF_SELF_NAME', async () => {
    await runShim({ env: serfEnv(tempDir(), { SERF_EVENT: 'member-leave', TOCSIN_NODE: 'override' }), stdin: 'x\t1.2.3.4\t\t\n' });
    expect(api.requests[0].envelope.node).toBe('override');
  });
});

describe('Serf queries', () => {
  const queryEnv = (spool: string, url?: string): Record<string, string | undefined> =>
    serfEnv(spool, { SERF_EVENT: 'query', SERF_QUERY_NAME: 'tocsin-ping', SERF_QUERY_LTIME: '77' }, url);

  it('acknowledges on stdout, prints nothing else and forwards the query', async () => {
    const r = await runShim({ env: queryEnv(tempDir()), stdin: 'payload' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('tocsin: ack tocsin-ping ltime=77\n');
    expect(r.stderr).toBe('');
    expect(api.requests[0].envelope).toMatchObject({ type: 'query', index: '77', body: 'payload' });
  });

  it('acks before the POST and stays silent and under 2 s when the API hangs, spooling the query', async () => {
    let ackSeenWhilePending = false;
    let stdoutSoFar = '';
    api.reply = () => {
      // The POST is now pending: the ack must already be (or be about to be) on stdout.
      const poll = setInterval(() => {
        if (stdoutSoFar.includes('tocsin: ack')) ackSeenWhilePending = true;
      }, 20);
      setTimeout(() => clearInterval(poll), 1000);
      return 'hang';
    };
    const spool = tempDir();
    const r = await runShim({ env: { ...queryEnv(spool), TOCSIN_TIMEOUT_MS: '10000' }, stdin: 'payload', onStdout: (s) => (stdoutSoFar = s) });
    expect(ackSeenWhilePending).toBe(true);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('tocsin: ack tocsin-ping ltime=77\n');
    expect(r.stderr).toBe('');
    expect(Buffer.byteLength(r.stdout + r.stderr)).toBeLessThan(1024);
    // Budget is min(timeout, 2000 ms); allow generous start-up slack on a loaded machine.
    expect(r.ms).toBeLessThan(2000 + 2500);
    const files = queued(spool);
    expect(files).toHaveLength(1);
    expect(readJson(path.join(spool, files[0]))).toMatchObject({ type: 'query', body: 'payload' });
  });

  it('does not flush older envelopes on the query path', async () => {
    api.reply = () => 500;
    const spool = tempDir();
    await runShim({ args: ['--watch', 'checks'], env: { ...queryEnv(spool), CONSUL_INDEX: '1' }, stdin: '[]' });
    expect(queued(spool)).toHaveLength(1);
    api.requests.length = 0;
    api.reply = () => 200;
    const r = await runShim({ env: queryEnv(spool), stdin: 'q' });
    expect(r.code).toBe(0);
    expect(api.requests.map((q) => q.envelope.type)).toEqual(['query']);
    expect(queued(spool)).toHaveLength(1);
  });

  it('forwards a name as long as Serf allows (user_event_size_limit up to 9 KB), in an envelope the API accepts', async () => {
    const name = `deploy-${'é'.repeat(2000)}-${'x'.repeat(LIMITS.maxSerfEventNameBytes - 4000 - 8)}`;
    expect(Buffer.byteLength(name)).toBe(LIMITS.maxSerfEventNameBytes);
    const r = await runShim({ env: serfEnv(tempDir(), { SERF_EVENT: 'user', SERF_USER_EVENT: name, SERF_USER_LTIME: '12' }), stdin: '' });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const sent = api.requests[0]!.envelope;
    expect(sent.env?.SERF_USER_EVENT).toBe(name);
    expect(parseEnvelope(JSON.parse(JSON.stringify(sent))).env?.SERF_USER_EVENT).toBe(name);
  });

  it('keeps the total output under 1024 bytes even with a huge query name and a failure', async () => {
    api.reply = () => ({ status: 400, body: { error: 'invalid envelope', message: 'x'.repeat(5000) } });
    const r = await runShim({ env: { ...queryEnv(tempDir()), SERF_QUERY_NAME: 'q'.repeat(600) }, stdin: 'p' });
    expect(r.code).toBe(65);
    expect(Buffer.byteLength(r.stdout + r.stderr)).toBeLessThan(1024);
    expect(r.stdout.startsWith('tocsin: ack q')).toBe(true);
  });
});
