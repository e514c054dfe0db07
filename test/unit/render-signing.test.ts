import { checkAlert, isZeroValue } from '../../lambdas/domain/consul/check-alerts';
import { alertAttributes, alertFromNotification } from '../../lambdas/domain/render';
import { emailBody, emailSubject, MAX_SUBJECT_CHARS } from '../../channels/email/render';
import { snsMessage } from '../../lambdas/adapters/sns-publisher';
import { sign, verify } from '../../lambdas/domain/signing';
import { normalizeChecks } from '../../lambdas/domain/consul/checks';
import { healthCheck } from '../support/consul-fixtures';
import type { CheckTransition } from '../../lambdas/domain/consul/check-transitions';

const transition = (overrides: Partial<Parameters<typeof healthCheck>[0]> = {}): CheckTransition => {
  const observation = normalizeChecks([healthCheck({ Status: 'critical', ModifyIndex: 42, ...overrides })]).observations[0]!;
  return {
    cluster: 'prod',
    from: 'passing',
    to: 'critical',
    previous: { status: 'passing', modifyIndex: 30, since: '2026-01-01T00:00:00.000Z' },
    observation,
    at: '2026-01-02T00:00:00.000Z',
  };
};

describe('alert rendering', () => {
  it('builds a deterministic alert id per change', () => {
    const a = checkAlert(transition(), { severity: 'critical', state: 'firing' });
    const b = checkAlert(transition(), { severity: 'critical', state: 'firing' });
    const c = checkAlert(transition({ ModifyIndex: 43 }), { severity: 'critical', state: 'firing' });
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
  });

  it('keeps email subjects within 100 characters and on one line', () => {
    const alert = checkAlert(transition({ Name: `very long name\n${'x'.repeat(300)}` }), { severity: 'critical', state: 'firing' });
    const subject = emailSubject(alert);
    expect(subject.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
    expect(subject).not.toMatch(/[\r\n]/);
    expect(subject.startsWith('[tocsin prod] CRITICAL:')).toBe(true);
  });

  it('says what, where, since when, with type, definition and an output excerpt', () => {
    const body = emailBody(checkAlert(transition({ Output: 'connection refused' }), { severity: 'critical', state: 'firing' }));
    expect(body).toContain('Node: web-1');
    expect(body).toContain('Status: passing -> critical');
    expect(body).toContain('Previous state since: 2026-01-01T00:00:00.000Z');
    expect(body).toContain('Type: http');
    expect(body).toContain('Interval=10s');
    expect(body).toContain('Output: connection refused');
  });

  it('sets filterable attributes and one body per protocol', () => {
    const alert = checkAlert(transition(), { severity: 'critical', state: 'firing' });
    expect(alertAttributes(alert)).toEqual({ severity: 'critical', cluster: 'prod', node: 'web-1', service: 'web', check: 'service:web', kind: 'check' });
    const { message } = snsMessage(alert);
    const doc = JSON.parse(message) as Record<string, string>;
    expect(doc.email).toContain('CRITICAL');
    expect(JSON.parse(doc.sqs!)).toEqual(alert);
    expect(alertFromNotification(message)).toEqual(alert);
    expect(alertFromNotification(doc.sqs!)).toEqual(alert);
  });
});

describe('email subjects cut at a word boundary', () => {
  const subjectOf = (title: string, cluster = 'prod'): string =>
    emailSubject({ id: 'x', cluster, source: 'consul', kind: 'catalog', severity: 'warning', state: 'firing', node: 'n', title, to: 'removed', at: '', details: [] });
  it.each([
    // Seen on a real Consul cluster, cut mid-word before.
    [
      'WARNING: service api-gateway [api-gateway-1] on node web-3 is no longer listed (deregistered, or its node left)',
      '[tocsin prod] WARNING: service api-gateway [api-gateway-1] on node web-3 is no longer listed...',
    ],
    // The limit falls right after a word: that word is kept whole.
    [`CRITICAL: ${'a'.repeat(73)} bbb ccc`, `[tocsin prod] CRITICAL: ${'a'.repeat(73)}...`],
    // No space late enough: cut mid-word rather than lose most of the subject.
    [`CRITICAL: ${'x'.repeat(200)}`, `[tocsin prod] CRITICAL: ${'x'.repeat(MAX_SUBJECT_CHARS - 3 - 24)}...`],
    ['CRITICAL: short', '[tocsin prod] CRITICAL: short'],
  ])('%s', (title, subject) => {
    const s = subjectOf(title);
    expect(s).toBe(subject);
    expect(s.length).toBeLessThanOrEqual(MAX_SUBJECT_CHARS);
  });
});

describe("a check's Definition leaves out the catalog's zero values", () => {
  it.each([
    ['', true], [null, true], [false, true], [0, true], ['0s', true], ['0', true], ['0ms', true], ['0.0s', true], [{}, true], [[], true],
    ['10s', false], ['0.5s', false], ['http://x/health', false], [true, false], [3, false], [{ a: ['1'] }, false], ['00:00', false],
  ])('%j is zero: %s', (value, zero) => expect(isZeroValue(value)).toBe(zero));

  it('a Consul 1.7 TTL check shows no Definition line; an HTTP check shows only its settings', () => {
    const consul17 = { Interval: '0s', Timeout: '0s', DeregisterCriticalServiceAfter: '0s', HTTP: '', Header: null, Method: '', TLSSkipVerify: false, TCP: '' };
    const def = (Definition: Record<string, unknown>): string | undefined =>
      Object.fromEntries(checkAlert(transition({ Definition } as never), { severity: 'critical', state: 'firing' }).details).Definition;
    expect(def(consul17)).toBeUndefined();
    expect(def({ ...consul17, HTTP: 'http://10.0.0.1/health', Interval: '10s' })).toBe('Interval=10s HTTP=http://10.0.0.1/health');
  });
});

describe('signing', () => {
  const body = Buffer.from('{"v":1}');
  const base = { key: 'k1', method: 'POST', path: '/v1/ingest', body, nowSeconds: 1000, windowSeconds: 300 };
  it('accepts a fresh, correct signature', () => {
    expect(verify({ ...base, timestamp: '1000', signature: sign('k1', 'POST', '/v1/ingest', '1000', body) })).toEqual({ ok: true });
  });
  it.each([
    ['missing', '1000', undefined, 'missing signature'],
    ['garbage', '1000', 'v1=zz', 'malformed signature'],
    ['expired', '600', sign('k1', 'POST', '/v1/ingest', '600', body), 'timestamp outside window'],
    ['future', '1400', sign('k1', 'POST', '/v1/ingest', '1400', body), 'timestamp outside window'],
    ['wrong key', '1000', sign('k2', 'POST', '/v1/ingest', '1000', body), 'signature mismatch'],
    ['other path', '1000', sign('k1', 'POST', '/v1/other', '1000', body), 'signature mismatch'],
    ['other body', '1000', sign('k1', 'POST', '/v1/ingest', '1000', 'x'), 'signature mismatch'],
  ])('rejects a %s signature', (_n, timestamp, signature, reason) => {
    expect(verify({ ...base, timestamp, signature })).toEqual({ ok: false, reason });
  });
});
