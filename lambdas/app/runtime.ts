/** What every use case takes from the process it runs in: the time and a log. */

export interface Clock {
  nowMs(): number;
}

export const systemClock: Clock = { nowMs: () => Date.now() };

/** Structured log lines (commons/logger.ts writes them as JSON). */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * tocsin's own numbers (commons/deployment.ts METRICS): the Lambdas write them as CloudWatch
 * EMF through Powertools (adapters/powertools-metrics.ts); `npm start` and tests use
 * `noMetrics` or a recorder. Dimensions must stay low-cardinality (no node, no subject).
 */
export interface Metrics {
  /** Adds `value` (default 1) to a count. */
  count(name: string, value?: number, dimensions?: Record<string, string>): void;
  /** Records a measured duration in milliseconds. */
  milliseconds(name: string, value: number, dimensions?: Record<string, string>): void;
  /** Writes what was buffered: at the end of every invocation. */
  flush(): void;
}

export const noMetrics: Metrics = { count: () => {}, milliseconds: () => {}, flush: () => {} };
