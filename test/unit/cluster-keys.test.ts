/**
 * The Parameter Store key adapter during a key rotation: the parameter is cached for 5 minutes,
 * but a request naming a key the cached value lacks reads it again (rate-limited), so nodes
 * given the new key right after put-parameter --overwrite are not held back for the cache's life.
 */
import { FRESH_READ_INTERVAL_MS, SsmClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { PARAMETER_STORE_CLIENT } from '../../lambdas/adapters/parameter-values';
import { verifyWithKeys } from '../../lambdas/app/signed-request';
import { HEADERS } from '../../lambdas/domain/protocol';
import { keyId } from '../../lambdas/domain/signing';
import { fakeParameterStore } from '../support/fake-parameter-store';
import { checksEnvelope, signedEnvelope } from '../support/signed-requests';

const NAME = '/tocsin/Tocsin/cluster/prod';

function fakeSecrets(initial: string) {
  const store = fakeParameterStore();
  const put = (value: string) => store.parameters.set(NAME, { value, type: 'SecureString', tier: 'Standard', version: 1 });
  put(initial);
  const state = {
    set value(v: string) {
      put(v);
    },
    get reads() {
      return store.calls.filter((c) => c === `AmazonSSM.GetParameter ${NAME}`).length;
    },
  };
  return { state, store, keys: new SsmClusterKeys(store.ssm, '/tocsin/Tocsin/cluster/', new Set(['prod'])) };
}

describe('SsmClusterKeys', () => {
  let now = 1_800_000_000_000;
  beforeEach(() => jest.spyOn(Date, 'now').mockImplementation(() => now));
  afterEach(() => jest.restoreAllMocks());

  it('caches the secret; a fresh read is honoured at most every 30 s per cluster; unknown clusters are never looked up', async () => {
    const { state, keys } = fakeSecrets('old');
    expect(await keys.keyFor('prod')).toBe('old');
    state.value = 'new old';
    expect(await keys.keyFor('prod')).toBe('old'); // cached
    expect(await keys.keyFor('prod', { fresh: true })).toBe('old'); // read < 30 s ago
    now += FRESH_READ_INTERVAL_MS;
    expect(await keys.keyFor('prod', { fresh: true })).toBe('new old');
    expect(await keys.keyFor('prod', { fresh: true })).toBe('new old');
    expect(state.reads).toBe(2);
    expect(await keys.keyFor('dev', { fresh: true })).toBeUndefined();
    expect(state.reads).toBe(2);
  });

  it('a request signed with the new key right after put-secret-value is accepted at once, not after the cache expires', async () => {
    const { state, keys } = fakeSecrets('old-key');
    const secret = (await keys.keyFor('prod')) as string;
    now += FRESH_READ_INTERVAL_MS;
    state.value = 'new-key old-key';
    const req = signedEnvelope(checksEnvelope('prod', '[]'), { key: 'new-key', cluster: 'prod', timestamp: Math.floor(now / 1000), headers: { [HEADERS.keyId]: keyId('new-key') } });
    expect(await verifyWithKeys(req, keys, 'prod', secret, now)).toEqual({ ok: true });
    // A key the secret lacks even when read again stays unknown, and costs no further read for 30 s.
    const other = signedEnvelope(checksEnvelope('prod', '[]'), { key: 'other', cluster: 'prod', timestamp: Math.floor(now / 1000), headers: { [HEADERS.keyId]: keyId('other') } });
    expect(await verifyWithKeys(other, keys, 'prod', 'new-key old-key', now)).toEqual({ ok: false, reason: 'unknown key' });
    expect(state.reads).toBe(2);
  });

  it('reads the SecureString decrypted; a missing parameter is a broken deployment (throws), not an unknown key', async () => {
    const { store, keys } = fakeSecrets('k1');
    expect(await keys.keyFor('prod')).toBe('k1'); // not the ciphertext GetParameter returns without WithDecryption
    const missing = new SsmClusterKeys(store.ssm, '/tocsin/Other/cluster/', new Set(['prod']));
    await expect(missing.keyFor('prod')).rejects.toThrow('parameter /tocsin/Other/cluster/prod of cluster prod is missing or empty');
    store.failNext('AmazonSSM.GetParameter', 'ThrottlingException');
    now += 10 * 60 * 1000;
    await expect(keys.keyFor('prod')).rejects.toThrow(/ThrottlingException/);
  });
});

describe("the stack's Parameter Store client (PARAMETER_STORE_CLIENT)", () => {
  it('outlasts a throttled burst: Rate exceeded twice, then the key', async () => {
    const store = fakeParameterStore(PARAMETER_STORE_CLIENT);
    store.parameters.set(NAME, { value: 'key', type: 'SecureString', tier: 'Standard', version: 1 });
    store.failTimes('AmazonSSM.GetParameter', 'ThrottlingException', 2);
    const keys = new SsmClusterKeys(store.ssm, '/tocsin/Tocsin/cluster/', new Set(['prod']));
    expect(await keys.keyFor('prod')).toBe('key');
    expect(store.calls.filter((c) => c === `AmazonSSM.GetParameter ${NAME}`)).toHaveLength(3);
  });

  it('with one attempt, the same burst is an error (what the retries are for)', async () => {
    const store = fakeParameterStore();
    store.parameters.set(NAME, { value: 'key', type: 'SecureString', tier: 'Standard', version: 1 });
    store.failTimes('AmazonSSM.GetParameter', 'ThrottlingException', 2);
    await expect(new SsmClusterKeys(store.ssm, '/tocsin/Tocsin/cluster/', new Set(['prod'])).keyFor('prod')).rejects.toThrow(/Rate exceeded/);
  });
});
