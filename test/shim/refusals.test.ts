/**
 * Refusals that can pass are not losses (issue 11, section 3). The built shim as a child
 * process against the real ingest handler (strict in-memory ports) served by the local HTTP
 * server, whose clock and keys the tests set:
 * - a clock off by 400 s corrects itself from the API's Date header: delivered once, never
 *   in rejected/, and later runs sign right at once;
 * - a key the API does not hold yet (a key rotation) stays spooled, exit 69, and is delivered
 *   once the cluster's secret lists it;
 * - a truly bad signature (a known key, bytes changed on the way) still goes to rejected/.
 */
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { createHttpServer } from '../../local/http-server';
import { CLOCK_SKEW, HEADERS, LIMITS, UNKNOWN_KEY } from '../../lambdas/domain/protocol';
import { keyId } from '../../lambdas/domain/signing';
import { classify } from '../../agent-shim/src/transport';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { ingestHarness, type Harness } from '../support/ingest-harness';
import { CLUSTER, KEY, ensureBuilt, queued, runShim, startApi, tempDir, type FakeApi } from './helpers';

const SKEW_MS = 400_000;
const NEW_KEY = 'the-new-cluster-key-after-rotation';

interface RealApi {
  url: string;
  harness: Harness;
  /** The cluster secrets the API holds; change them to rotate. */
  keys: Record<string, string>;
  /** Every answer: status, error code, and the key id the request named. */
  answers: Array<{ status: number; error?: unknown; keyId?: string }>;
  close(): Promise<void>;
}

/** The real ingest handler on a clock `skewMs` off the real one; `rewritePath` plays a proxy. */
async function startRealApi(opts: { skewMs?: number; rewritePath?: (p: string) => string } = {}): Promise<RealApi> {
  const keys: Record<string, string> = { [CLUSTER]: KEY };
  const clock = { nowMs: () => Date.now() + (opts.skewMs ?? 0) };
  const harness = ingestHarness({ keys, clock });
  const answers: RealApi['answers'] = [];
  const server: Server = createHttpServer(
    async (req) => {
      const res = await harness.handle(opts.rewritePath ? { ...req, path: opts.rewritePath(req.path) } : req);
      answers.push({ status: res.status, error: res.body.error, keyId: req.headers[HEADERS.keyId] });
      return res;
    },
    LIMITS.maxWireBytes,
    clock,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/ingest`,
    harness,
    keys,
    answers,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One `checks` watch invocation: check `id` with `status` at ModifyIndex `index`. */
function checksRun(url: string, spool: string, id: string, status: string, index: number, extra: Record<string, string> = {}) {
  return runShim({
    args: ['--watch', 'checks', '--scope', id],
    env: { TOCSIN_URL: url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spool, TOCSIN_NODE: 'web-1', CONSUL_INDEX: String(index), ...extra },
    stdin: goJsonLine([healthCheck({ CheckID: id, Status: status, Output: `${id} is ${status}`, ModifyIndex: index })]),
  });
}

const rejected = (spool: string) => queued(path.join(spool, 'rejected'));
const clockFile = (spool: string) => path.join(spool, 'state', 'clock.json');

beforeAll(() => ensureBuilt(), 60_000);

describe('classify: which refusals can pass', () => {
  const body = (error: string, message = 'm') => Buffer.from(JSON.stringify({ error, message }));
  it('clock_skew and unknown_key are held (kept in the spool); other 401s and 4xx are refused for good', () => {
    expect(classify(401, 'Unauthorized', body(CLOCK_SKEW.error))).toMatchObject({ kind: 'held', code: CLOCK_SKEW.error });
    expect(classify(401, 'Unauthorized', body(UNKNOWN_KEY.error))).toMatchObject({ kind: 'held', code: UNKNOWN_KEY.error });
    expect(classify(401, 'Unauthorized', body('unauthenticated', 'signature mismatch'))).toMatchObject({ kind: 'rejected', auth: true });
    expect(classify(401, 'Unauthorized', body('unauthenticated', 'unknown cluster'))).toMatchObject({ kind: 'rejected', auth: true });
    // The code must come with its status: a 400 naming it is still bad input.
    expect(classify(400, 'Bad Request', body(CLOCK_SKEW.error))).toMatchObject({ kind: 'rejected', auth: false });
  });
});

describe('a node whose clock is 400 s ahead of the API', () => {
  let api: RealApi;
  beforeAll(async () => {
    api = await startRealApi({ skewMs: -SKEW_MS });
  });
  afterAll(() => api.close());

  it('is delivered once, with no rejected/ file: corrected from the Date header, signed again in the same run', async () => {
    const spool = tempDir();
    const run = await checksRun(api.url, spool, 'skew-a', 'critical', 20);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/the API's clock is 4\d\d s behind this host's \(its Date header\); signing with the API's time, kept in .*clock\.json - check NTP/);
    expect(api.answers.map((a) => [a.status, a.error])).toEqual([
      [401, CLOCK_SKEW.error],
      [200, undefined],
    ]);
    expect(api.harness.sns.published.map((a) => [a.check, a.to])).toEqual([['skew-a', 'critical']]);
    expect(queued(spool)).toEqual([]);
    expect(rejected(spool)).toEqual([]);
    const saved = JSON.parse(fs.readFileSync(clockFile(spool), 'utf8')) as { offsetMs: number };
    expect(Math.abs(saved.offsetMs + SKEW_MS)).toBeLessThan(3000);
  });

  it('later runs sign with the remembered offset: no refusal, nothing printed; the recovery is delivered once', async () => {
    const spool = tempDir();
    await checksRun(api.url, spool, 'skew-b', 'critical', 30);
    const before = api.answers.length;
    const published = api.harness.sns.published.length;
    const run = await checksRun(api.url, spool, 'skew-b', 'passing', 31);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(api.answers.slice(before).map((a) => a.status)).toEqual([200]);
    expect(api.harness.sns.published.slice(published).map((a) => [a.check, a.state])).toEqual([['skew-b', 'resolved']]);
    expect(rejected(spool)).toEqual([]);
  });

  it('spooled envelopes are resent with the corrected clock too: one refusal for the whole flush', async () => {
    const spool = tempDir();
    // Queued while the API was down.
    const down = `http://127.0.0.1:9/v1/ingest`;
    expect((await checksRun(down, spool, 'skew-c', 'critical', 40)).code).toBe(0);
    expect((await checksRun(down, spool, 'skew-d', 'critical', 41)).code).toBe(0);
    expect(queued(spool)).toHaveLength(2);
    const before = api.answers.length;
    const published = api.harness.sns.published.length;
    const run = await checksRun(api.url, spool, 'skew-e', 'critical', 42);
    expect(run.code).toBe(0);
    expect(api.answers.slice(before).map((a) => a.status)).toEqual([401, 200, 200, 200]);
    expect(api.harness.sns.published.slice(published).map((a) => a.check)).toEqual(['skew-c', 'skew-d', 'skew-e']);
    expect(queued(spool)).toEqual([]);
    expect(rejected(spool)).toEqual([]);
  });

  it('a clock put right again is noticed from the next answer and the offset dropped', async () => {
    const spool = tempDir();
    fs.mkdirSync(path.join(spool, 'state'), { recursive: true });
    // An offset remembered from a time the API's clock was ahead; the host is now right.
    const real = await startRealApi();
    try {
      fs.writeFileSync(clockFile(spool), JSON.stringify({ offsetMs: SKEW_MS }));
      const run = await checksRun(real.url, spool, 'fixed', 'critical', 50);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/this host's clock agrees with the API's again \(the API's was 400 s ahead of it\)/);
      expect(real.answers.map((a) => [a.status, a.error])).toEqual([
        [401, CLOCK_SKEW.error],
        [200, undefined],
      ]);
      expect(fs.existsSync(clockFile(spool))).toBe(false);
    } finally {
      await real.close();
    }
  });
});

describe('a clock the Date header cannot correct', () => {
  let fake: FakeApi;
  beforeAll(async () => {
    fake = await startApi();
  });
  afterAll(() => fake.close());

  it('stays in the spool with an error line and exit 69, one retry per run at most; delivered once the API accepts', async () => {
    // A proxy answering with its own Date, 1000 s ahead of the clock that refuses.
    const ahead = () => new Date(Date.now() + 1_000_000).toUTCString();
    fake.reply = () => ({ status: 401, body: { error: CLOCK_SKEW.error, message: CLOCK_SKEW.message }, headers: { date: ahead() } });
    const spool = tempDir();
    const first = await checksRun(fake.url, spool, 'c', 'critical', 60);
    expect(first.code).toBe(69);
    expect(fake.requests).toHaveLength(2); // refused, corrected, refused again: no further attempt
    expect(first.stderr).toMatch(/^tocsin-shim: error: could not deliver the consul checks \(c\) envelope \(the API refused it for now: HTTP 401 Unauthorized: clock_skew: .* \(even signed with the API's time: off by (?:999|1000|1001) s from this host's clock\)\) - this host's clock is off and the API's Date header did not correct it; check NTP; spooled as /m);
    expect(queued(spool)).toHaveLength(1);
    expect(rejected(spool)).toEqual([]);

    // Next run: signs with the remembered offset; refused once (the Date agrees), the new
    // envelope queues behind the old one; `flush` says the same and exits 69 too.
    const second = await checksRun(fake.url, spool, 'c', 'passing', 61);
    expect(second.code).toBe(69);
    expect(fake.requests).toHaveLength(3);
    expect(second.stderr).toContain('the API refused the oldest spooled envelope for now');
    expect(queued(spool)).toHaveLength(2);
    const flush = await runShim({ args: ['flush'], env: { TOCSIN_URL: fake.url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spool } });
    expect(flush.code).toBe(69);
    expect(flush.stderr).toMatch(/^tocsin-shim: error: flush: sent 0, rejected 0, 2 still queued in .* - the API refused the oldest for now: HTTP 401/);

    fake.reply = () => 200;
    const sentBefore = fake.requests.length;
    const flushed = await runShim({ args: ['flush'], env: { TOCSIN_URL: fake.url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spool } });
    expect(flushed.code).toBe(0);
    expect(fake.requests.slice(sentBefore).map((r) => JSON.parse(r.envelope.body)[0].Status)).toEqual(['critical', 'passing']);
    expect(queued(spool)).toEqual([]);
    expect(rejected(spool)).toEqual([]);
  });
});

describe('a key rotation', () => {
  let api: RealApi;
  beforeAll(async () => {
    api = await startRealApi();
  });
  afterAll(() => api.close());

  it('a node given the new key before the API holds it keeps its envelopes (exit 69) and delivers them, once, when the key is known', async () => {
    const spool = tempDir();
    const rotated = { TOCSIN_KEY: NEW_KEY };
    const first = await checksRun(api.url, spool, 'rot', 'critical', 70, rotated);
    expect(first.code).toBe(69);
    expect(first.stderr).toMatch(/error: could not deliver .*unknown_key.* - the API lacks this node's TOCSIN_KEY: in a key rotation, it is delivered once the cluster's secret lists this key; else fix TOCSIN_KEY; spooled as /);
    expect(api.answers.map((a) => [a.status, a.error, a.keyId])).toEqual([[401, UNKNOWN_KEY.error, keyId(NEW_KEY)]]);
    const second = await checksRun(api.url, spool, 'rot', 'passing', 71, rotated);
    expect(second.code).toBe(69);
    expect(api.answers).toHaveLength(2); // the flush stopped at the first: one request per run
    expect(queued(spool)).toHaveLength(2);
    expect(rejected(spool)).toEqual([]);
    expect(api.harness.sns.published).toEqual([]);

    // The operator puts the new key first in the cluster's secret, the old one still valid.
    api.keys[CLUSTER] = `${NEW_KEY}\n${KEY}`;
    const flushed = await runShim({ args: ['flush'], env: { TOCSIN_URL: api.url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: NEW_KEY, TOCSIN_SPOOL_DIR: spool } });
    expect(flushed.code).toBe(0);
    expect(api.harness.sns.published.map((a) => [a.check, a.state])).toEqual([
      ['rot', 'firing'],
      ['rot', 'resolved'],
    ]);
    expect(queued(spool)).toEqual([]);
    expect(rejected(spool)).toEqual([]);
    // Nodes not yet given the new key go on delivering; TOCSIN_KEY as stored (both keys) signs with the first.
    expect((await checksRun(api.url, tempDir(), 'rot-old', 'critical', 72)).code).toBe(0);
    expect((await checksRun(api.url, tempDir(), 'rot-both', 'critical', 73, { TOCSIN_KEY: `${NEW_KEY} ${KEY}` })).code).toBe(0);
    expect(api.answers.slice(-2).map((a) => [a.status, a.keyId])).toEqual([
      [200, keyId(KEY)],
      [200, keyId(NEW_KEY)],
    ]);
    expect(api.harness.sns.published).toHaveLength(4);
  });
});

describe('a truly bad signature', () => {
  it('(the key is known, the bytes changed on the way) still goes to rejected/ with exit 77', async () => {
    // A proxy that strips a path prefix: the shim signed /prefix/v1/ingest, the API checks /v1/ingest.
    const api = await startRealApi({ rewritePath: (p) => p.replace(/^\/prefix/, '') });
    try {
      const spool = tempDir();
      const run = await checksRun(api.url.replace('/v1/ingest', '/prefix/v1/ingest'), spool, 'bad', 'critical', 80);
      expect(run.code).toBe(77);
      expect(run.stderr).toContain('HTTP 401 Unauthorized: unauthenticated: signature mismatch');
      // The request named the key the API holds: it knew this was no rotation.
      expect(api.answers).toEqual([{ status: 401, error: 'unauthenticated', keyId: keyId(KEY) }]);
      expect(rejected(spool)).toHaveLength(1);
      expect(queued(spool)).toEqual([]);
      expect(api.harness.sns.published).toEqual([]);
    } finally {
      await api.close();
    }
  });
});
