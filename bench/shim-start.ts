/**
 * Figure 1, shim start: wall time of one shim invocation forwarding a one-change delta of a
 * 2,000-check `checks` watch result. Target (issue 16): the shim POSTing to a local server
 * that answers at once, against its floor measured in the same interleaved rounds - one
 * `node` process reading the same stdin, JSON.parse-ing it and making one node:http POST to
 * that same server. Informational, in the same rounds: the shim to the local pipeline
 * (`npm start` as a child process), the same shim built with a fetch transport, a bare
 * `node -e ''` (the old target, 1.2x bare, which no Node program that parses 1.2 MB and
 * POSTs can reach here), and the two halves of the floor apart.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { buildFetchShim } from './shim/build-variant';
import { SHIM, scratchDir } from './lib/paths';
import type { FigureResult } from './lib/report';
import { cluster2000, goJsonLine, withChange, type HealthCheckFixture } from './lib/snapshots';
import { interleave, median, percentile, timeExec } from './lib/stats';
import { startBenchPipeline as startLocalPipeline } from './lib/pipeline';

/** The shim's run over its floor's (issue 16). */
export const TARGET_RATIO = 1.2;
/** The target before issue 16, over bare node: kept as an informational row. */
const OLD_TARGET_RATIO_OVER_BARE = 1.2;

/** Floor (i): read all of stdin (synchronously, the cheapest way) and parse it; nothing else. */
const FLOOR_PARSE = "JSON.parse(require('node:fs').readFileSync(0, 'utf8'))";
/**
 * The floor: what any Node shim must do - read and parse the same stdin, then one small
 * node:http POST to the server the shim under test talks to, exiting once the answer is in.
 */
const FLOOR =
  "JSON.parse(require('node:fs').readFileSync(0, 'utf8')); require('node:http').request(process.env.FLOOR_URL, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => res.resume()).end('{\"v\":1}')";
/** Floor (ii): one small node:http POST, exit once the answer is in. */
const FLOOR_POST =
  "require('node:http').request(process.env.FLOOR_URL, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => res.resume()).end('{\"v\":1}')";

/** A local HTTP server that answers every request at once (200, `{}`) once its body is in. */
function startTrivialServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/ingest`,
        close: () => {
          server.closeAllConnections();
          return new Promise<void>((r) => server.close(() => r()));
        },
      }),
    ),
  );
}

export async function shimStart(opts: { rounds: number }): Promise<FigureResult> {
  const fetchShim = await buildFetchShim();
  const trivial = await startTrivialServer();
  const pipeline = await startLocalPipeline();
  try {
    const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
    const shimEnv = (spool: string, index: number, extra: Record<string, string> = {}) => ({
      ...base,
      TOCSIN_URL: pipeline.url,
      TOCSIN_CLUSTER: pipeline.cluster,
      TOCSIN_KEY: pipeline.key,
      TOCSIN_NODE: 'bench-agent',
      TOCSIN_SPOOL_DIR: spool,
      CONSUL_INDEX: String(index),
      ...extra,
    });
    const spools = { http: scratchDir('shim-http'), trivial: scratchDir('shim-trivial'), fetch: scratchDir('shim-fetch'), whole: scratchDir('shim-whole') };

    // Steady state: every round one check's output changes (ModifyIndex moves, status stays
    // passing, so no alert): what Consul's periodic output sync looks like.
    let checks: HealthCheckFixture[] = cluster2000();
    let index = 149;
    let stdin = goJsonLine(checks);
    const shim = (file: string, spool: string, extra?: Record<string, string>) => async () => {
      const r = await timeExec(process.execPath, [file, '--watch', 'checks'], { env: shimEnv(spool, index, extra), stdin });
      if (r.code !== 0) throw new Error(`shim exited ${r.code}: ${r.stderr}`);
      return r.ms;
    };
    const variants = {
      bare: async () => (await timeExec(process.execPath, ['-e', ''], { env: base })).ms,
      // The shim to the same server as its floor: the API's own time is not the shim's.
      trivial: shim(SHIM, spools.trivial, { TOCSIN_URL: trivial.url }),
      floor: async () => {
        const r = await timeExec(process.execPath, ['-e', FLOOR], { env: { ...base, FLOOR_URL: trivial.url }, stdin });
        if (r.code !== 0) throw new Error(`floor exited ${r.code}: ${r.stderr}`);
        return r.ms;
      },
      http: shim(SHIM, spools.http),
      fetch: shim(fetchShim, spools.fetch),
      whole: shim(SHIM, spools.whole, { TOCSIN_FULL_EVERY: '1' }),
      floorParse: async () => {
        const r = await timeExec(process.execPath, ['-e', FLOOR_PARSE], { env: base, stdin });
        if (r.code !== 0) throw new Error(`floor (i) exited ${r.code}: ${r.stderr}`);
        return r.ms;
      },
      floorPost: async () => {
        const r = await timeExec(process.execPath, ['-e', FLOOR_POST], { env: { ...base, FLOOR_URL: trivial.url } });
        if (r.code !== 0) throw new Error(`floor (ii) exited ${r.code}: ${r.stderr}`);
        return r.ms;
      },
    };
    // Baselines: each shim's first run sends the whole list and records its state.
    for (const v of [variants.trivial, variants.http, variants.fetch, variants.whole]) await v();

    const samples: Record<keyof typeof variants, number[]> = { bare: [], trivial: [], floor: [], http: [], fetch: [], whole: [], floorParse: [], floorPost: [] };
    for (let round = 0; round < opts.rounds; round++) {
      index++;
      checks = withChange(checks, (round * 7) % checks.length, { Output: `ok after ${round}`, ModifyIndex: index });
      stdin = goJsonLine(checks);
      const one = await interleave(1, rotate(variants, round));
      for (const k of Object.keys(one) as Array<keyof typeof variants>) samples[k].push(...one[k]);
    }
    // Where the shim's time goes: a few more runs with a preload that marks its phases.
    const phases: Array<Record<string, number>> = [];
    for (let round = 0; round < Math.min(10, opts.rounds); round++) {
      index++;
      checks = withChange(checks, (round * 11 + 3) % checks.length, { Output: `traced ${round}`, ModifyIndex: index });
      stdin = goJsonLine(checks);
      phases.push(await traced(SHIM, shimEnv(spools.http, index), stdin));
    }
    const phase = (k: string) => median(phases.map((p) => p[k] ?? NaN));
    const breakdown = {
      'node bootstrap': phase('bootstrap'),
      'bundle load, stdin, parse + diff, until the request': phase('request') - phase('bootstrap'),
      'waiting for the API': phase('response') - phase('request'),
      'after the answer: state file, exit': phase('exit') - phase('response'),
    };
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<keyof typeof variants, number>;
    const ratio = m.trivial / m.floor;
    // A shim must do both: the floors' costs over bare node, added.
    const floorRatio = (m.floorParse + m.floorPost - m.bare) / m.bare;
    const shimKB = statSync(SHIM).size / 1024;
    return {
      rows: [
        {
          figure: '1 shim start',
          metric: 'floor: `node` reading the same stdin + JSON.parse + one small node:http POST to a local server that answers at once, median',
          value: m.floor,
          unit: 'ms',
          pass: null,
          note: `${(m.floor / m.bare).toFixed(2)}x bare`,
        },
        { figure: '1 shim start', metric: 'shim (node:http), 2,000 checks, 1 change -> delta, to that same server, median', value: m.trivial, unit: 'ms', pass: null, note: `bundle ${shimKB.toFixed(1)} KB` },
        { figure: '1 shim start', metric: 'shim / its floor (same stdin, same server)', value: ratio, unit: 'x', target: `<= ${TARGET_RATIO}x`, pass: ratio <= TARGET_RATIO },
        { figure: '1 shim start', metric: 'bare `node -e ""`, median', value: m.bare, unit: 'ms', pass: null },
        { figure: '1 shim start', metric: 'shim (node:http), 1 change -> delta, to the local pipeline (`npm start`), median', value: m.http, unit: 'ms', pass: null, note: `${(m.http / m.floor).toFixed(2)}x the floor` },
        {
          figure: '1 shim start',
          metric: 'shim to the local pipeline / bare node (informational: the target before issue 16)',
          value: m.http / m.bare,
          unit: 'x',
          pass: null,
          note: `was <= ${OLD_TARGET_RATIO_OVER_BARE}x; the floor alone is ${(m.floor / m.bare).toFixed(2)}x bare`,
        },
        { figure: '1 shim start', metric: 'shim with fetch transport (bench-only build), median', value: m.fetch, unit: 'ms', pass: null, note: `${(m.fetch / m.bare).toFixed(2)}x bare` },
        { figure: '1 shim start', metric: 'shim sending the whole list (TOCSIN_FULL_EVERY=1), median', value: m.whole, unit: 'ms', pass: null, note: `${(m.whole / m.bare).toFixed(2)}x bare` },
        {
          figure: '1 shim start',
          metric: 'floor (i): `node` reading the same stdin + JSON.parse, nothing else, median',
          value: m.floorParse,
          unit: 'ms',
          pass: null,
          note: `${(m.floorParse / m.bare).toFixed(2)}x bare`,
        },
        {
          figure: '1 shim start',
          metric: 'floor (ii): `node` POSTing a small body with node:http to a local server that answers at once, median',
          value: m.floorPost,
          unit: 'ms',
          pass: null,
          note: `${(m.floorPost / m.bare).toFixed(2)}x bare`,
        },
        {
          figure: '1 shim start',
          metric: 'smallest ratio a Node shim could reach here: bare + (i - bare) + (ii - bare), over bare',
          value: floorRatio,
          unit: 'x',
          pass: null,
          note: `shim / that floor ${(m.http / (m.floorParse + m.floorPost - m.bare)).toFixed(2)}x`,
        },
        {
          figure: '1 shim start',
          metric: 'shim, waiting for the API (of its run)',
          value: breakdown['waiting for the API'],
          unit: 'ms',
          pass: null,
          note: Object.entries(breakdown)
            .filter(([k]) => k !== 'waiting for the API')
            .map(([k, v]) => `${k} ${v.toFixed(1)}`)
            .join(', '),
        },
      ],
      details: {
        rounds: opts.rounds,
        snapshotBytes: Buffer.byteLength(stdin),
        shimBundleBytes: statSync(SHIM).size,
        medians: m,
        breakdownMs: breakdown,
        p90: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, percentile(v, 90)])),
        samples,
      },
    };
  } finally {
    await pipeline.stop();
    await trivial.close();
  }
}

/** One shim run with bench/shim/trace.cjs preloaded; its phase marks (ms since process start). */
function traced(file: string, env: NodeJS.ProcessEnv, stdin: string): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', join(__dirname, 'shim', 'trace.cjs'), file, '--watch', 'checks'], { env, stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
    let marks = '';
    let err = '';
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (c: Buffer) => (marks += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && marks ? resolve(JSON.parse(marks) as Record<string, number>) : reject(new Error(`traced shim exited ${code}: ${err}`))));
    child.stdin?.end(stdin);
  });
}

/** The same variants, starting at a different one each round. */
function rotate<T extends Record<string, () => Promise<number>>>(variants: T, round: number): T {
  const entries = Object.entries(variants);
  const r = round % entries.length;
  return Object.fromEntries([...entries.slice(r), ...entries.slice(0, r)]) as T;
}
