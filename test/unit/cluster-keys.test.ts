/**
 * The Secrets Manager key adapter during a key rotation: the secret is cached for 5 minutes,
 * but a request naming a key the cached secret lacks reads it again (rate-limited), so nodes
 * given the new key right after put-secret-value are not held back for the cache's life.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FRESH_READ_INTERVAL_MS, SecretsManagerClusterKeys } from '../../lambdas/adapters/cluster-keys';
import { verifyWithKeys } from '../../lambdas/app/signed-request';
import { HEADERS } from '../../lambdas/domain/protocol';
import { keyId } from '../../lambdas/domain/signing';
import { checksEnvelope, signedEnvelope } from '../support/signed-requests';

function fakeSecrets(initial: string) {
  const state = { value: initial, reads: 0 };
  const client = {
    send: async (cmd: { input: { SecretId: string } }) => {
      state.reads++;
      expect(cmd.input.SecretId).toBe('tocsin/cluster/prod');
      return { SecretString: state.value };
    },
  } as unknown as SecretsManagerClient;
  return { state, keys: new SecretsManagerClusterKeys(client, 'tocsin/cluster/', new Set(['prod'])) };
}

describe('SecretsManagerClusterKeys', () => {
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
});
