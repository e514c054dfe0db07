/** Runs `worker` over `items` with at most `limit` in flight; results keep input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await worker(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * mapLimit that stops starting items once `stop()` says so (checked before each start past
 * the first `limit`, so every run makes progress). Items are started in order: the ones
 * not started are `items.slice(started)`.
 */
export async function mapLimitUntil<T, R>(items: readonly T[], limit: number, worker: (item: T) => Promise<R>, stop: () => boolean): Promise<{ results: R[]; started: number }> {
  const results: R[] = [];
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && (next < limit || !stop())) {
      const i = next++;
      results[i] = await worker(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return { results: results.slice(0, next), started: next };
}
