/**
 * `npm start`'s footprint on the machine, the way an operator meets it: which sockets it
 * listens on (read from /proc), --host and HTTPS (--tls-cert/--tls-key) with the bundled
 * shim as the client, --quiet, and a bad TLS pair refused before anything starts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { ROOT, startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { isLoopbackAddress, listeningSockets, procAddress } from '../support/listening-sockets';

const hasProc = existsSync('/proc/self/net/tcp');

/** One Consul agent's checks watch: passing, then critical (one alert). */
async function passingThenCritical(p: LocalPipeline, env: Record<string, string> = {}): Promise<Array<{ code: number | null; stderr: string }>> {
  const spool = tempDir('tocsin-footprint-spool-');
  const snapshot = (status: string, index: number) => goJsonLine([healthCheck({ Node: 'web-1', CheckID: 'service:web', Status: status, Output: status, CreateIndex: 10, ModifyIndex: index })]);
  const runs = [];
  for (const [status, index] of [['passing', 10], ['critical', 20]] as const) {
    runs.push(
      await runShim({
        args: ['--watch', 'checks'],
        env: { TOCSIN_URL: p.url, TOCSIN_CLUSTER: p.cluster, TOCSIN_KEY: p.key, TOCSIN_NODE: 'web-1', TOCSIN_SPOOL_DIR: spool, CONSUL_INDEX: String(index), ...env },
        stdin: snapshot(status, index),
      }),
    );
  }
  return runs;
}

/** The subjects in <data dir>/notifications.jsonl once there are `count`. */
async function notifications(p: LocalPipeline, count: number): Promise<string[]> {
  const file = join(p.dataDir, 'notifications.jsonl');
  const deadline = Date.now() + 15000;
  for (;;) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
    if (lines.length >= count || Date.now() > deadline) return lines.map((l) => (JSON.parse(l) as { subject: string }).subject);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(() => ensureBuilt(), 60000);

describe('/proc address parsing', () => {
  it('reads IPv4 and IPv6 addresses as the kernel writes them', () => {
    expect(procAddress('0100007F')).toBe('127.0.0.1');
    expect(procAddress('00000000')).toBe('0.0.0.0');
    expect(procAddress('00000000000000000000000001000000')).toBe('::1');
    expect(procAddress('00000000000000000000000000000000')).toBe('::');
    expect(procAddress('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
  });
});

(hasProc ? describe : describe.skip)('listening sockets of npm start', () => {
  it('by default, every socket it listens on (TCP LISTEN, unconnected UDP) is on loopback', async () => {
    const p = await startLocalPipeline({ inProcess: true });
    try {
      await passingThenCritical(p); // traffic first: whatever opens lazily is open now
      expect(await notifications(p, 1)).toHaveLength(1);
      expect(p.output()).toContain('=== notification ==='); // not --quiet: the body is printed
      const sockets = listeningSockets(p.pid);
      // The ingest API and DynamoDB (dynalite) at least; the message bus is in-process.
      expect(sockets.filter((s) => s.proto.startsWith('tcp')).length).toBeGreaterThanOrEqual(2);
      // Which listener a port is, from the banner (the line that names it), for the failure message.
      const named = (port: number) => p.output().split('\n').find((l) => l.includes(`:${port}`)) ?? 'not in the banner';
      expect(sockets.filter((s) => !isLoopbackAddress(s.address)).map((s) => ({ ...s, banner: named(s.port) }))).toEqual([]);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 90000);

  it('--host 0.0.0.0 without TLS: served on every interface, deliberately, with a loud warning', async () => {
    const p = await startLocalPipeline({ inProcess: true, args: ['--host', '0.0.0.0'] });
    try {
      const port = Number(new URL(p.url).port);
      expect(listeningSockets(p.pid)).toContainEqual(expect.objectContaining({ proto: 'tcp', address: '0.0.0.0', port }));
      expect(p.logs()).toContain(`tocsin: WARNING: the ingest API listens on 0.0.0.0 port ${port} (--host 0.0.0.0) WITHOUT TLS`);
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 90000);
});

describe('HTTPS (--tls-cert, --tls-key)', () => {
  const dir = tempDir('tocsin-tls-');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  beforeAll(() => {
    // Self-signed, for 127.0.0.1: the shim trusts it through NODE_EXTRA_CA_CERTS.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=tocsin test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'pipe' });
  });

  it('serves the ingest API over HTTPS; the shim, trusting the CA, gets its signed envelopes accepted; no warning', async () => {
    const p = await startLocalPipeline({ args: ['--host', '127.0.0.1', '--tls-cert', cert, '--tls-key', key] });
    try {
      expect(p.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\/ingest$/);
      // Without the CA the shim refuses the server: TLS is really verified.
      const untrusted = await runShim({ args: ['--watch', 'checks'], env: { TOCSIN_URL: p.url, TOCSIN_CLUSTER: p.cluster, TOCSIN_KEY: p.key, TOCSIN_NODE: 'web-1', TOCSIN_SPOOL_DIR: tempDir(), CONSUL_INDEX: '5' }, stdin: '[]' });
      expect(untrusted.stderr).toMatch(/certificate/i);
      const runs = await passingThenCritical(p, { NODE_EXTRA_CA_CERTS: cert });
      expect(runs.map((r) => [r.code, r.stderr])).toEqual([
        [0, ''],
        [0, ''],
      ]);
      expect(await notifications(p, 1)).toEqual([expect.stringContaining('web-1')]);
      expect(p.logs()).not.toContain('WARNING');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 90000);

  const start = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'local', 'main.ts'), '--port', '0', '--data-dir', tempDir(), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30000 });

  it('a half, unreadable or mismatched pair: exit 1 with the reason, before anything starts', () => {
    const other = join(dir, 'other-key.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', other], { stdio: 'pipe' });
    writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
    const cases: Array<[string[], string]> = [
      [['--tls-cert', cert], 'tocsin: --tls-cert and --tls-key go together: --tls-key is missing'],
      [['--tls-cert', cert, '--tls-key', join(dir, 'missing.pem')], `tocsin: --tls-key ${join(dir, 'missing.pem')}: cannot read it (ENOENT)`],
      [['--tls-cert', cert, '--tls-key', other], `tocsin: --tls-cert ${cert} / --tls-key ${other}: not a usable PEM certificate and matching key`],
      [['--tls-cert', join(dir, 'junk.pem'), '--tls-key', key], `tocsin: --tls-cert ${join(dir, 'junk.pem')} / --tls-key ${key}: not a usable PEM certificate and matching key`],
    ];
    for (const [args, message] of cases) {
      const r = start(args);
      expect({ status: r.status, stderr: r.stderr.split('\n')[0] }).toEqual({ status: 1, stderr: expect.stringContaining(message) });
      expect(r.stdout).not.toContain('ready');
    }
  }, 90000);
});

describe('--quiet', () => {
  it('prints no notification bodies; the notification is still recorded', async () => {
    const p = await startLocalPipeline({ args: ['--quiet'] });
    try {
      await passingThenCritical(p);
      expect(await notifications(p, 1)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 500)); // a body would be printed just before the record: let the pipe catch up
      expect(p.output()).toContain('# --quiet: notification bodies are not printed');
      expect(p.output()).not.toContain('=== notification ===');
    } finally {
      expect(await p.stop()).toBe(0);
    }
  }, 90000);
});
