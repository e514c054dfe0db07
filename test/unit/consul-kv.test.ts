import { InputError } from '../../lambdas/domain/input-errors';
import { decideKvGone, decideKvPresent, MAX_KEY_BYTES, normalizeKey, normalizeKeyprefix, type KvContext, type KvObservation, type KvRecordState } from '../../lambdas/domain/consul/kv';
import { bytesDigest } from '../../lambdas/domain/consul/payload';
import { BINARY_BYTES, goJsonLine, kvPair } from '../support/consul-fixtures';

const AT = '2026-03-01T10:00:00.000Z';
const ctx = (over: Partial<KvContext> = {}): KvContext => ({ cluster: 'prod', at: AT, baseline: false, known: false, ...over });
const obs = (value: string | Uint8Array | null, modifyIndex: number, over: Parameters<typeof kvPair>[2] = {}): KvObservation =>
  normalizeKey(JSON.parse(goJsonLine(kvPair('app/config', value, { ModifyIndex: modifyIndex, ...over })))).observations[0]!;
const stored = (over: Partial<KvRecordState> = {}): KvRecordState => ({
  key: 'app/config',
  deleted: false,
  modifyIndex: 100,
  createIndex: 100,
  flags: 0,
  session: '',
  valueDigest: digestOf('old'),
  valueExcerpt: 'old',
  since: '2026-02-01T00:00:00.000Z',
  ...over,
});
function digestOf(value: string): string {
  return obs(value, 1).value.digest;
}

describe('normalizeKey / normalizeKeyprefix', () => {
  it('key: null means the key does not exist', () => {
    expect(normalizeKey(null)).toEqual({ observations: [], rejected: [] });
  });

  it('keyprefix: null means no key under the prefix (an empty list), [] likewise', () => {
    expect(normalizeKeyprefix(null)).toEqual({ observations: [], rejected: [] });
    expect(normalizeKeyprefix([])).toEqual({ observations: [], rejected: [] });
  });

  it('maps every KVPair field and decodes text, binary and null values', () => {
    const body = JSON.parse(goJsonLine([
      kvPair('app/a', 'x<y>&z ✓', { CreateIndex: 5, ModifyIndex: 9, LockIndex: 2, Flags: 42, Session: 'sess-1' }),
      kvPair('app/bin', BINARY_BYTES),
      kvPair('app/folder/', null),
    ]));
    const { observations, rejected } = normalizeKeyprefix(body);
    expect(rejected).toEqual([]);
    expect(observations[0]).toEqual({ key: 'app/a', createIndex: 5, modifyIndex: 9, lockIndex: 2, flags: 42, session: 'sess-1', value: { kind: 'text', digest: bytesDigest({ kind: 'text', size: 10, text: 'x<y>&z ✓' }), shown: 'x<y>&z ✓', stored: 'x<y>&z ✓' } });
    expect(observations.map((o) => o.value.kind)).toEqual(['text', 'binary', 'none']);
  });

  it.each<[string, unknown, string]>([
    ['missing Key', { ...kvPair('k', 'v'), Key: undefined }, 'Key'],
    ['missing ModifyIndex', { ...kvPair('k', 'v'), ModifyIndex: undefined }, 'ModifyIndex'],
    ['bad Value', { ...kvPair('k', 'v'), Value: '***' }, 'Value'],
    ['key too long for a sort key', kvPair('k'.repeat(MAX_KEY_BYTES + 1), 'v'), 'longer'],
    ['multi-byte key over the byte limit', kvPair('é'.repeat(MAX_KEY_BYTES / 2 + 1), 'v'), 'bytes'],
  ])('keyprefix rejects %s and keeps the rest', (_name, bad, reason) => {
    const { observations, rejected } = normalizeKeyprefix([kvPair('ok/1', 'a'), bad, kvPair('ok/2', 'b')]);
    expect(observations.map((o) => o.key)).toEqual(['ok/1', 'ok/2']);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ index: 1 });
    expect(rejected[0]?.reason).toContain(reason);
  });

  it('rejects the wrong shape for each watch', () => {
    expect(() => normalizeKey([kvPair('k', 'v')])).toThrow(InputError);
    expect(() => normalizeKeyprefix(kvPair('k', 'v'))).toThrow(InputError);
    expect(normalizeKey({ ...kvPair('k', 'v'), Key: '' }).rejected).toHaveLength(1);
  });
});

type Row = [string, KvRecordState | undefined, KvObservation, Partial<KvContext>, string];
const verdict = (v: ReturnType<typeof decideKvPresent>): string => {
  const d = v.decision;
  const what = d.kind === 'ignore' ? `ignore:${d.reason}` : d.alert ? `alert:${d.alert.to}` : 'write';
  return `${what} member:${String(v.member)}`;
};

describe('decideKvPresent', () => {
  it.each<Row>([
    ['baseline: nothing written, known from now on', undefined, obs('v', 120), { baseline: true }, 'ignore:baseline member:true'],
    ['new key after the baseline', undefined, obs('v', 120), {}, 'alert:created member:true'],
    ['key known at the baseline changes', undefined, obs('v', 120), { known: true }, 'alert:changed member:true'],
    ['recorded key changes', stored(), obs('new', 120), {}, 'alert:changed member:true'],
    ['older ModifyIndex is stale', stored({ modifyIndex: 130 }), obs('new', 120), {}, 'ignore:stale member:true'],
    ['equal ModifyIndex is stale', stored({ modifyIndex: 120 }), obs('new', 120), {}, 'ignore:stale member:true'],
    ['deleted later: a lagging view stays deleted', stored({ deleted: true, modifyIndex: 150 }), obs('new', 120), {}, 'ignore:stale member:false'],
    ['recreated after a deletion', stored({ deleted: true, modifyIndex: 110 }), obs('again', 120), {}, 'alert:created member:true'],
    ['only the lock/session changed: recorded, no alert', stored(), obs('old', 120, { Session: 's', LockIndex: 1 }), {}, 'write member:true'],
    ['flags change with the same value is a change', stored(), obs('old', 120, { Flags: 7 }), {}, 'alert:changed member:true'],
  ])('%s', (_name, prev, o, c, expected) => {
    expect(verdict(decideKvPresent(prev, o, ctx(c)))).toBe(expected);
  });

  it('describes a change with the previous and new value', () => {
    const { decision } = decideKvPresent(stored(), obs('{"replicas":3}', 120), ctx());
    if (decision.kind !== 'write' || !decision.alert) throw new Error('expected an alert');
    expect(decision.alert).toMatchObject({ kind: 'key', severity: 'info', title: 'INFO: key app/config changed', from: 'present', to: 'changed', node: '-' });
    const details = Object.fromEntries(decision.alert.details);
    expect(details).toMatchObject({ Key: 'app/config', Value: '{"replicas":3}', 'Previous value': 'old', 'Value encoding': 'UTF-8 text', ModifyIndex: '120' });
    expect(decision.state).toMatchObject({ deleted: false, modifyIndex: 120, valueExcerpt: '{"replicas":3}' });
  });

  it('shows a binary value as binary', () => {
    const { decision } = decideKvPresent(undefined, obs(BINARY_BYTES, 120), ctx());
    const details = decision.kind === 'write' ? Object.fromEntries(decision.alert!.details) : {};
    expect(details['Value encoding']).toBe('binary');
    expect(details.Value).toContain('(binary, 10 bytes)');
  });

  it('same change, same alert id; a later change, another id', () => {
    const id = (o: KvObservation) => {
      const d = decideKvPresent(stored(), o, ctx()).decision;
      return d.kind === 'write' ? d.alert?.id : undefined;
    };
    expect(id(obs('new', 120))).toBe(id(obs('new', 120)));
    expect(id(obs('new', 121))).not.toBe(id(obs('new', 120)));
  });
});

describe('decideKvGone', () => {
  it.each<[string, KvRecordState | undefined, number | undefined, string]>([
    ['known key without record disappears', undefined, 200, 'alert:deleted member:false'],
    ['recorded key disappears at a newer index', stored({ modifyIndex: 150 }), 200, 'alert:deleted member:false'],
    ['index unknown: taken as current', stored({ modifyIndex: 150 }), undefined, 'alert:deleted member:false'],
    ['snapshot older than the record (recreated since)', stored({ modifyIndex: 250 }), 200, 'ignore:stale member:undefined'],
    ['already deleted', stored({ deleted: true, modifyIndex: 180 }), 200, 'ignore:unchanged member:false'],
  ])('%s', (_name, prev, snapshotIndex, expected) => {
    expect(verdict(decideKvGone(prev, 'app/config', ctx(snapshotIndex !== undefined ? { snapshotIndex } : {})))).toBe(expected);
  });

  it('records the deletion with a TTL and the last value', () => {
    const { decision } = decideKvGone(stored({ valueExcerpt: 'last' }), 'app/config', ctx({ snapshotIndex: 200 }));
    if (decision.kind !== 'write') throw new Error('expected a write');
    expect(decision.ttlSeconds).toBeGreaterThan(0);
    expect(decision.state).toMatchObject({ deleted: true, modifyIndex: 200, valueExcerpt: 'last' });
    expect(decision.alert).toMatchObject({ title: 'INFO: key app/config deleted', to: 'deleted' });
    expect(Object.fromEntries(decision.alert!.details)['Last value']).toBe('last');
  });
});
