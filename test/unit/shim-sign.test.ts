/**
 * The shim signs without node:crypto (agent-shim/src/sha256.ts, sign.ts): its SHA-256, HMAC,
 * signature and key id must be those of node:crypto and lambdas/domain/signing.ts, byte for
 * byte, on both sides of the size where it hands bodies to node:crypto.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { hmacSha256, sha256 } from '../../agent-shim/src/sha256';
import { JS_HASH_MAX_BYTES, keyId as shimKeyId, sign as shimSign } from '../../agent-shim/src/sign';
import { keyId, sign, verify } from '../../lambdas/domain/signing';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('shim SHA-256 and HMAC-SHA256', () => {
  it('gives the FIPS 180-2 and RFC 4231 results', () => {
    expect(hex(sha256(utf8('')))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hex(sha256(utf8('abc')))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(hex(sha256(utf8('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(hex(sha256(Buffer.alloc(1_000_000, 'a')))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
    // RFC 4231 test cases 1, 2 and 6 (a key longer than the block: hashed first).
    expect(hex(hmacSha256(Buffer.alloc(20, 0x0b), utf8('Hi There')))).toBe('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7');
    expect(hex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?')))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(hex(hmacSha256(Buffer.alloc(131, 0xaa), utf8('Test Using Larger Than Block-Size Key - Hash Key First')))).toBe(
      '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54',
    );
  });

  it('matches node:crypto at every length around the block and padding boundaries, and on random data', () => {
    const data = randomBytes(300);
    for (let n = 0; n <= 300; n++) {
      const part = data.subarray(0, n);
      expect(hex(sha256(part))).toBe(createHash('sha256').update(part).digest('hex'));
      expect(hex(hmacSha256(data.subarray(n % 150), part))).toBe(createHmac('sha256', data.subarray(n % 150)).update(part).digest('hex'));
    }
    const big = randomBytes(200_003);
    expect(hex(sha256(big))).toBe(createHash('sha256').update(big).digest('hex'));
  });
});

describe('shim request signature', () => {
  const KEYS = ['k', 'bench-key', randomBytes(40).toString('base64url'), 'ключ-ü-✓', 'x'.repeat(100)];

  it('is signing.ts sign() and keyId(), for bodies hashed in JavaScript and by node:crypto', () => {
    const sizes = [0, 1, 915, JS_HASH_MAX_BYTES - 1, JS_HASH_MAX_BYTES, JS_HASH_MAX_BYTES + 1, 280_000];
    for (const key of KEYS) {
      expect(shimKeyId(key)).toBe(keyId(key));
      for (const size of sizes) {
        const body = randomBytes(size);
        const signature = shimSign(key, 'POST', '/v1/ingest', '1764662400', body);
        expect(signature).toBe(sign(key, 'POST', '/v1/ingest', '1764662400', body));
        expect(
          verify({ key, keyId: shimKeyId(key), method: 'POST', path: '/v1/ingest', timestamp: '1764662400', signature, body, nowSeconds: 1764662400, windowSeconds: 300 }),
        ).toEqual({ ok: true });
      }
    }
  });
});
