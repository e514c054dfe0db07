/**
 * The Metrics port's Lambda adapter: Powertools writes CloudWatch EMF lines to stdout.
 * Parsed here as CloudWatch Logs would: the _aws directive (namespace, dimension sets,
 * metric names and units) and the values at the top level.
 */
import { powertoolsMetrics } from '../../lambdas/adapters/powertools-metrics';
import { emittedMetrics, METRICS } from '../../lambdas/commons/deployment';

let lines: string[];
let errors: string[];
let spies: jest.SpyInstance[];

beforeEach(() => {
  lines = [];
  errors = [];
  spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    }),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      errors.push(String(chunk));
      return true;
    }),
  ];
});

afterEach(() => {
  for (const s of spies) s.mockRestore();
});

const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, any>);

test('a metric with dimensions is written at once, in its own EMF line, with the service dimension', () => {
  const m = powertoolsMetrics({ namespace: 'tocsin/Prod', serviceName: 'ingest' });
  m.count(METRICS.names.requestsRefused, 1, { Status: '401' });
  const [emf, ...rest] = parsed();
  expect(rest).toEqual([]);
  expect(emf!._aws.CloudWatchMetrics).toEqual([
    { Namespace: 'tocsin/Prod', Dimensions: [['service', 'Status']], Metrics: [{ Name: 'RequestsRefused', Unit: 'Count' }] },
  ]);
  expect(typeof emf!._aws.Timestamp).toBe('number');
  expect(emf).toMatchObject({ service: 'ingest', Status: '401', RequestsRefused: 1 });
});

test('counts without dimensions wait for flush(), summed per name; milliseconds carry their unit', () => {
  const m = powertoolsMetrics({ namespace: 'tocsin/Prod', serviceName: 'sweeper' });
  m.count(METRICS.names.sweeps);
  m.count(METRICS.names.sweepFailures, 0);
  m.milliseconds(METRICS.names.sweepLag, 61234);
  expect(lines).toEqual([]);
  m.flush();
  const [emf, ...rest] = parsed();
  expect(rest).toEqual([]);
  const [directive] = emf!._aws.CloudWatchMetrics;
  expect(directive.Namespace).toBe('tocsin/Prod');
  expect(directive.Dimensions).toEqual([['service']]);
  expect(directive.Metrics).toEqual(
    expect.arrayContaining([
      { Name: 'Sweeps', Unit: 'Count' },
      { Name: 'SweepFailures', Unit: 'Count' },
      { Name: 'SweepLagMs', Unit: 'Milliseconds' },
    ]),
  );
  expect(emf).toMatchObject({ service: 'sweeper', Sweeps: 1, SweepFailures: 0, SweepLagMs: 61234 });
  // The buffer is cleared: a second flush writes nothing.
  m.flush();
  expect(lines).toHaveLength(1);
});

test('a flush with nothing buffered writes nothing and warns about nothing (most invocations)', () => {
  const m = powertoolsMetrics({ namespace: 'tocsin/Prod', serviceName: 'timers' });
  m.flush();
  expect(lines).toEqual([]);
  expect(errors).toEqual([]);
});

test('namespace and service from the environment the stack sets (METRICS.env)', () => {
  const saved = { ...process.env };
  process.env[METRICS.env.namespace] = 'tocsin/FromEnv';
  process.env[METRICS.env.service] = 'timers';
  try {
    const m = powertoolsMetrics();
    m.count(METRICS.names.alertsPublished, 1, { Kind: 'check' });
  } finally {
    process.env = saved;
  }
  const [emf] = parsed();
  expect(emf!._aws.CloudWatchMetrics[0].Namespace).toBe('tocsin/FromEnv');
  expect(emf).toMatchObject({ service: 'timers', Kind: 'check', AlertsPublished: 1 });
});

test('only the metrics TOCSIN_METRICS names are written (the stack names what its alarms and dashboard read)', () => {
  const only = emittedMetrics({ [METRICS.env.emitted]: METRICS.names.sweepLag });
  const m = powertoolsMetrics({ namespace: 'tocsin/Prod', serviceName: 'sweeper', emitted: only });
  m.count(METRICS.names.sweeps);
  m.count(METRICS.names.transitions, 2, { Source: 'sweeper' });
  m.milliseconds(METRICS.names.sweepLag, 61234);
  m.flush();
  const written = parsed().flatMap((l) => (l._aws.CloudWatchMetrics as Array<{ Metrics: Array<{ Name: string }> }>).flatMap((d) => d.Metrics.map((x) => x.Name)));
  expect(written).toEqual([METRICS.names.sweepLag]);

  lines = [];
  const none = powertoolsMetrics({ namespace: 'tocsin/Prod', serviceName: 'ingest', emitted: emittedMetrics({ [METRICS.env.emitted]: METRICS.noneEmitted }) });
  none.count(METRICS.names.alertsPublished, 1, { Kind: 'check' });
  none.count(METRICS.names.sweeps);
  none.flush();
  expect(lines).toEqual([]);
  expect(errors).toEqual([]);
});

test('TOCSIN_METRICS: unset or * is every metric, a list exactly those, - none', () => {
  expect(emittedMetrics({})).toBe('all');
  expect(emittedMetrics({ [METRICS.env.emitted]: '*' })).toBe('all');
  expect(emittedMetrics({ [METRICS.env.emitted]: '-' })).toEqual(new Set());
  expect(emittedMetrics({ [METRICS.env.emitted]: 'SweepLagMs, Sweeps' })).toEqual(new Set(['SweepLagMs', 'Sweeps']));
});
