/**
 * The Metrics port (app/runtime.ts) in the Lambdas: Powertools Metrics, which writes
 * CloudWatch EMF lines to stdout (CloudWatch Logs extracts the metrics; no API call, no
 * IAM). Namespace and `service` come from the environment the stack sets (METRICS.env).
 * Counts without dimensions are buffered and written by `flush()` (one line per
 * invocation); a metric with dimensions is written at once in its own line (Powertools'
 * single-metric), since one EMF line carries one dimension set. Only the metrics the stack
 * lets the function write (TOCSIN_METRICS, commons/deployment.ts emittedMetrics) are written.
 */
import { Metrics as PowertoolsMetrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Metrics } from '../app/runtime';

export function powertoolsMetrics(opts: { namespace?: string; serviceName?: string; emitted?: 'all' | ReadonlySet<string> } = {}): Metrics {
  const emitted = opts.emitted ?? 'all';
  const pt = new PowertoolsMetrics({
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    ...(opts.serviceName ? { serviceName: opts.serviceName } : {}),
  });
  // Powertools warns on a flush with nothing buffered: most invocations have no undimensioned count.
  let buffered = false;
  const emit = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number, dimensions?: Record<string, string>): void => {
    // A metric nothing reads is not written: each one written is billed (METRICS.env.emitted).
    if (emitted !== 'all' && !emitted.has(name)) return;
    if (!dimensions || Object.keys(dimensions).length === 0) {
      pt.addMetric(name, unit, value);
      buffered = true;
      return;
    }
    const single = pt.singleMetric();
    single.addDimensions(dimensions);
    single.addMetric(name, unit, value);
  };
  return {
    count: (name, value = 1, dimensions) => emit(name, MetricUnit.Count, value, dimensions),
    milliseconds: (name, value, dimensions) => emit(name, MetricUnit.Milliseconds, value, dimensions),
    flush: () => {
      if (!buffered) return;
      buffered = false;
      pt.publishStoredMetrics();
    },
  };
}
