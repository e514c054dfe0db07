import { App } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CONTEXT_KEYS, ConfigError, MAX_CLUSTERS, parseConfig, type ContextKey } from '../../lib/config';
import { severitiesAtOrAbove } from '../../lib/alert-topics';
import { TocsinStack } from '../../lib/tocsin-stack';

const parse = (ctx: Partial<Record<ContextKey, unknown>>) => parseConfig((k) => ctx[k]);

/** Constructing the stack is enough: validation runs before any construct is created. */
const buildStack = (context: Record<string, unknown>) => () =>
  new TocsinStack(new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } }), 'Tocsin');

describe('defaults', () => {
  test('no context: cluster "default", no emails, throttling 50/100, 90-day logs', () => {
    expect(parse({})).toEqual({
      clusters: ['default'],
      alertEmails: [],
      opsEmails: [],
      throttle: { rateLimit: 50, burstLimit: 100 },
      reservedConcurrency: undefined,
      logRetention: RetentionDays.THREE_MONTHS,
    });
  });
});

describe(CONTEXT_KEYS.clusters, () => {
  test('comma-separated, JSON array string, or a real array', () => {
    expect(parse({ 'tocsin:clusters': ' prod , staging-eu,dc1.lab ' }).clusters).toEqual(['prod', 'staging-eu', 'dc1.lab']);
    expect(parse({ 'tocsin:clusters': '["a","b_2"]' }).clusters).toEqual(['a', 'b_2']);
    expect(parse({ 'tocsin:clusters': ['x'] }).clusters).toEqual(['x']);
  });

  test.each([
    ['bad name!'],
    ['-leading-dash'],
    ['has/slash'],
    ['a'.repeat(64)],
    ['ok,ok'],
    ['["a", 1]'],
    ['[not json'],
  ])('%j is rejected with a message naming the key', (value) => {
    expect(() => parse({ 'tocsin:clusters': value })).toThrow(ConfigError);
    expect(() => parse({ 'tocsin:clusters': value })).toThrow(/tocsin:clusters/);
  });

  test(`at most ${MAX_CLUSTERS} clusters`, () => {
    const many = Array.from({ length: MAX_CLUSTERS + 1 }, (_, i) => `c${i}`).join(',');
    expect(() => parse({ 'tocsin:clusters': many })).toThrow(/tocsin:clusters.*at most/);
  });

  test('the stack refuses an invalid cluster name, naming the context key', () => {
    expect(buildStack({ 'tocsin:clusters': 'bad name!' })).toThrow(
      'Invalid CDK context "tocsin:clusters": cluster name "bad name!" must match /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/',
    );
  });
});

describe(CONTEXT_KEYS.emails, () => {
  test('address with optional minimum severity; info means unfiltered', () => {
    expect(parse({ 'tocsin:emails': 'ops@example.com,oncall@example.com:critical,dev@example.com:Warning,all@example.com:info' }).alertEmails).toEqual([
      { address: 'ops@example.com', minSeverity: undefined },
      { address: 'oncall@example.com', minSeverity: 'critical' },
      { address: 'dev@example.com', minSeverity: 'warning' },
      { address: 'all@example.com', minSeverity: undefined },
    ]);
  });

  test('JSON array of strings and objects', () => {
    expect(parse({ 'tocsin:emails': '["a@example.com", {"email": "b@example.com", "minSeverity": "critical"}]' }).alertEmails).toEqual([
      { address: 'a@example.com', minSeverity: undefined },
      { address: 'b@example.com', minSeverity: 'critical' },
    ]);
  });

  test('ops recipients default to the alert addresses', () => {
    expect(parse({ 'tocsin:emails': 'a@example.com:critical,b@example.com' }).opsEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(parse({ 'tocsin:emails': 'a@example.com', 'tocsin:opsEmails': 'sre@example.com' }).opsEmails).toEqual(['sre@example.com']);
  });

  test.each([['not-an-email'], ['a@b'], ['a b@example.com'], ['ops@example.com:urgent'], ['x@example.com,X@example.com'], ['[42]']])(
    '%j is rejected with a message naming the key',
    (value) => {
      expect(() => parse({ 'tocsin:emails': value })).toThrow(/^Invalid CDK context "tocsin:emails": /);
    },
  );

  test('bad ops email names tocsin:opsEmails', () => {
    expect(() => parse({ 'tocsin:opsEmails': 'nope' })).toThrow(/"tocsin:opsEmails": "nope" is not a valid email address/);
  });

  test('the stack refuses a bad email, naming the context key', () => {
    expect(buildStack({ 'tocsin:emails': 'ops@example.com,broken' })).toThrow(/tocsin:emails.*"broken" is not a valid email address/);
  });
});

describe('numeric keys', () => {
  test('strings (from -c) and numbers (from cdk.json) are accepted', () => {
    const c = parse({ 'tocsin:throttleRateLimit': '12.5', 'tocsin:throttleBurstLimit': 30, 'tocsin:reservedConcurrency': '3', 'tocsin:logRetentionDays': 14 });
    expect(c.throttle).toEqual({ rateLimit: 12.5, burstLimit: 30 });
    expect(c.reservedConcurrency).toBe(3);
    expect(c.logRetention).toBe(RetentionDays.TWO_WEEKS);
  });

  test.each([
    ['tocsin:throttleRateLimit', '0'],
    ['tocsin:throttleRateLimit', 'fast'],
    ['tocsin:throttleBurstLimit', '1.5'],
    ['tocsin:reservedConcurrency', '-1'],
    ['tocsin:logRetentionDays', '31'],
  ] as Array<[ContextKey, string]>)('%s=%j is rejected naming the key', (key, value) => {
    expect(() => parse({ [key]: value })).toThrow(`Invalid CDK context "${key}"`);
  });
});

describe('severity filter', () => {
  test('minimum severity expands to itself and everything more severe', () => {
    expect(severitiesAtOrAbove('critical')).toEqual(['critical']);
    expect(severitiesAtOrAbove('warning')).toEqual(['critical', 'warning']);
    expect(severitiesAtOrAbove('info')).toEqual(['critical', 'warning', 'info']);
  });
});
