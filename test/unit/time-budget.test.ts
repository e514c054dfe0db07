/** The processing budget (PROCESSING_BUDGET) and the loop that stops starting work when it is spent. */
import { mapLimitUntil } from '../../lambdas/app/concurrency';
import { processingDeadline } from '../../lambdas/app/time-budget';
import { PROCESSING_BUDGET } from '../../lambdas/commons/deployment';

describe('processingDeadline', () => {
  it('is 20 s after the start, answered within 25 s: under API Gateway 29 s', () => {
    expect(processingDeadline(1000)).toBe(1000 + PROCESSING_BUDGET.stopStartingAfterMs);
    expect(PROCESSING_BUDGET.stopStartingAfterMs + PROCESSING_BUDGET.finishReserveMs).toBeLessThanOrEqual(PROCESSING_BUDGET.answerWithinMs);
    expect(PROCESSING_BUDGET.answerWithinMs).toBeLessThan(29_000);
  });

  it("is shortened by the runtime's remaining time less the reserve, never before the start", () => {
    expect(processingDeadline(1000, { remainingMs: 12_000 })).toBe(1000 + 12_000 - PROCESSING_BUDGET.finishReserveMs);
    expect(processingDeadline(1000, { remainingMs: 2_000 })).toBe(1000);
    expect(processingDeadline(1000, { budgetMs: 300 })).toBe(1300);
  });
});

describe('mapLimitUntil', () => {
  it('stops starting items once told, keeps the order, and always starts the first `limit`', async () => {
    let done = 0;
    const { results, started } = await mapLimitUntil([1, 2, 3, 4, 5, 6, 7, 8], 2, async (n) => (done++, n * 10), () => done >= 3);
    expect(started).toBeGreaterThanOrEqual(3);
    expect(started).toBeLessThan(8);
    expect(results).toEqual([10, 20, 30, 40, 50, 60, 70, 80].slice(0, started));
    expect((await mapLimitUntil([1, 2, 3], 2, async (n) => n, () => true)).started).toBe(2);
  });
});
