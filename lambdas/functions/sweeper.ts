/**
 * Sweeper Lambda, invoked every minute by an EventBridge schedule (asynchronously: its
 * failures go to the function's dead-letter queue and the Errors alarm). One sweep of
 * every configured cluster (app/sweeper.ts); a failed sweep throws after logging it.
 */
import { sweeper } from '../app/application-sweeper';
import type { SweepOutcome } from '../app/sweeper';
import { jsonLogger } from '../commons/logger';
import { powertoolsMetrics } from '../adapters/powertools-metrics';
import { emittedMetrics, LAMBDA_ENV } from '../commons/deployment';
import { awsApplication } from './aws-application';

const logger = jsonLogger();
const watchdogUrl = process.env[LAMBDA_ENV.watchdogUrl] || undefined;
const metrics = powertoolsMetrics({ emitted: emittedMetrics() });
const sweep = sweeper(awsApplication({ logger, metrics, ...(watchdogUrl ? { watchdogUrl } : {}) }));

export async function handler(): Promise<SweepOutcome> {
  let outcome: SweepOutcome;
  try {
    outcome = await sweep();
  } finally {
    metrics.flush();
  }
  if (!outcome.ok) {
    const failed = [...outcome.tasks.filter((t) => !t.ok).map((t) => `${t.name}: ${(t.errors ?? []).join('; ')}`), ...outcome.health.errors];
    throw new Error(`sweep failed: ${failed.join(' | ').slice(0, 1000)}`);
  }
  return outcome;
}
