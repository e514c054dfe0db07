/** Harness for the agent-shim tests: build once, run the bundled binary, fake the ingest API. */
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HEADERS, LIMITS } from '../../lambdas/domain/protocol';
import { verify } from '../../lambdas/domain/signing';
import { projectWatchResult } from '../../lambdas/domain/consul/wire-form';
import type { Envelope } from '../../lambdas/domain/types';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SHIM = path.join(ROOT, 'agent-shim', 'dist', 'tocsin-shim.js');
export const KEY = 'test-cluster-key';
export const CLUSTER = 'prod-eu';

/** Build the bundle if it is missing or older than any source it is made from. */
export function ensureBuilt(): void {
  const srcDirs = [path.join(ROOT, 'agent-shim', 'src'), path.join(ROOT, 'lambdas', 'domain'), path.join(ROOT, 'lambdas', 'commons')];
  const built = fs.existsSync(SHIM) ? fs.statSync(SHIM).mtimeMs : 0;
  const newest = Math.max(
    fs.statSync(path.join(ROOT, 'agent-shim', 'build.mjs')).mtimeMs,
    ...srcDirs.flatMap((d) => fs.readdirSync(d).map((f) => fs.statSync(path.join(d, f)).mtimeMs)),
  );
  if (built < newest) execFileSync(process.execPath, [path.join(ROOT, 'agent-shim', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  /** Bytes as received (compressed if content-encoding: gzip). */
  raw: Buffer;
  /** Parsed envelope after any gunzip. */
  envelope: Envelope;
  /** Signature verdict computed like the API does. */
  signatureOk: boolean;
}

export type Reply = number | 'hang' | { status: number; body?: unknown; delayMs?: number; headers?: Record<string, string> };

export interface FakeApi {
  url: string;
  port: number;
  requests: Recorded[];
  /** Decide the answer per request (0-based request number). Default: 200. */
  reply: (n: number, req: Recorded) => Reply;
  close(): Promise<void>;
}

export async function startApi(): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const api: FakeApi = {
    url: '',
    port: 0,
    requests,
    reply: () => 200,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const plain = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const rec: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        envelope: JSON.parse(plain.toString('utf8')) as Envelope,
        signatureOk:
          verify({
            key: KEY,
            method: req.method ?? '',
            path: new URL(req.url ?? '/', 'http://x').pathname,
            timestamp: req.headers[HEADERS.timestamp] as string | undefined,
            signature: req.headers[HEADERS.signature] as string | undefined,
            body: raw,
            nowSeconds: Math.floor(Date.now() / 1000),
            windowSeconds: LIMITS.signatureWindowSeconds,
          }).ok === true,
      };
      const n = requests.length;
      requests.push(rec);
      const reply = api.reply(n, rec);
      if (reply === 'hang') return;
      const r = typeof reply === 'number' ? { status: reply } : reply;
      const send = (): void => {
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
        res.end(JSON.stringify(r.body ?? (r.status < 300 ? { ok: true } : { error: `status ${r.status}` })));
      };
      if (r.delayMs) setTimeout(send, r.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  api.port = (server.address() as AddressInfo).port;
  api.url = `http://127.0.0.1:${api.port}/v1/ingest`;
  return api;
}

/** A port with nothing listening (connection refused). */
export async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  args?: string[];
  env?: Record<string, string | undefined>;
  stdin?: Buffer | string;
  /** Leave stdin open (never end it). */
  holdStdin?: boolean;
  /** Run as this uid/gid (tests running as root use it to play an unprivileged agent user). */
  uid?: number;
  gid?: number;
  /** Called with stdout so far, as it arrives. */
  onStdout?: (soFar: string) => void;
  /** Kill the child after this long (test safety net only). */
  killAfterMs?: number;
}

/** Run the built shim with a clean environment (nothing inherited but PATH/HOME). */
export function runShim(opts: RunOptions = {}): Promise<RunResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SHIM, ...(opts.args ?? [])], { env, stdio: ['pipe', 'pipe', 'pipe'], uid: opts.uid, gid: opts.gid });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => {
      out.push(c);
      opts.onStdout?.(Buffer.concat(out).toString('utf8'));
    });
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.stdin.on('error', () => undefined);
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 30000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      if (opts.holdStdin) child.stdin.destroy();
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started });
    });
    if (opts.stdin !== undefined) child.stdin.write(opts.stdin);
    if (!opts.holdStdin) child.stdin.end();
  });
}

export function tempDir(prefix = 'tocsin-shim-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Queued envelope files in a spool dir, oldest first. */
export function queued(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((n) => n.endsWith('.json')).sort();
}

export function readJson<T = Envelope>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Environment of a Consul watch handler pointed at `url`. */
export function consulEnv(url: string, spoolDir: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { TOCSIN_URL: url, TOCSIN_CLUSTER: CLUSTER, TOCSIN_KEY: KEY, TOCSIN_SPOOL_DIR: spoolDir, CONSUL_INDEX: '42', ...extra };
}

/** The body the shim sends for a Consul watch result of a type with a compact form (wire-form.ts, agent-shim compact.ts). */
export function compactBody(type: string, stdin: string): string {
  return JSON.stringify(projectWatchResult(type, JSON.parse(stdin)));
}

/** A `checks` watch payload like Consul's json.NewEncoder output: one compact line + "\n". */
export function checksSnapshot(n: number): string {
  const checks = [];
  for (let i = 0; i < n; i++) {
    checks.push({
      Node: `node-${i % 50}`,
      CheckID: `service:web-${i}`,
      Name: `Service 'web-${i}' check`,
      Status: i % 7 === 0 ? 'critical' : 'passing',
      Notes: '',
      Output: `HTTP GET http://10.0.${i % 250}.${i % 200}:8080/health: 200 OK Output: ok \u003cbody\u003e`,
      ServiceID: `web-${i}`,
      ServiceName: 'web',
      ServiceTags: ['v1', 'blue'],
      Type: 'http',
      ExposedPort: 0,
      Definition: { Interval: '10s', Timeout: '5s' },
      CreateIndex: 100 + i,
      ModifyIndex: 200 + i,
    });
  }
  return JSON.stringify(checks) + '\n';
}

/** Seed a spool with queued envelopes carrying distinct, ordered names. */
export function seedSpool(dir: string, bodies: string[], startMs = Date.now() - 60_000): string[] {
  fs.mkdirSync(dir, { recursive: true });
  return bodies.map((body, i) => {
    const name = `${String(startMs + i * 1000).padStart(13, '0')}-${1000 + i}-${(0xabc0 + i).toString(16)}.json`;
    const env: Envelope = {
      v: 1,
      cluster: CLUSTER,
      source: 'consul',
      type: 'checks',
      scope: 'checks',
      node: 'seed-node',
      index: String(10 + i),
      sentAt: new Date(startMs + i * 1000).toISOString(),
      body,
      bodyEncoding: 'utf8',
    };
    fs.writeFileSync(path.join(dir, name), JSON.stringify(env) + '\n');
    return name;
  });
}
