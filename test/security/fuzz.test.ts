/**
 * Seeded fuzz of the ingest API: thousands of malformed and hostile requests
 * (garbage and truncated JSON, deep nesting, huge strings, wrong types, lone
 * surrogates, NUL, prototype keys, oversized bodies, bad gzip, bad signatures).
 * Every answer must be a 2xx or a 4xx with an error code and a message; never a 5xx
 * (which would make the shim retry the same bytes forever), never a crash.
 *
 * The ports are strict in-memory fakes (test/support/strict-fakes.ts) that refuse what
 * DynamoDB and SNS refuse, so input that would poison the real services shows as 5xx;
 * a second run sends the hostile observations through the real DynamoDB adapters.
 *
 * Reproduce a run: TOCSIN_FUZZ_SEED=<seed printed below> npx jest test/security/fuzz.test.ts
 */
import { gzipSync } from 'node:zlib';
import type { HttpRequest, HttpResponse } from '../../lambdas/app/http';
import { createIngestHandler } from '../../lambdas/app/ingest-http';
import { DynamoReplayGuard } from '../../lambdas/adapters/dynamo-replay-guard';
import { DynamoScopeStore, DynamoSubjectStore } from '../../lambdas/adapters/dynamo-state-store';
import { StaticClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { SnsAlertPublisher } from '../../lambdas/adapters/sns-publisher';
import { jsonLogger } from '../../lambdas/commons/logger';
import { HEADERS, LIMITS, ROUTES } from '../../lambdas/domain/protocol';
import { LOG_EVENTS } from '../../lambdas/commons/deployment';
import { defaultCheckPolicy } from '../../lambdas/domain/consul/check-transitions';
import { dynamoClients, ensureStateTable } from '../../local/dynamodb';
import { healthCheck } from '../support/consul-fixtures';
import { startTestDynamo, type TestDynamo } from '../support/dynamodb';
import { ingestHarness, TOPIC_ARN } from '../support/ingest-harness';
import { signedRaw } from '../support/signed-requests';
import { SOURCE_HANDLERS } from '../../lambdas/app/sources';
import { strictSnsClient } from '../support/strict-fakes';
import { publishUnrouted } from '../support/unrouted-publisher';

const SEED = Number(process.env.TOCSIN_FUZZ_SEED ?? 0x7a115eed) >>> 0;
const CASES = Number(process.env.TOCSIN_FUZZ_CASES ?? 3000);
const BUDGET_MS = 20_000;
const KEY = 'fuzz-cluster-key-never-in-any-output-0123456789';
const CLUSTER = 'prod';
/** Small, so that oversized bodies are cheap to make; the 6 MiB default is tested once below. */
const MAX_BODY = 256 * 1024;

/** mulberry32: a tiny seeded PRNG, good enough to make fuzz runs reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  /** Random UTF-16 code units, surrogates and controls included. */
  unicode(len: number): string {
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(this.chance(0.3) ? this.int(0x80) : this.int(0x10000));
    return s;
  }
  bytes(len: number): Buffer {
    const b = Buffer.alloc(len);
    for (let i = 0; i < len; i++) b[i] = this.int(256);
    return b;
  }
}

function hostileString(r: Rng): string {
  switch (r.int(22)) {
    case 0: return '';
    case 1: return '\u0000';
    case 2: return `a\u0000b${r.unicode(5)}`;
    case 3: return '\ud800';
    case 4: return `x\udfff y`;
    case 5: return '\uffff\ufffe';
    case 6: return '\u001b[31mred\u0007';
    case 7: return '\r\n\u2028\u2029';
    case 8: return '\u{1F525}'.repeat(1 + r.int(300));
    case 9: return r.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf']);
    case 10: return '<script>alert(1)</script>';
    case 11: return '${jndi:ldap://x/a}';
    case 12: return '../../../etc/passwd';
    case 13: return 'A'.repeat(r.pick([63, 64, 256, 257, 1025, 4097, 70_000]));
    case 14: return 'é'.repeat(1 + r.int(3000));
    case 15: return r.unicode(1 + r.int(300));
    case 16: return 'a'.repeat(255) + '\ud83d'; // a pair cut in half at a limit
    case 17: return ' ';
    case 18: return '99999999999999999999999999999999999999999';
    case 19: return '2026-13-45T99:99:99Z';
    case 20: return JSON.stringify({ nested: 'json' });
    default: return 'critical';
  }
}

function hostileValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 8 : 12)) {
    case 0: return null;
    case 1: return r.chance(0.5);
    case 2: return r.pick([0, -1, 1.5, 2 ** 53 + 2, 1e308, -1e-308, Number.MAX_SAFE_INTEGER]);
    case 3: return '';
    case 4:
    case 5:
    case 6:
    case 7: return hostileString(r);
    case 8: return Array.from({ length: r.int(4) }, () => hostileValue(r, depth + 1));
    case 9: return JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
    case 10: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [hostileString(r).slice(0, 40), hostileValue(r, depth + 1)]));
    default: return nest(r.pick([2, 8, 31, 33, 100]), r);
  }
}

/** `depth` levels of arrays/objects. */
function nest(depth: number, r: Rng): unknown {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { d: v };
  return v;
}

const deepText = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
/** `depth` nested objects as JSON text (JSON.stringify itself overflows the stack on deep values). */
const deepObjectText = (depth: number) => '{"d":'.repeat(depth) + '1' + '}'.repeat(depth);

let modifyIndex = 1000;

function validCheck(r: Rng): Record<string, unknown> {
  return healthCheck({
    Node: r.pick(['web-1', 'web-2', 'db-1']),
    CheckID: r.pick(['service:web', 'service:db', 'serfHealth', `c-${r.int(20)}`]),
    Status: r.chance(0.6) ? 'passing' : r.pick(['warning', 'critical', 'maintenance']),
    ModifyIndex: ++modifyIndex,
    CreateIndex: 5,
  }) as unknown as Record<string, unknown>;
}

const CHECK_FIELDS = ['Node', 'CheckID', 'Name', 'Status', 'Notes', 'Output', 'ServiceID', 'ServiceName', 'ServiceTags', 'Type', 'Definition', 'CreateIndex', 'ModifyIndex'];

function hostileCheck(r: Rng): unknown {
  if (r.chance(0.1)) return hostileValue(r);
  const c = validCheck(r);
  for (let n = 1 + r.int(3); n > 0; n--) {
    const field = r.pick(CHECK_FIELDS);
    const roll = r.int(6);
    if (roll === 0) delete c[field];
    else if (roll === 1 && field === 'Definition') c.Definition = nest(r.pick([7, 9, 20, 29]), r);
    else if (roll === 2 && field === 'ServiceTags') c.ServiceTags = Array.from({ length: r.pick([3, 65, 200]) }, () => hostileString(r).slice(0, 300));
    else if (roll === 3 && field === 'Definition') c.Definition = { Header: { X: [hostileString(r)] }, Args: [hostileString(r)], Big: 'x'.repeat(r.pick([100, 9000])) };
    else c[field] = hostileValue(r);
  }
  return c;
}

interface Envelope {
  [k: string]: unknown;
}

function envelope(r: Rng, body: string, extra: Envelope = {}): Envelope {
  return {
    v: 1,
    cluster: CLUSTER,
    source: 'consul',
    type: 'checks',
    scope: r.pick(['checks', 'fuzz-a', 'fuzz-b']),
    node: r.pick(['agent-1', 'agent-2']),
    index: String(++modifyIndex),
    sentAt: new Date().toISOString(),
    body,
    bodyEncoding: 'utf8',
    ...extra,
  };
}

/** JSON text with `__proto__`-style keys as own properties (what an attacker sends). */
function withProtoKeys(json: string, r: Rng): string {
  const key = r.pick(['__proto__', 'constructor', 'prototype']);
  return json.replace(/^\{/, `{"${key}": {"polluted": true, "prototype": {"polluted": true}},`);
}

type Expect = '4xx' | 'any';
interface Case {
  kind: string;
  req: HttpRequest;
  expect: Expect;
}

const sign = (body: Buffer | string, extra: Partial<Parameters<typeof signedRaw>[1]> = {}) =>
  signedRaw(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, { key: KEY, cluster: CLUSTER, ...extra });

function makeCase(r: Rng): Case {
  const kind = r.pick([
    'garbage-json',
    'deep-envelope',
    'deep-body',
    'huge-envelope-field',
    'wrong-type',
    'bad-unicode',
    'proto-keys',
    'oversized',
    'bad-gzip',
    'bad-signature',
    'wrong-route',
    'hostile-observations',
    'hostile-observations',
    'hostile-observations',
    'hostile-delta',
    'other-sources',
    'other-sources',
  ] as const);
  const checksBody = () => JSON.stringify(Array.from({ length: 1 + r.int(6) }, () => (r.chance(0.5) ? validCheck(r) : hostileCheck(r))));
  switch (kind) {
    case 'garbage-json': {
      const valid = JSON.stringify(envelope(r, checksBody()));
      const body = r.pick([
        () => valid.slice(0, r.int(valid.length)),
        () => r.bytes(1 + r.int(500)),
        () => r.unicode(1 + r.int(500)),
        () => r.pick(['', 'null', '[]', '"str"', '1e999', '{', '}', '{"v":1,}', '\ufeff{}', 'NaN', '{"v":1}{"v":1}']),
        () => valid.replace(/"/g, "'"),
      ])();
      return { kind, req: sign(body as string | Buffer), expect: '4xx' };
    }
    case 'deep-envelope': {
      const depth = r.pick([33, 34, 100, 10_000, 100_000]);
      const json = JSON.stringify(envelope(r, '[]')).replace(/}$/, `,"x":${deepText(depth)}}`);
      return { kind, req: sign(json), expect: '4xx' };
    }
    case 'deep-body': {
      const depth = r.pick([33, 50, 1000, 100_000]);
      const body = r.chance(0.5) ? deepText(depth) : JSON.stringify([{ ...validCheck(r), Definition: 'DEF' }]).replace('"DEF"', deepObjectText(depth));
      return { kind, req: sign(JSON.stringify(envelope(r, body))), expect: '4xx' };
    }
    case 'huge-envelope-field': {
      const [field, value] = r.pick<[string, unknown]>([
        ['node', 'n'.repeat(257 + r.int(100_000))],
        ['type', 'checks'.repeat(10)],
        ['scope', 's'.repeat(64)],
        ['index', '1'.repeat(41)],
        ['sentAt', `2026-01-01T00:00:00Z${' '.repeat(60)}`],
        ['env', Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`CONSUL_${i}`, 'x']))],
        ['env', { CONSUL_X: 'x'.repeat(4097) }],
      ]);
      return { kind, req: sign(JSON.stringify(envelope(r, '[]', { [field]: value }))), expect: '4xx' };
    }
    case 'wrong-type': {
      const field = r.pick(['v', 'cluster', 'source', 'type', 'node', 'sentAt', 'body', 'bodyEncoding', 'scope', 'index', 'env']);
      let value = hostileValue(r);
      const required = ['v', 'cluster', 'source', 'type', 'node', 'sentAt', 'body'].includes(field);
      if (required && typeof value === 'string' && field !== 'body' && field !== 'node' && field !== 'sentAt') value = [value];
      const certain = required && typeof value !== 'string';
      return { kind, req: sign(JSON.stringify(envelope(r, checksBody(), { [field]: value }))), expect: certain ? '4xx' : 'any' };
    }
    case 'bad-unicode': {
      const roll = r.int(4);
      if (roll === 0) {
        // Invalid UTF-8 inside the JSON text itself.
        const json = Buffer.from(JSON.stringify(envelope(r, '[]', { node: 'NODE' })));
        const at = json.indexOf('NODE');
        return { kind, req: sign(Buffer.concat([json.subarray(0, at), r.bytes(4), json.subarray(at + 4)])), expect: 'any' };
      }
      if (roll === 1) {
        return { kind, req: sign(JSON.stringify(envelope(r, 'x', { bodyEncoding: 'base64', body: r.bytes(200).toString('base64') }))), expect: '4xx' };
      }
      const check = validCheck(r);
      for (const f of ['Node', 'CheckID', 'Name', 'Output', 'Notes', 'ServiceName', 'ServiceID']) if (r.chance(0.4)) check[f] = `${check[f] as string}${r.pick(['\ud800', '\udc00', '\u0000', '\uffff', '\u001b', r.unicode(8)])}`;
      check.Status = r.pick(['critical', 'warning']);
      return { kind, req: sign(JSON.stringify(envelope(r, JSON.stringify([check]), { node: r.pick(['\ud800', 'a\u0000b', 'ok']) }))), expect: 'any' };
    }
    case 'proto-keys': {
      const roll = r.int(3);
      const check = JSON.stringify([validCheck(r)]);
      const body = roll === 0 ? check.replace(/^\[\{/, '[{"__proto__": {"polluted": true},') : roll === 1 ? check.replace('"Definition":{', '"Definition":{"__proto__":{"polluted":true},') : check;
      const extra = r.chance(0.5) ? { env: JSON.parse('{"__proto__": "x", "constructor": "y", "CONSUL_INDEX": "1"}') as unknown } : {};
      return { kind, req: sign(withProtoKeys(JSON.stringify(envelope(r, body, extra)), r)), expect: 'any' };
    }
    case 'oversized': {
      if (r.chance(0.5)) return { kind, req: sign(Buffer.alloc(MAX_BODY + 1 + r.int(1000), 0x20)), expect: '4xx' };
      // A gzip bomb: small on the wire, over the limit once inflated.
      return { kind, req: sign(gzipSync(Buffer.alloc(MAX_BODY * (2 + r.int(3)), 0x20), { level: 1 }), { gzip: true }), expect: '4xx' };
    }
    case 'bad-gzip': {
      const good = gzipSync(JSON.stringify(envelope(r, '[]')));
      const variant = r.int(4);
      const body = [() => r.bytes(1 + r.int(300)), () => good.subarray(0, r.int(good.length)), () => gzipSync(r.bytes(100)), () => Buffer.concat([good, r.bytes(10)])][variant]!();
      const encoding = r.pick(['gzip', 'gzip', 'gzip', 'br', 'deflate', 'gzip, gzip', 'x-gzip', '\u0000']);
      const req = sign(body, { gzip: true });
      req.headers['content-encoding'] = encoding;
      // zlib ignores bytes after the end of a complete gzip stream (and they are signed).
      return { kind, req, expect: variant === 3 && encoding === 'gzip' ? 'any' : '4xx' };
    }
    case 'bad-signature': {
      const req = sign(JSON.stringify(envelope(r, checksBody())));
      const h = req.headers;
      const roll = r.int(8);
      if (roll === 0) h[HEADERS.signature] = `v1=${r.bytes(32).toString('hex')}`;
      else if (roll === 1) h[HEADERS.signature] = hostileString(r);
      else if (roll === 2) h[HEADERS.timestamp] = r.pick([hostileString(r), String(Math.floor(Date.now() / 1000) - 301), '-1', '0x10', ' 1']);
      else if (roll === 3) h[HEADERS.cluster] = hostileString(r);
      else if (roll === 4) delete h[HEADERS.signature];
      else if (roll === 5) req.body = Buffer.concat([req.body, Buffer.from(' ')]);
      else if (roll === 6) Object.assign(req, sign(req.body, { key: `${KEY}x` }));
      else Object.assign(req, sign(req.body, { timestamp: Math.floor(Date.now() / 1000) + 301 + r.int(10_000) }));
      return { kind, req, expect: '4xx' };
    }
    case 'wrong-route': {
      const method = r.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'POST', 'OPTIONS']);
      const path = method === 'POST' ? r.pick(['/', '/v1/ingest/', '/v1/ingest/../ingest', '/V1/INGEST', `/v1/${hostileString(r).slice(0, 300)}`]) : ROUTES.ingest.path;
      return { kind, req: sign(JSON.stringify(envelope(r, '[]')), { method, path }), expect: '4xx' };
    }
    case 'hostile-observations':
      return { kind, req: sign(JSON.stringify(envelope(r, checksBody())), { gzip: false }), expect: 'any' };
    case 'other-sources': {
      const [source, type] = r.pick(Object.keys(SOURCE_HANDLERS).filter((k) => k !== 'consul/checks')).split('/') as [string, string];
      const line = () => [r.chance(0.2) ? 'm'.repeat(r.pick([300, 1100, 5000])) : hostileString(r).slice(0, 80), r.pick(['10.0.0.1', '::1', hostileString(r).slice(0, 40)]), r.pick(['', 'web', hostileString(r).slice(0, 20)]), r.pick(['', 'role=web,dc=eu', hostileString(r).slice(0, 60)])].join('\t');
      const body = r.pick([
        () => JSON.stringify(hostileValue(r)),
        () => JSON.stringify(Array.from({ length: r.int(5) }, () => hostileValue(r))),
        () => JSON.stringify(Array.from({ length: 1 + r.int(4) }, () => Object.fromEntries(['Key', 'Value', 'Flags', 'ModifyIndex', 'Node', 'Address', 'ServiceName', 'ServiceID', 'Name', 'ID', 'Payload', 'LTime', 'Checks', 'Service', 'Tags', 'Meta', 'TaggedAddresses', 'Datacenter', 'CreateIndex', 'Version'].filter(() => r.chance(0.5)).map((k) => [k, hostileValue(r)])))),
        () => Array.from({ length: 1 + r.int(4) }, line).join('\n') + '\n',
        () => r.unicode(r.int(400)),
      ])();
      const env: Record<string, string> = {};
      for (const k of ['SERF_EVENT', 'SERF_SELF_NAME', 'SERF_SELF_ROLE', 'SERF_USER_EVENT', 'SERF_USER_LTIME', 'SERF_QUERY_NAME', 'SERF_QUERY_LTIME', 'SERF_TAG_ROLE', 'CONSUL_INDEX']) {
        if (r.chance(0.5)) env[k] = r.chance(0.5) ? hostileString(r).slice(0, 300) : k === 'SERF_EVENT' ? type : String(r.int(1000));
      }
      const extra = { source, type, scope: r.pick([null, type.replace(/_/g, '-'), 'fuzz']), index: r.pick([null, String(r.int(100000)), '0']), env };
      return { kind, req: sign(JSON.stringify(envelope(r, body, extra))), expect: 'any' };
    }
    case 'hostile-delta': {
      const body = JSON.stringify({ changed: Array.from({ length: r.int(4) }, () => hostileCheck(r)), removed: r.chance(0.5) ? [{ Node: hostileString(r), CheckID: hostileString(r) }] : hostileValue(r) });
      return { kind, req: sign(JSON.stringify(envelope(r, body, { delta: true, base: String(r.int(5000)) }))), expect: 'any' };
    }
  }
}

function checkAnswer(c: Case, res: HttpResponse, failures: string[], n: number): void {
  const where = `#${n} ${c.kind}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`;
  if (!Number.isInteger(res.status) || res.status < 200 || res.status >= 500) failures.push(`${where} (status)`);
  else if (c.expect === '4xx' && res.status < 400) failures.push(`${where} (expected a 4xx)`);
  if (res.status >= 400) {
    const { error, message } = res.body as { error?: unknown; message?: unknown };
    if (typeof error !== 'string' || error === '' || typeof message !== 'string' || message === '') failures.push(`${where} (no reason)`);
  }
  if (res.status === 422 && !Array.isArray((res.body as { rejected?: unknown }).rejected)) failures.push(`${where} (422 without rejected[])`);
  const text = JSON.stringify(res.body);
  if (text.includes(KEY)) failures.push(`${where} (leaks the key)`);
}

describe(`ingest fuzz (seed ${SEED})`, () => {
  beforeAll(() => {
    // eslint-disable-next-line no-console
    console.log(`ingest fuzz: seed ${SEED} (TOCSIN_FUZZ_SEED=${SEED} to reproduce), up to ${CASES} cases in ${BUDGET_MS} ms`);
  });

  it('answers every hostile request with 2xx or a 4xx and a reason: no 5xx, no crash, no pollution', async () => {
    const r = new Rng(mulberry32(SEED));
    const h = ingestHarness({ keys: { [CLUSTER]: KEY }, maxWireBytes: MAX_BODY, maxInflatedBytes: MAX_BODY });
    const failures: string[] = [];
    const counts: Record<string, Record<number, number>> = {};
    const timing: Record<string, [number, number]> = {};
    const started = Date.now();
    let n = 0;
    for (; n < CASES && Date.now() - started < BUDGET_MS; n++) {
      const t0 = Date.now();
      const c = makeCase(r);
      const t1 = Date.now();
      let res: HttpResponse;
      try {
        res = await h.handle(c.req);
        timing[c.kind] = [(timing[c.kind]?.[0] ?? 0) + t1 - t0, (timing[c.kind]?.[1] ?? 0) + Date.now() - t1];
      } catch (err) {
        failures.push(`#${n} ${c.kind}: threw ${(err as Error).stack}`);
        continue;
      }
      const before = failures.length;
      checkAnswer(c, res, failures, n);
      if (failures.length > before && res.status >= 500) {
        const why = h.logs.slice(-3).map((l) => JSON.parse(l) as { message: string; error?: string; errors?: string[] }).find((l) => l.message !== LOG_EVENTS.requestRejected);
        failures[failures.length - 1] += ` <- ${JSON.stringify(why).slice(0, 400)} <- ${c.req.body.toString('utf8').slice(0, 600)}`;
      }
      const byStatus = (counts[c.kind] ??= {});
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
    }
    const elapsed = Date.now() - started;
    // eslint-disable-next-line no-console
    console.log(`ingest fuzz: ${n} cases in ${elapsed} ms, ${h.sns.published.length} alerts published\n${JSON.stringify(counts)}\n${JSON.stringify(timing)}`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(n).toBeGreaterThanOrEqual(Math.min(CASES, 1000));
    // Hostile keys stayed data.
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // The valid parts did go through (and SNS accepted every alert: a refusal would have been a 503).
    expect(h.sns.published.length).toBeGreaterThan(0);
    expect(h.logs.join('\n')).not.toContain(KEY);
    // Every kind of input was tried, and every kind got answers.
    expect(Object.keys(counts).length).toBe(14);
  }, 60_000);

  it(`refuses a body over the real ${LIMITS.maxWireBytes / 1048576} MiB wire limit with 413 before authenticating`, async () => {
    const h = ingestHarness({ keys: { [CLUSTER]: KEY } });
    const res = await h.handle({ method: 'POST', path: ROUTES.ingest.path, headers: {}, body: Buffer.alloc(LIMITS.maxWireBytes + 1, 0x20) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
    expect(res.body.message).toContain(`limit of ${LIMITS.maxWireBytes} bytes on the wire`);
  });

  it('names the problem of each malformed observation and processes the valid ones (422 + rejected[])', async () => {
    const h = ingestHarness({ keys: { [CLUSTER]: KEY } });
    const checks = [
      healthCheck({ CheckID: 'good', Status: 'critical', ModifyIndex: 50 }),
      { ...healthCheck({ CheckID: 'deep', ModifyIndex: 51 }), Definition: JSON.parse(deepObjectText(9)) as object },
      healthCheck({ CheckID: 'x'.repeat(300), ModifyIndex: 52 }),
      { ...healthCheck({ CheckID: 'tags', ModifyIndex: 53 }), ServiceTags: Array.from({ length: 65 }, (_, i) => `t${i}`) },
      { ...healthCheck({ CheckID: 'type', ModifyIndex: 54 }), ModifyIndex: '54' },
      JSON.parse(JSON.stringify(healthCheck({ CheckID: 'proto', ModifyIndex: 55 })).replace('"Definition":{', '"Definition":{"__proto__":{"polluted":true},')),
      healthCheck({ CheckID: 'fire\ud83d', Node: 'web\u0000-9', Status: 'warning', Name: `n${'\u{1F525}'.repeat(200)}`, ModifyIndex: 56 }),
    ];
    const res = await h.handle(sign(JSON.stringify(envelope(new Rng(mulberry32(2)), JSON.stringify(checks)))));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'invalid_observations', accepted: 2, alertsPublished: 2 });
    expect(res.body.message).toBe(
      '5 observation(s) rejected (#1: Definition nests deeper than 8 levels; #2: CheckID is longer than 256 characters; #3: ServiceTags has more than 64 tags; ' +
        '#4: ModifyIndex must be a non-negative integer; #5: Definition has a forbidden key "__proto__"); the others were processed',
    );
    expect(res.body.rejected).toEqual([
      { index: 1, reason: 'Definition nests deeper than 8 levels' },
      { index: 2, reason: 'CheckID is longer than 256 characters' },
      { index: 3, reason: 'ServiceTags has more than 64 tags' },
      { index: 4, reason: 'ModifyIndex must be a non-negative integer' },
      { index: 5, reason: 'Definition has a forbidden key "__proto__"' },
    ]);
    expect(h.sns.published.map((a) => [a.check, a.node])).toEqual([
      ['good', 'web-1'],
      ['fire\ufffd', 'web\ufffd-9'],
    ]);
  });
});

describe('hostile observations through the real DynamoDB adapters', () => {
  let dynamo: TestDynamo;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
  }, 120_000);
  afterAll(async () => {
    await dynamo?.stop();
  });

  it(`stores whatever validation lets through (${process.env.TOCSIN_TEST_DYNAMODB ?? 'auto'}): no 5xx`, async () => {
    const { client, doc } = dynamoClients(dynamo.endpoint);
    const table = 'tocsin-fuzz';
    await ensureStateTable(client, table);
    const sns = strictSnsClient();
    const logs: string[] = [];
    const handle = createIngestHandler({
      keys: new StaticClusterKeys({ [CLUSTER]: KEY }),
      replay: new DynamoReplayGuard(doc, table),
      sources: {
        subjects: new DynamoSubjectStore(doc, table),
        scopes: new DynamoScopeStore(doc, table),
        publisher: publishUnrouted(new SnsAlertPublisher(sns.client, TOPIC_ARN)),
        checkPolicy: defaultCheckPolicy,
        clock: { nowMs: () => Date.now() },
      },
      logger: jsonLogger((l) => logs.push(l)),
    });
    const r = new Rng(mulberry32(SEED ^ 0x5a5a5a5a));
    const failures: string[] = [];
    const started = Date.now();
    let n = 0;
    for (; n < 300 && Date.now() - started < 8_000; n++) {
      let c = makeCase(r);
      while (!['hostile-observations', 'bad-unicode', 'proto-keys', 'deep-body', 'hostile-delta'].includes(c.kind)) c = makeCase(r);
      checkAnswer(c, await handle(c.req), failures, n);
    }
    // eslint-disable-next-line no-console
    console.log(`DynamoDB fuzz: ${n} cases in ${Date.now() - started} ms, ${sns.published.length} alerts`);
    expect(failures.slice(0, 20)).toEqual([]);
    expect(n).toBeGreaterThan(30);
    expect(sns.published.length).toBeGreaterThan(0);
  }, 60_000);
});
