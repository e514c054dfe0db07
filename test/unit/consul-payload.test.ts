import { InputError } from '../../lambdas/domain/input-errors';
import { bytesDigest, decodeBase64Field, describeBytes } from '../../lambdas/domain/consul/payload';
import { b64, BINARY_BYTES } from '../support/consul-fixtures';

describe('decodeBase64Field ([]byte fields: KV Value, event Payload)', () => {
  it.each<[string, unknown, string, string]>([
    ['null (nil slice)', null, 'none', '(none)'],
    ['missing', undefined, 'none', '(none)'],
    ['empty bytes', '', 'text', '(empty)'],
    ['ASCII text', b64('maintenance window 02:00'), 'text', 'maintenance window 02:00'],
    ['UTF-8 with emoji and CJK', b64('déployé 🚀 部署'), 'text', 'déployé 🚀 部署'],
    ['multi-line text keeps its lines', b64('a=1\nb=2\n'), 'text', 'a=1\nb=2'],
    ['JSON with <, > and &', b64('{"html":"<b>&</b>"}'), 'text', '{"html":"<b>&</b>"}'],
  ])('%s', (_name, value, kind, shown) => {
    const d = decodeBase64Field(value, 'Value');
    expect(d.kind).toBe(kind);
    expect(describeBytes(d).trim()).toBe(shown);
  });

  it('flags non-UTF-8 bytes as binary and shows hex and base64, never raw bytes', () => {
    const d = decodeBase64Field(b64(BINARY_BYTES), 'Payload');
    expect(d).toEqual({ kind: 'binary', size: BINARY_BYTES.length, base64: Buffer.from(BINARY_BYTES).toString('base64') });
    const shown = describeBytes(d);
    expect(shown).toContain('(binary, 10 bytes)');
    expect(shown).toContain('hex: 1f 8b 08 00 ff fe 00 01 80 81');
    expect(shown).toContain(`base64: ${Buffer.from(BINARY_BYTES).toString('base64')}`);
    expect(shown).not.toMatch(/[\u0000-\u0008]/);
  });

  it('treats valid UTF-8 with control characters as binary', () => {
    expect(decodeBase64Field(b64('ok\u0000\u0007bell'), 'Value').kind).toBe('binary');
    expect(decodeBase64Field(b64('tab\tand\r\nnewline'), 'Value').kind).toBe('text');
  });

  it('cuts long values and long binary excerpts', () => {
    const long = describeBytes(decodeBase64Field(b64('x'.repeat(5000)), 'Value'), 100);
    expect(long).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
    const bin = describeBytes(decodeBase64Field(b64(new Uint8Array(4000).fill(0xff)), 'Value'), 200);
    expect(bin.length).toBeLessThan(400);
    expect(bin).toContain('(binary, 4000 bytes)');
  });

  it.each([['not base64', '!!!'], ['bad padding', 'abc'], ['a number', 5]])('rejects %s', (_name, value) => {
    expect(() => decodeBase64Field(value, 'Payload')).toThrow(InputError);
  });

  it('digests distinguish values and equal values agree', () => {
    const a = bytesDigest(decodeBase64Field(b64('one'), 'Value'));
    expect(bytesDigest(decodeBase64Field(b64('one'), 'Value'))).toBe(a);
    expect(bytesDigest(decodeBase64Field(b64('two'), 'Value'))).not.toBe(a);
    expect(bytesDigest(decodeBase64Field(null, 'Value'))).toBe('none');
    expect(bytesDigest(decodeBase64Field(b64(BINARY_BYTES), 'Value'))).toMatch(/^[0-9a-f]{32}$/);
  });
});
