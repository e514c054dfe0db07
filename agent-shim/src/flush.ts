/**
 * Resend spooled envelopes oldest first, stopping at the first retryable failure or
 * refusal that can pass (keeps order: what follows would be refused alike).
 */
import type { Envelope } from '../../lambdas/domain/types';
import { isEnvelope } from './envelope';
import { EXIT, worse } from './exit-codes';
import * as log from './log';
import type { Spool } from './spool';
import type { Transport } from './transport';

/** Do not start a request with less time than this left. */
const MIN_SEND_MS = 100;

export interface FlushResult {
  /**
   * drained: nothing (left) to send; busy: another process holds the flush lock;
   * blocked: the API is unreachable (retryable failure); held: refused for a reason that can
   * pass (clock skew, a key unknown during a rotation), the file stays queued; auth: 401/403
   * refused for good; time: bound reached.
   */
  state: 'drained' | 'busy' | 'blocked' | 'held' | 'auth' | 'time';
  sent: number;
  rejected: number;
  reason?: string;
  /** state 'held': the API's error code (protocol.ts CLOCK_SKEW or UNKNOWN_KEY). */
  heldCode?: string;
  code: number;
}

export async function flushSpool(spool: Spool, transport: Transport, netDeadline: number, lockUntil: number): Promise<FlushResult> {
  const result: FlushResult = { state: 'drained', sent: 0, rejected: 0, code: EXIT.OK };
  let pending: string[];
  try {
    pending = spool.list();
  } catch (e) {
    log.error(`cannot read spool directory ${spool.dir}: ${(e as Error).message}`);
    return result;
  }
  // Common case: empty spool, no lock, no extra syscalls.
  if (pending.length === 0) return result;
  const lock = spool.tryLock(lockUntil);
  if (!lock) return { ...result, state: 'busy' };
  try {
    spool.cleanStaleTemps(Date.now());
    const tried = new Set<string>();
    // Re-list after each pass: concurrent invocations may have spooled more meanwhile.
    for (;;) {
      const batch = spool.list().filter((n) => !tried.has(n));
      if (batch.length === 0) return result;
      for (const name of batch) {
        tried.add(name);
        if (netDeadline - Date.now() < MIN_SEND_MS) {
          return { ...result, state: 'time', reason: 'time bound reached while resending spooled envelopes' };
        }
        const read = spool.read(name);
        if (!read.ok && read.gone) continue;
        if (!read.ok || !isEnvelope(read.value)) {
          rejectFile(spool, name, `unusable spool file: ${read.ok ? 'not an envelope' : read.reason}`, result, EXIT.DATAERR);
          continue;
        }
        const outcome = await transport.send(read.value as Envelope, netDeadline);
        if (outcome.kind === 'sent') {
          try {
            spool.remove(name);
          } catch (e) {
            log.error(`sent ${name} but cannot remove it from the spool (it will be sent again): ${(e as Error).message}`);
          }
          result.sent++;
          continue;
        }
        if (outcome.kind === 'retry') return { ...result, state: 'blocked', reason: outcome.reason };
        if (outcome.kind === 'held') return { ...result, state: 'held', reason: outcome.reason, heldCode: outcome.code, code: worse(result.code, EXIT.UNAVAILABLE) };
        rejectFile(spool, name, `the API rejected spooled envelope ${name} (${outcome.reason})`, result, outcome.auth ? EXIT.NOPERM : EXIT.DATAERR);
        // Bad credentials fail every request alike: keep the rest queued for after the fix.
        if (outcome.auth) return { ...result, state: 'auth', reason: outcome.reason };
      }
    }
  } finally {
    lock.release();
  }
}

function rejectFile(spool: Spool, name: string, reason: string, result: FlushResult, code: number): void {
  result.rejected++;
  result.code = worse(result.code, code);
  try {
    const dest = spool.reject(name, reason);
    log.error(`${reason}; moved to ${dest}`);
  } catch (e) {
    log.error(`${reason}; could not move it to ${spool.rejectedDir}: ${(e as Error).message}`);
  }
}
