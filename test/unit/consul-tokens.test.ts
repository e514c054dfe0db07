import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateLocalConsulTokens, SsmConsulTokens, StaticConsulTokens, consulTokenParameterName } from '../../lambdas/adapters/consul-tokens';
import { bearerToken, tokenDigest, tokenMatches } from '../../lambdas/domain/consul/tokens';
import { fakeParameterStore } from '../support/fake-parameter-store';

const TOKEN = 'tok-3f9a1c';
const DIGEST = tokenDigest(TOKEN);

describe('token digests', () => {
  it('is the hex SHA-256 of the token', () => {
    expect(tokenDigest('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it.each<[string, string, string | undefined, boolean]>([
    ['the right token', TOKEN, DIGEST, true],
    ['an upper-case stored digest', TOKEN, DIGEST.toUpperCase(), true],
    ['a wrong token', 'tok-3f9a1d', DIGEST, false],
    ['the raw token stored instead of its digest', TOKEN, TOKEN, false],
    ['a deploy-time placeholder', TOKEN, 'Xq7rPlaceholderGeneratedBySecretsManager1234567', false],
    ['nothing stored', TOKEN, undefined, false],
  ])('%s', (_name, token, stored, expected) => {
    expect(tokenMatches(token, stored)).toBe(expected);
  });

  it.each<[string, string | undefined, string | undefined]>([
    ['Bearer', 'Bearer abc.DEF-123', 'abc.DEF-123'],
    ['case-insensitive scheme', 'bearer abc', 'abc'],
    ['missing', undefined, undefined],
    ['Basic', 'Basic dXNlcjpwYXNz', undefined],
    ['no token', 'Bearer ', undefined],
    ['two tokens', 'Bearer a b', undefined],
  ])('bearerToken: %s', (_name, header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });
});

describe('local tokens', () => {
  it('creates a token per cluster once, keeps only its digest, and verifies it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-tokens-'));
    const path = join(dir, 'consul-tokens.json');
    const first = loadOrCreateLocalConsulTokens(path, ['prod', 'staging']);
    expect(Object.keys(first.created).sort()).toEqual(['prod', 'staging']);
    const file = readFileSync(path, 'utf8');
    expect(file).not.toContain(first.created.prod);
    expect(JSON.parse(file)).toEqual({ prod: tokenDigest(first.created.prod!), staging: tokenDigest(first.created.staging!) });
    expect(statSync(path).mode & 0o077).toBe(0);

    const again = loadOrCreateLocalConsulTokens(path, ['prod', 'staging']);
    expect(again.created).toEqual({});
    expect(await again.tokens.verify('prod', first.created.prod!)).toBe(true);
    expect(await again.tokens.verify('prod', first.created.staging!)).toBe(false);
    expect(await again.tokens.verify('other', first.created.prod!)).toBe(false);
  });

  it('StaticConsulTokens: unknown clusters and prototype names are refused', async () => {
    const tokens = new StaticConsulTokens({ prod: DIGEST });
    expect(await tokens.verify('prod', TOKEN)).toBe(true);
    expect(await tokens.verify('__proto__', TOKEN)).toBe(false);
    expect(await tokens.verify('toString', TOKEN)).toBe(false);
  });
});

describe('SsmConsulTokens', () => {
  const fake = (digests: Record<string, string>) => {
    const store = fakeParameterStore();
    for (const [name, value] of Object.entries(digests)) store.parameters.set(name, { value, type: 'SecureString', tier: 'Standard', version: 1 });
    return { client: store.ssm, store, calls: () => store.calls.map((c) => c.replace('AmazonSSM.GetParameter ', '')) };
  };
  const PREFIX = '/tocsin/Tocsin/cluster/';

  it('reads <prefix><cluster>/consul-http-token-sha256 decrypted, once per cache period', async () => {
    const { client, calls } = fake({ [consulTokenParameterName(PREFIX, 'prod')]: DIGEST });
    let now = 0;
    const tokens = new SsmConsulTokens(client, PREFIX, new Set(['prod']), () => now);
    expect(await tokens.verify('prod', TOKEN)).toBe(true);
    expect(await tokens.verify('prod', 'wrong')).toBe(false);
    expect(calls()).toEqual(['/tocsin/Tocsin/cluster/prod/consul-http-token-sha256']);
    now += 6 * 60 * 1000;
    await tokens.verify('prod', TOKEN);
    expect(calls()).toHaveLength(2);
  });

  it('never looks up a cluster it does not serve; a missing parameter accepts nothing; outages throw', async () => {
    const { client, store, calls } = fake({});
    const tokens = new SsmConsulTokens(client, PREFIX, new Set(['prod', 'down']));
    expect(await tokens.verify('intruder', TOKEN)).toBe(false);
    expect(calls()).toEqual([]);
    expect(await tokens.verify('prod', TOKEN)).toBe(false);
    store.failNext('AmazonSSM.GetParameter', 'ThrottlingException');
    await expect(tokens.verify('down', TOKEN)).rejects.toThrow(/ThrottlingException/);
  });
});
