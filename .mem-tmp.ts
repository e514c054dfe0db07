import { gzipSync, gunzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { largeSnapshot, consulEnvelope } from './test/support/consul-fixtures';
import { parseEnvelope } from './lambdas/domain/envelope';
import { parseBodyJson } from './lambdas/app/sources/body';
import { normalizeChecks } from './lambdas/domain/consul/checks';
const [mode, nArg, out] = process.argv.slice(2);
if (mode === 'make') {
  let snap: any[] = largeSnapshot(Number(nArg));
  if (out) snap = snap.map((c) => ({ ...c, Output: out.repeat(Math.floor(4096 / out.length)) }));
  writeFileSync('/tmp/w/env.gz', gzipSync(Buffer.from(JSON.stringify(consulEnvelope('checks', snap, { index: '1000' })))));
} else {
  const gz = readFileSync('/tmp/w/env.gz');
  const base = process.resourceUsage().maxRSS / 1024;
  const t = Date.now();
  const bytes = gunzipSync(gz);
  const e = parseEnvelope(JSON.parse(bytes.toString('utf8')));
  const body = parseBodyJson(e, 'x');
  const r = normalizeChecks(body);
  console.log(JSON.stringify({ inflatedMB: bytes.length / 1e6, gzMB: gz.length / 1e6, ms: Date.now() - t, baseMaxRssMB: base, peakMB: process.resourceUsage().maxRSS / 1024, obs: r.observations.length }));
}
