/**
 * The sweeper under `npm start` (the stand-in for the EventBridge schedule and the sweeper
 * Lambda): one sweep every period, never two at once from this timer (a sweep that runs
 * long delays the next one). The sweep logs its own outcome (app/sweeper.ts).
 */
import type { SweepOutcome } from '../lambdas/app/sweeper';
import type { Logger } from '../lambdas/app/runtime';

export interface LocalSweeper {
  stop(): Promise<void>;
}

export function startLocalSweeper(opts: { sweep: () => Promise<SweepOutcome>; periodMs: number; logger: Logger }): LocalSweeper {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = (): void => {
    running = opts
      .sweep()
      .then(() => undefined)
      .catch((err: Error) => opts.logger.error('sweep crashed', { error: err.message }))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(tick, opts.periodMs);
      });
  };
  timer = setTimeout(tick, opts.periodMs);
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
