/** `checks` watches: the shim sends what changed since its last delivered send. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Envelope } from '../../lambdas/domain/types';
import type { CheckDeltaBody } from '../../lambdas/domain/consul/check-deltas';
import { goJsonLine, healthCheck, type HealthCheckFixture } from '../support/consul-fixtures';
import { projectCheck } from '../../lambdas/domain/consul/wire-form';
import { CLUSTER, compactBody, consulEnv, ensureBuilt, queued, readJson, runShim, startApi, tempDir, type FakeApi } from './helpers';

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

const list = (n: number, overrides: Record<number, Partial<HealthCheckFixture>> = {}) =>
  Array.from({ length: n }, (_, i) => healthCheck({ Node: `n${i % 3}`, CheckID: `c${i}`, CreateIndex: 5, ModifyIndex: 10 + i, ...overrides[i] }));

const send = (spool: string, checks: HealthCheckFixture[], index: number, extra: Record<string, string | undefined> = {}) =>
  runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, spool, { CONSUL_INDEX: String(index), ...extra }), stdin: goJsonLine(checks) });

const deltaBody = (e: Envelope) => JSON.parse(e.body) as CheckDeltaBody;
const stateFile = (spool: string, scope = 'checks') => path.join(spool, 'state', `checks+${CLUSTER}+${scope}.state`);

describe('checks watch deltas', () => {
  it('sends the whole list first, then only what changed, appeared or went away', async () => {
    const spool = tempDir();
    const first = list(20);
    expect((await send(spool, first, 100)).code).toBe(0);
    expect(api.requests[0]?.envelope.delta).toBeUndefined();
    // The compact form (wire-form.ts), deltas included.
    expect(api.requests[0]?.envelope).toMatchObject({ body: compactBody('checks', goJsonLine(first)), form: 'projected' });
    expect(fs.existsSync(stateFile(spool))).toBe(true);

    const second = list(20, { 7: { Status: 'critical', Output: 'down', ModifyIndex: 200 } });
    const r = await send(spool, second, 200);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const d = api.requests[1]!.envelope;
    expect(d).toMatchObject({ v: 1, cluster: CLUSTER, type: 'checks', scope: 'checks', index: '200', delta: true, base: String(10 + 19) });
    expect(api.requests[1]!.signatureOk).toBe(true);
    expect(d.form).toBe('projected');
    expect(deltaBody(d)).toEqual({ changed: [projectCheck(second[7])], removed: [] });

    // c3 deregistered, c20 new, c7 unchanged since the last send.
    const third = [...second.filter((c) => c.CheckID !== 'c3'), healthCheck({ Node: 'n9', CheckID: 'c20', ModifyIndex: 210 })];
    expect((await send(spool, third, 210)).code).toBe(0);
    const d3 = api.requests[2]!.envelope;
    expect(d3).toMatchObject({ delta: true, base: '200' });
    expect(deltaBody(d3)).toEqual({ changed: [projectCheck(third[third.length - 1])], removed: [{ Node: 'n0', CheckID: 'c3' }] });
    expect(queued(spool)).toEqual([]);
  });

  it('answers a 409 needFull with the whole list in the same run', async () => {
    const spool = tempDir();
    await send(spool, list(5), 50);
    api.reply = (_n, req) => (req.envelope.delta ? { status: 409, body: { error: 'need_full', needFull: true } } : 200);
    const next = list(5, { 2: { Status: 'warning', ModifyIndex: 60 } });
    const r = await send(spool, next, 60);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, true, false]);
    expect(api.requests[2]!.envelope.body).toBe(compactBody('checks', goJsonLine(next)));
    expect(fs.readdirSync(spool).filter((n) => n !== 'state')).toEqual([]);
    // The next send is a delta relative to the list just delivered.
    api.reply = () => 200;
    await send(spool, list(5, { 2: { Status: 'passing', ModifyIndex: 70 } }), 70);
    expect(api.requests[3]!.envelope).toMatchObject({ delta: true, base: '60' });
  });

  it('spools the whole list, never a delta, and folds an undelivered change into the next delta', async () => {
    const spool = tempDir();
    await send(spool, list(5), 50);
    api.reply = () => 503;
    const failed = list(5, { 1: { Status: 'critical', ModifyIndex: 80 } });
    expect((await send(spool, failed, 80)).code).toBe(0);
    const [file] = queued(spool);
    const spooled = readJson<Envelope>(path.join(spool, file!));
    expect(spooled.delta).toBeUndefined();
    expect(spooled).toMatchObject({ body: compactBody('checks', goJsonLine(failed)), form: 'projected' });

    api.reply = () => 200;
    api.requests.length = 0;
    const later = list(5, { 1: { Status: 'critical', ModifyIndex: 80 }, 4: { Status: 'warning', ModifyIndex: 90 } });
    expect((await send(spool, later, 90)).code).toBe(0);
    // The backlog first (whole list), then a delta against the last *delivered* send (base 14).
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, true]);
    expect(api.requests[1]!.envelope.base).toBe('14');
    expect(deltaBody(api.requests[1]!.envelope).changed.map((c) => (c as HealthCheckFixture).CheckID)).toEqual(['c1', 'c4']);
    // The state written while a request is in flight is a temp file until the API accepts it.
    expect(fs.readdirSync(path.join(spool, 'state'))).toEqual([path.basename(stateFile(spool))]);
  });

  it('leaves no staged state behind when a send fails, and sweeps stale temp files on whole-list sends', async () => {
    const spool = tempDir();
    await send(spool, list(5), 50);
    const before = fs.readFileSync(stateFile(spool), 'utf8');
    api.reply = () => 503;
    expect((await send(spool, list(5, { 3: { ModifyIndex: 60 } }), 60)).code).toBe(0);
    expect(fs.readFileSync(stateFile(spool), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(spool, 'state'))).toEqual([path.basename(stateFile(spool))]);

    // Left by runs killed mid-request: an old one goes at the next whole list, a recent one stays.
    const stale = `${stateFile(spool)}.99999998.tmp`;
    const recent = `${stateFile(spool)}.99999999.tmp`;
    fs.writeFileSync(stale, '{}');
    fs.writeFileSync(recent, '{}');
    const old = new Date(Date.now() - 2 * 3600_000);
    fs.utimesSync(stale, old, old);
    api.reply = () => 200;
    expect((await send(spool, list(5, { 3: { ModifyIndex: 61 } }), 61, { TOCSIN_FULL_EVERY: '1' })).code).toBe(0);
    expect(api.requests[api.requests.length - 1]!.envelope.delta).toBeUndefined();
    expect(fs.readdirSync(path.join(spool, 'state')).sort()).toEqual([path.basename(stateFile(spool)), path.basename(recent)]);
  });

  it('falls back to whole lists against an API that refuses deltas (an older backend)', async () => {
    const spool = tempDir();
    await send(spool, list(4), 40);
    api.reply = (_n, req) => (req.envelope.delta ? { status: 400, body: { error: 'invalid_input', message: 'a checks watch body must be a JSON array' } } : 200);
    const r = await send(spool, list(4, { 0: { ModifyIndex: 41 } }), 41);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, true, false]);
    expect(fs.existsSync(path.join(spool, 'rejected'))).toBe(false);
    // Until the next full interval: whole lists only, no second refused delta.
    await send(spool, list(4, { 0: { ModifyIndex: 42 } }), 42);
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, true, false, false]);
  });

  it('sends the whole list when CONSUL_INDEX went below the last send\'s (a rebuilt or restored cluster), then deltas again', async () => {
    const spool = tempDir();
    await send(spool, list(4, { 0: { CreateIndex: 4_000_000, ModifyIndex: 5_000_000 } }), 5_000_000);
    await send(spool, list(4, { 0: { CreateIndex: 4_000_000, ModifyIndex: 5_000_001 } }), 5_000_001);
    // The new index space: c1 happens to keep its ModifyIndex (11) but went critical; a diff
    // by ModifyIndex would miss it, and the backend needs the whole list to re-baseline.
    const rebuilt = list(4, { 0: { CreateIndex: 3, ModifyIndex: 3 }, 1: { Status: 'critical', CreateIndex: 4, ModifyIndex: 11 } });
    expect(await send(spool, rebuilt, 14)).toMatchObject({ code: 0, stderr: '' });
    await send(spool, list(4, { 0: { CreateIndex: 3, ModifyIndex: 15 }, 1: { Status: 'critical', CreateIndex: 4, ModifyIndex: 11 } }), 15);
    expect(api.requests.map((q) => `${q.envelope.index}:${q.envelope.delta ?? false}`)).toEqual(['5000000:false', '5000001:true', '14:false', '15:true']);
    expect(api.requests[2]!.envelope.body).toBe(compactBody('checks', goJsonLine(rebuilt)));
    expect(api.requests[3]!.envelope.base).toBe('13'); // the highest ModifyIndex of the rebuilt list
  });

  it('sends the whole list every TOCSIN_FULL_EVERY sends; 1 turns deltas off', async () => {
    const spool = tempDir();
    for (let i = 0; i < 5; i++) await send(spool, list(3, { 0: { ModifyIndex: 100 + i } }), 100 + i, { TOCSIN_FULL_EVERY: '3' });
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, true, true, false, true]);

    const off = tempDir();
    api.requests.length = 0;
    for (let i = 0; i < 3; i++) await send(off, list(3, { 0: { ModifyIndex: 100 + i } }), 100 + i, { TOCSIN_FULL_EVERY: '1' });
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, false, false]);
  });

  it('keeps one state per scope, and treats a damaged state file as missing', async () => {
    const spool = tempDir();
    await send(spool, list(3), 30, { TOCSIN_SCOPE: 'web' });
    await send(spool, list(3), 30, { TOCSIN_SCOPE: 'db' });
    await send(spool, list(3, { 1: { ModifyIndex: 31 } }), 31, { TOCSIN_SCOPE: 'web' });
    expect(api.requests.map((q) => `${q.envelope.scope}:${q.envelope.delta ?? false}`)).toEqual(['web:false', 'db:false', 'web:true']);
    fs.writeFileSync(stateFile(spool, 'db'), '{"v":1,"base":');
    await send(spool, list(3, { 1: { ModifyIndex: 32 } }), 32, { TOCSIN_SCOPE: 'db' });
    expect(api.requests[3]!.envelope.delta).toBeUndefined();
  });

  it('sends anything that is not a well-formed checks list whole, and keeps no state for it', async () => {
    const spool = tempDir();
    for (const body of ['[]\n', 'not json', '[{"CheckID":"a","Status":"passing"}]\n', goJsonLine([healthCheck(), healthCheck()])]) {
      expect((await runShim({ args: ['--watch', 'checks'], env: consulEnv(api.url, spool), stdin: body })).code).toBe(0);
      expect(api.requests[api.requests.length - 1]!.envelope).toMatchObject({ body: body === 'not json' ? body : compactBody('checks', body) });
    }
    expect(api.requests.every((q) => q.envelope.delta === undefined)).toBe(true);
    expect(fs.existsSync(path.join(spool, 'state'))).toBe(false);
  });

  it('replaces a state file of the previous version after one whole list, then sends deltas', async () => {
    const spool = tempDir();
    fs.mkdirSync(path.join(spool, 'state'), { recursive: true });
    // Version 1 held the checks as one node -> check -> ModifyIndex object.
    fs.writeFileSync(stateFile(spool), '{"v":1,"base":12,"deltas":0,"fullAt":' + Date.now() + ',"count":3,"index":12,"checks":{"n0":{"c0":10},"n1":{"c1":11},"n2":{"c2":12}}}');
    await send(spool, list(3, { 1: { ModifyIndex: 13 } }), 13);
    await send(spool, list(3, { 1: { ModifyIndex: 14 } }), 14);
    expect(api.requests.map((q) => q.envelope.delta ?? false)).toEqual([false, true]);
    expect(fs.readFileSync(stateFile(spool), 'utf8')).toMatch(/^\{"v":2,/);
  });

  it('a delta run loads neither node:crypto nor node:zlib (the largest costs of a start after Node\'s own)', async () => {
    const spool = tempDir();
    const preload = path.join(spool, 'modules.cjs');
    const out = path.join(spool, 'modules.json');
    fs.writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(process.moduleLoadList)));`);
    await send(spool, list(3), 20);
    const r = await send(spool, list(3, { 2: { Status: 'critical', ModifyIndex: 21 } }), 21, { NODE_OPTIONS: `--require ${preload}` });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(api.requests[1]?.envelope.delta).toBe(true);
    expect(api.requests[1]?.signatureOk).toBe(true);
    const loaded = JSON.parse(fs.readFileSync(out, 'utf8')) as string[];
    expect(loaded).toEqual(expect.arrayContaining(['NativeModule http']));
    expect(loaded.filter((m) => /^NativeModule (crypto|zlib)$/.test(m))).toEqual([]);
  });
});
