/** The timers queue's worker under `npm start` (the timers Lambda's stand-in): `for`, `repeat`, storm digests. */
import { timerWorker, type Application } from '../lambdas/app/application';
import type { Logger } from '../lambdas/app/runtime';
import type { LocalBus } from './bus/bus';
import { startQueueWorker, type QueueWorker } from './queue-worker';

export function startTimersWorker(opts: { bus: LocalBus; queue: string; app: Application; logger: Logger }): QueueWorker {
  const handleTimer = timerWorker(opts.app);
  return startQueueWorker({
    bus: opts.bus,
    queue: opts.queue,
    handle: async (messages) =>
      Promise.all(
        messages.map(async (m) => {
          try {
            const outcome = await handleTimer(m.body);
            opts.logger.info('timer', { outcome });
            return { id: m.id, ok: true as const };
          } catch (err) {
            opts.logger.error('timer failed', { error: (err as Error).message });
            return { id: m.id, ok: false as const, retryAfterSeconds: 1 };
          }
        }),
      ),
    onError: (err) => opts.logger.error('timers worker failed', { error: err.message }),
  });
}
