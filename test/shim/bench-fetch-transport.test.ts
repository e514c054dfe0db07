/**
 * Bench figure 1's fetch variant of the shim (bench/shim/fetch-transport.ts swapped in for
 * agent-shim/src/transport.ts by bench/shim/build-variant.ts) keeps up with the real
 * transport: it builds with the shim's own esbuild options, offers every export of the real
 * module (checked by tsc below and at run time), never requires node:http(s) itself, and
 * behaves as the shipped shim against the real ingest handler - a clock corrected from the
 * Date header, an unknown key held in the spool (exit 69).
 */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as realTransport from '../../agent-shim/src/transport';
import * as fetchTransport from '../../bench/shim/fetch-transport';
import { CLOCK_SKEW, LIMITS, UNKNOWN_KEY } from '../../lambdas/domain/protocol';
import { createHttpServer } from '../../local/http-server';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { ingestHarness, type Harness } from '../support/ingest-harness';
import { CLUSTER, KEY, ROOT, queued, tempDir } from './helpers';

// Compile-time half of the check (`npx tsc -p .`): the stand-in offers the real module's
// exports with types the shim's imports accept.
const sameExports: typeof realTransport = fetchTransport;

const SKEW_MS = 400_000;

interface Api {
  url: string;
  harness: Harness;
  answers: Array<{ status: number; error?: unknown }>;
  close(): Promise<void>;
}

/** The real ingest handler behind the local HTTP server, on a clock `skewMs` off. */
async function startApi(keys: Record<string, string>, skewMs = 0): Promise<Api> {
  const clock = { nowMs: () => Date.now() + skewMs };
  const harness = ingestHarness({ keys, clock });
  const answers: Api['answers'] = [];
  const server: Server = createHttpServer(
    async (req) => {
      const res = await harness.handle(req);
      answers.push({ status: res.status, error: res.body.error });
      return res;
    },
    LIMITS.maxWireBytes,
    clock,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ingest`,
    harness,
    answers,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

let bundle: string;
let preload: string;

beforeAll(() => {
  // As `npm run bench` builds it (in a child: build-options.mjs is ESM, which jest cannot load).
  bundle = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'tsx'), [path.join(ROOT, 'bench', 'shim', 'build-variant.ts')], { cwd: ROOT, encoding: 'utf8' }).trim();
  // Records every node:http(s) the process's own code requires (Node's fetch loads http
  // internally; that is not a require).
  preload = path.join(tempDir('tocsin-fetch-variant-'), 'http-requires.cjs');
  fs.writeFileSync(
    preload,
    `const Module = require('node:module');
     const load = Module.prototype.require;
     const seen = new Set();
     Module.prototype.require = function (id) { if (/^(node:)?https?$/.test(id)) seen.add(id); return load.apply(this, arguments); };
     process.on('exit', () => process.stdout.write(JSON.stringify({ httpRequires: [...seen] })));`,
  );
}, 60_000);

/** One `checks` run of the fetch variant: check `id` critical at ModifyIndex `index`. */
function run(url: string, spool: string, id: string, index: number): Promise<{ code: number | null; stderr: string; httpRequires: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', preload, bundle, '--watch', 'checks', '--scope', id], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TOCSIN_URL: url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spool, TOCSIN_NODE: 'web-1', CONSUL_INDEX: String(index) },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const marker = out.lastIndexOf('{"httpRequires"');
      resolve({ code, stderr: err, httpRequires: marker < 0 ? ['(preload did not report)'] : (JSON.parse(out.slice(marker)) as { httpRequires: string[] }).httpRequires });
    });
    child.stdin.end(goJsonLine([healthCheck({ CheckID: id, Status: 'critical', Output: `${id} is critical`, ModifyIndex: index })]));
  });
}

it('offers every export of the real transport', () => {
  expect(Object.keys(sameExports).sort()).toEqual(Object.keys(realTransport).sort());
  expect(fetchTransport.Transport.prototype).toBeInstanceOf(realTransport.Transport);
});

it('delivers with a clock 400 s ahead, corrected from the Date header, without requiring node:http', async () => {
  const api = await startApi({ [CLUSTER]: KEY }, -SKEW_MS);
  try {
    const spool = tempDir();
    const r = await run(api.url, spool, 'fetch-skew', 20);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/the API's clock is 4\d\d s behind this host's \(its Date header\)/);
    expect(api.answers.map((a) => [a.status, a.error])).toEqual([
      [401, CLOCK_SKEW.error],
      [200, undefined],
    ]);
    expect(api.harness.sns.published.map((a) => [a.check, a.to])).toEqual([['fetch-skew', 'critical']]);
    expect(queued(path.join(spool, 'rejected'))).toEqual([]);
    expect(r.httpRequires).toEqual([]);
  } finally {
    await api.close();
  }
});

it('holds an envelope signed with a key the API does not hold yet (exit 69, kept in the spool)', async () => {
  const api = await startApi({ [CLUSTER]: 'another-key' });
  try {
    const spool = tempDir();
    const r = await run(api.url, spool, 'fetch-unknown-key', 30);
    expect(api.answers.map((a) => [a.status, a.error])).toEqual([[401, UNKNOWN_KEY.error]]);
    expect(r.code).toBe(69);
    expect(queued(spool)).toHaveLength(1);
    expect(queued(path.join(spool, 'rejected'))).toEqual([]);
  } finally {
    await api.close();
  }
});
