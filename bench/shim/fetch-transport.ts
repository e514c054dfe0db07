/**
 * Benchmark-only stand-in for agent-shim/src/transport.ts that POSTs with the global
 * `fetch` (undici) instead of node:http. bench/shim/build-variant.ts swaps it in for the
 * shim's `./transport` import; it is never shipped.
 *
 * Everything but the HTTP client is the real module's: its pure helpers (prepare, classify,
 * heldHint...) are re-exported, and this Transport extends the real one, overriding only
 * `post` - signing, the 413 short-cut, Date-header clock-skew correction and the outcome
 * classes (`sent`, `retry`, `held`, `rejected`) are the shipped code. The real module loads
 * node:http(s) only when its own `post` first runs, so this variant never loads them and
 * figure 1 compares the two clients, nothing else. test/unit/bench-fetch-transport.test.ts
 * fails when the stand-in no longer builds or matches the real module's exports.
 */
import { classify, Transport as NodeHttpTransport, type Outcome } from '../../agent-shim/src/transport';
import { CLOCK_SKEW } from '../../lambdas/domain/protocol';

export * from '../../agent-shim/src/transport';

/** As the real transport: at most this much of an error body is read. */
const MAX_ERROR_BODY_BYTES = 16 * 1024;

export class Transport extends NodeHttpTransport {
  protected override async post(body: Buffer, headers: Record<string, string>, remaining: number, onSent?: () => void): Promise<Outcome> {
    // fetch computes the length itself and refuses a caller's content-length.
    const { 'content-length': _length, ...rest } = headers;
    try {
      const res = await fetch(this.url, { method: 'POST', headers: rest, body, signal: AbortSignal.timeout(remaining), redirect: 'manual' });
      // fetch resolves once the status line is in, after the body went out.
      onSent?.();
      const receivedMs = Date.now();
      const date = res.headers.get('date') ?? undefined;
      const age = res.headers.get('age') ?? undefined;
      if (res.status >= 200 && res.status < 300) {
        this.observe(date, age, receivedMs, false);
        void res.body?.cancel();
        return { kind: 'sent', status: res.status };
      }
      const text = Buffer.from(await res.arrayBuffer()).subarray(0, MAX_ERROR_BODY_BYTES);
      const outcome = classify(res.status, res.statusText, text, res.headers.get('location') ?? undefined);
      this.observe(date, age, receivedMs, outcome.kind === 'held' && outcome.code === CLOCK_SKEW.error);
      return outcome;
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      if (err.name === 'TimeoutError') return { kind: 'retry', reason: `no answer within the time bound (${Math.round(remaining)} ms)` };
      return { kind: 'retry', reason: err.cause?.message ? `${err.cause.code ?? err.message}: ${err.cause.message}` : err.message };
    }
  }
}
