/**
 * Delayed worker Lambda: SQS event source on the timers queue (ReportBatchItemFailures).
 * `for` and `repeat` timers re-check the stored episode; digest timers send the storm digest.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { timerWorker } from '../app/application';
import { emittedMetrics } from '../commons/deployment';
import { jsonLogger } from '../commons/logger';
import { powertoolsMetrics } from '../adapters/powertools-metrics';
import { awsApplication } from './aws-application';

const logger = jsonLogger();
const metrics = powertoolsMetrics({ emitted: emittedMetrics() });
const handleTimer = timerWorker(awsApplication({ logger, metrics }));

export async function handler(event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      // A snapshot's continuation stops starting subjects in time for this invocation's limit.
      const outcome = await handleTimer(record.body, context?.getRemainingTimeInMillis());
      logger.info('timer', { outcome, messageId: record.messageId });
    } catch (err) {
      logger.error('timer failed', { messageId: record.messageId, error: (err as Error).message });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  metrics.flush();
  return { batchItemFailures };
}
