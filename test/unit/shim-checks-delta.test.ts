/**
 * The shim's checks delta state (agent-shim/src/checks-delta.ts): keys + indexes from one
 * pass over the list, the diff by position when the checks are those of the last state and
 * by key when they are not, and the state file that holds them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeltaStateFile, diffChecks, keySet, readChecksView, stateText, type ChecksView, type DeltaState } from '../../agent-shim/src/checks-delta';
import { healthCheck, type HealthCheckFixture } from '../support/consul-fixtures';

const list = (n: number, overrides: Record<number, Partial<HealthCheckFixture>> = {}) =>
  Array.from({ length: n }, (_, i) => healthCheck({ Node: `n${Math.floor(i / 3)}`, CheckID: `c${i}`, ModifyIndex: 10 + i, ...overrides[i] }));

const view = (checks: unknown[]): ChecksView => {
  const v = readChecksView(JSON.parse(JSON.stringify(checks)));
  if (!v) throw new Error('not a checks view');
  return v;
};

const stateOf = (v: ChecksView, extra: Partial<DeltaState> = {}): DeltaState => ({
  v: 2,
  base: v.maxIndex,
  deltas: 0,
  fullAt: 1_700_000_000_000,
  count: v.indexes.length,
  keys: v.keys,
  indexes: v.indexes,
  ...extra,
});

describe('readChecksView', () => {
  it('lists each node once per run of its checks, the indexes in list order, and the highest index', () => {
    const v = view([...list(4), healthCheck({ Node: 'n0', CheckID: 'late', ModifyIndex: 99 })]);
    expect(JSON.parse(v.keys)).toEqual(['n0', ['c0', 'c1', 'c2'], 'n1', ['c3'], 'n0', ['late']]);
    expect(v.indexes).toEqual([10, 11, 12, 13, 99]);
    expect(v.maxIndex).toBe(99);
  });

  it('refuses what is not a non-empty list of checks with a Node, a CheckID and a safe ModifyIndex', () => {
    for (const bad of [{}, [], [null], [{ CheckID: 'a', ModifyIndex: 1 }], [{ Node: 'n', CheckID: '', ModifyIndex: 1 }], [{ Node: 'n', CheckID: 'a', ModifyIndex: -1 }], [{ Node: 'n', CheckID: 'a', ModifyIndex: 2 ** 53 }]]) {
      expect(readChecksView(bad)).toBeUndefined();
    }
  });

  it('finds a key listed twice (keySet), whether or not its node\'s entries are together', () => {
    expect(keySet(view(list(5)))).toBeDefined();
    expect(keySet(view([...list(5), healthCheck({ Node: 'n0', CheckID: 'c1' })]))).toBeUndefined();
    expect(keySet(view([healthCheck({ Node: 'constructor', CheckID: '__proto__' }), healthCheck({ Node: 'constructor', CheckID: 'toString' })]))).toBeDefined();
  });
});

describe('diffChecks', () => {
  it('compares by position when the checks are the same, in the same order', () => {
    const before = view(list(9));
    const after = list(9, { 4: { Status: 'critical', ModifyIndex: 50 } });
    expect(diffChecks(view(after), stateOf(before))).toEqual({ changed: [JSON.parse(JSON.stringify(after[4]))], removed: [] });
    expect(diffChecks(view(list(9)), stateOf(before))).toEqual({ changed: [], removed: [] });
  });

  it('compares by key when checks came, went or moved', () => {
    const before = view(list(6));
    const checks = list(6, { 1: { ModifyIndex: 70 } });
    // c2 gone, c6 new, the rest reversed: only c1 (new index) and c6 (new) changed.
    const after = [healthCheck({ Node: 'n9', CheckID: 'c6', ModifyIndex: 80 }), ...checks.filter((c) => c.CheckID !== 'c2').reverse()];
    const diff = diffChecks(view(after), stateOf(before));
    expect(diff?.changed.map((c) => (c as HealthCheckFixture).CheckID)).toEqual(['c6', 'c1']);
    expect(diff?.removed).toEqual([{ Node: 'n0', CheckID: 'c2' }]);
  });

  it('gives up (a whole list) when the keys of the state cannot be read', () => {
    const before = stateOf(view(list(3)), { keys: '["n0",' });
    expect(diffChecks(view(list(4)), before)).toBeUndefined();
    expect(diffChecks(view(list(4)), { ...before, keys: '["n0",[1]]' })).toBeUndefined();
    expect(diffChecks(view(list(4)), { ...before, keys: '["n0",["c0","c1"]]' })).toBeUndefined(); // 2 keys, 3 indexes
  });
});

describe('DeltaStateFile', () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tocsin-delta-state-'));

  it('reads back what it staged and committed, as three lines of JSON', () => {
    const store = new DeltaStateFile(dir(), 'prod', 'web');
    const state = stateOf(view([...list(5), healthCheck({ Node: 'nœud-ü', CheckID: 'svc:✓', ModifyIndex: 7 })]), { index: 123, paused: true });
    expect(store.load()).toBeUndefined();
    const staged = store.stage(state);
    expect(store.load()).toBeUndefined(); // not before commit()
    staged?.commit();
    expect(store.load()).toEqual(state);
    expect(fs.readFileSync(store.file, 'utf8')).toBe(stateText(state));
    expect(fs.readFileSync(store.file, 'utf8').split('\n')).toHaveLength(4);
  });

  it('treats a torn, foreign or older file as none', () => {
    const store = new DeltaStateFile(dir(), 'prod', 'web');
    const text = stateText(stateOf(view(list(4))));
    fs.mkdirSync(path.dirname(store.file), { recursive: true });
    for (const bad of [
      text.slice(0, text.length - 5),
      text.replace('"count":4', '"count":5'),
      text.replace('[10,11,12,13]', '[10,11,12,-1]'),
      text.replace('"v":2', '"v":3'),
      // A state of the previous version: one JSON object, checks as node -> check -> index.
      '{"v":1,"base":13,"deltas":0,"fullAt":1700000000000,"count":4,"checks":{"n0":{"c0":10,"c1":11,"c2":12},"n1":{"c3":13}}}',
      '',
    ]) {
      fs.writeFileSync(store.file, bad);
      expect(store.load()).toBeUndefined();
    }
  });
});
