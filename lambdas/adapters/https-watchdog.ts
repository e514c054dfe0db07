/**
 * The external dead-man's switch (deployment.watchdog.url, healthchecks.io style): one GET
 * after each successful sweep. https only; bounded in time; never logs the URL's path (it
 * is the check's secret).
 */
import type { Watchdog } from '../app/heartbeat-ports';

export const WATCHDOG_TIMEOUT_MS = 10_000;

export class HttpsWatchdog implements Watchdog {
  readonly target: string;
  private readonly url: URL;

  constructor(
    url: string,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly timeoutMs = WATCHDOG_TIMEOUT_MS,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('the watchdog URL is not a URL');
    }
    if (parsed.protocol !== 'https:') throw new Error('the watchdog URL must be https');
    this.url = parsed;
    this.target = parsed.host;
  }

  async ping(): Promise<void> {
    let res: Response;
    try {
      res = await this.fetchImpl(this.url, { method: 'GET', signal: AbortSignal.timeout(this.timeoutMs), headers: { 'user-agent': 'tocsin-sweeper' } });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new Error(`${this.target}: ${e.name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`}`);
    }
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`${this.target} answered HTTP ${res.status}`);
  }
}
