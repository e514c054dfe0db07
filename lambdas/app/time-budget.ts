/**
 * When a request's (or a continuation's) processing stops starting new subjects:
 * commons/deployment.ts PROCESSING_BUDGET, shortened by the runtime's own limit (a Lambda's
 * remaining time) when there is one. Epoch ms by the application's clock.
 */
import { PROCESSING_BUDGET } from '../commons/deployment';

export function processingDeadline(nowMs: number, opts: { budgetMs?: number; remainingMs?: number } = {}): number {
  const budget = opts.budgetMs ?? PROCESSING_BUDGET.stopStartingAfterMs;
  const byRuntime = opts.remainingMs !== undefined ? opts.remainingMs - PROCESSING_BUDGET.finishReserveMs : Number.POSITIVE_INFINITY;
  return nowMs + Math.max(0, Math.min(budget, byRuntime));
}
