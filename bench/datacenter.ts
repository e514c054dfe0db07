/**
 * Figure 10, a 30,000-check datacenter (issue 16): the shim handed a ~18 MB `checks` watch
 * result, as Consul hands it every run. Wall time, peak memory and bytes sent (plain JSON and
 * on the wire) for a whole-list run (the first run, every periodic resync) and for a
 * one-change delta (every other run), each POSTing to a local server that answers at once
 * (the API's own time is not the shim's). Targets: the delta within 1.2x its floor measured
 * in the same interleaved rounds - one `node` reading the same stdin, JSON.parse-ing it and
 * making one small node:http POST (figure 1's floor, on this figure's stdin); the whole list
 * within the shim's default time bound (TOCSIN_TIMEOUT_MS, 5 s) and the API's limits
 * (protocol.ts LIMITS: 4 MiB on the wire, 32 MiB of JSON).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DEFAULTS } from '../agent-shim/src/config';
import { LIMITS } from '../lambdas/domain/protocol';
import { SHIM, scratchDir } from './lib/paths';
import type { FigureResult } from './lib/report';
import { goJsonLine, withChange, type HealthCheckFixture } from './lib/snapshots';
import { largeSnapshot } from '../test/support/consul-fixtures';
import { interleave, median, timeExec } from './lib/stats';

export const CHECKS = 30_000;
/** The delta over its floor (issue 16). */
export const DELTA_TARGET_RATIO = 1.2;

/** Figure 1's floor: read and parse the same stdin, then one small node:http POST to the same server. */
const FLOOR =
  "JSON.parse(require('node:fs').readFileSync(0, 'utf8')); require('node:http').request(process.env.FLOOR_URL, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => res.resume()).end('{\"v\":1}')";

/** Preload that writes the process's peak RSS to fd 3 as it exits (bench only). */
const RSS_PRELOAD = join(__dirname, 'shim', 'peak-rss.cjs');

interface Received {
  wire: number;
  plain: number;
  delta: boolean;
}

/** A request as received; inflated only when the figure is computed (the shims' runs must not wait on the bench). */
interface Raw {
  body: Buffer;
  gzip: boolean;
}

function sizeOf(r: Raw): Received {
  const plain = r.gzip ? gunzipSync(r.body) : r.body;
  return { wire: r.body.length, plain: plain.length, delta: plain.includes('"delta":true') };
}

/** A local server that answers 200 at once and keeps each request's body. */
function startRecordingServer(): Promise<{ url: string; received: Raw[]; close(): Promise<void> }> {
  const received: Raw[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      received.push({ body: Buffer.concat(chunks), gzip: req.headers['content-encoding'] === 'gzip' });
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ingest`,
        received,
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

export async function datacenter(opts: { rounds: number }): Promise<FigureResult> {
  const server = await startRecordingServer();
  try {
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
    const spools = { delta: scratchDir('dc-delta'), whole: scratchDir('dc-whole') };
    let checks: HealthCheckFixture[] = largeSnapshot(CHECKS);
    let index = 149;
    let stdin = goJsonLine(checks);
    const env = (spool: string, extra: Record<string, string> = {}) => ({
      ...base,
      TOCSIN_URL: server.url,
      TOCSIN_CLUSTER: 'bench',
      TOCSIN_KEY: 'bench-key',
      TOCSIN_NODE: 'bench-agent',
      TOCSIN_SPOOL_DIR: spool,
      CONSUL_INDEX: String(index),
      // A generous bound: a slow run here is to be measured, not spooled.
      TOCSIN_TIMEOUT_MS: '60000',
      ...extra,
    });
    const shim = (spool: string, extra?: Record<string, string>, trace?: string) => async () => {
      const r = await timeExec(process.execPath, [SHIM, '--watch', 'checks'], { env: env(spool, extra), stdin, ...(trace ? { trace } : {}) });
      if (r.code !== 0 || r.stderr) throw new Error(`shim exited ${r.code}: ${r.stderr}`);
      return r;
    };
    const variants = {
      delta: async () => (await shim(spools.delta)()).ms,
      whole: async () => (await shim(spools.whole, { TOCSIN_FULL_EVERY: '1' })()).ms,
      floor: async () => {
        const r = await timeExec(process.execPath, ['-e', FLOOR], { env: { ...base, FLOOR_URL: server.url }, stdin });
        if (r.code !== 0) throw new Error(`floor exited ${r.code}: ${r.stderr}`);
        return r.ms;
      },
    };
    // The delta spool's first run sends the whole list and records its state.
    await variants.delta();

    const samples: Record<keyof typeof variants, number[]> = { delta: [], whole: [], floor: [] };
    const change = (round: number) => {
      index++;
      // One check's output changes (ModifyIndex moves, status stays): Consul's periodic output sync.
      checks = withChange(checks, (round * 7919) % checks.length, { Output: `ok after ${round}`, ModifyIndex: index });
      stdin = goJsonLine(checks);
    };
    for (let round = 0; round < opts.rounds; round++) {
      change(round);
      const one = await interleave(1, rotate(variants, round));
      for (const k of Object.keys(one) as Array<keyof typeof variants>) samples[k].push(...one[k]);
    }
    // Peak memory, in runs of their own (the preload is not in the timed ones).
    change(opts.rounds);
    const rssDelta = (await shim(spools.delta, {}, RSS_PRELOAD)()).marks?.maxRssMB ?? NaN;
    const rssWhole = (await shim(spools.whole, { TOCSIN_FULL_EVERY: '1' }, RSS_PRELOAD)()).marks?.maxRssMB ?? NaN;

    // The shims' requests (the floor's are a few bytes).
    const got = server.received.filter((r) => r.body.length > 64).map(sizeOf);
    const sizes = (delta: boolean) => {
      const r = got.filter((x) => x.delta === delta);
      return { wire: median(r.map((x) => x.wire)), plain: median(r.map((x) => x.plain)) };
    };
    const whole = sizes(false);
    const delta = sizes(true);
    const m = { delta: median(samples.delta), whole: median(samples.whole), floor: median(samples.floor) };
    const ratio = m.delta / m.floor;
    const stdinMB = Buffer.byteLength(stdin) / 1e6;
    const fig = '10 30,000-check datacenter';
    return {
      rows: [
        { figure: fig, metric: `floor: \`node\` reading the same ${stdinMB.toFixed(1)} MB stdin + JSON.parse + one small node:http POST, median`, value: m.floor, unit: 'ms', pass: null },
        { figure: fig, metric: 'shim, one change -> delta, median', value: m.delta, unit: 'ms', pass: null, note: `peak RSS ${rssDelta.toFixed(0)} MB` },
        { figure: fig, metric: 'shim delta / its floor (same stdin, same server)', value: ratio, unit: 'x', target: `<= ${DELTA_TARGET_RATIO}x`, pass: ratio <= DELTA_TARGET_RATIO },
        {
          figure: fig,
          metric: 'delta: bytes sent on the wire',
          value: delta.wire,
          unit: 'bytes',
          target: `<= ${LIMITS.maxWireBytes}`,
          pass: delta.wire <= LIMITS.maxWireBytes,
          note: `${delta.plain} bytes of JSON`,
        },
        {
          figure: fig,
          metric: 'shim, whole list (first run, resync: TOCSIN_FULL_EVERY=1), median',
          value: m.whole,
          unit: 'ms',
          target: `<= ${DEFAULTS.timeoutMs} ms (default time bound)`,
          pass: m.whole <= DEFAULTS.timeoutMs,
          note: `${(m.whole / m.floor).toFixed(2)}x the floor, peak RSS ${rssWhole.toFixed(0)} MB`,
        },
        {
          figure: fig,
          metric: 'whole list: bytes sent on the wire (gzip of the compact form)',
          value: whole.wire,
          unit: 'bytes',
          target: `<= ${LIMITS.maxWireBytes} (LIMITS.maxWireBytes)`,
          pass: whole.wire <= LIMITS.maxWireBytes,
          note: `${(whole.wire / LIMITS.maxWireBytes * 100).toFixed(1)} % of the limit`,
        },
        {
          figure: fig,
          metric: 'whole list: plain JSON bytes sent (the compact form, in the envelope)',
          value: whole.plain,
          unit: 'bytes',
          target: `<= ${LIMITS.maxInflatedBytes} (LIMITS.maxInflatedBytes)`,
          pass: whole.plain <= LIMITS.maxInflatedBytes,
          note: `stdin ${Buffer.byteLength(stdin)} bytes`,
        },
      ],
      details: { rounds: opts.rounds, checks: CHECKS, stdinBytes: Buffer.byteLength(stdin), medians: m, peakRssMB: { delta: rssDelta, whole: rssWhole }, bytes: { whole, delta }, samples },
    };
  } finally {
    await server.close();
  }
}

/** The same variants, starting at a different one each round. */
function rotate<T extends Record<string, () => Promise<number>>>(variants: T, round: number): T {
  const entries = Object.entries(variants);
  const r = round % entries.length;
  return Object.fromEntries([...entries.slice(r), ...entries.slice(0, r)]) as T;
}
