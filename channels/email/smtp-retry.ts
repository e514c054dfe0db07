/**
 * What to do after a failed SMTP send (README, "Email under npm start"):
 * - a permanent rejection (a 5xx reply to the envelope or the message, e.g. 550 "no such
 *   user") cannot succeed later: dead-letter at once;
 * - anything else (4xx such as 451/452, connection refused, timeouts, TLS failures, and
 *   authentication failures, which the operator can fix without losing the email) is retried
 *   after retryBaseSeconds * 2^(attempt-1), capped at retryMaxSeconds;
 * - the maxAttempts-th failure dead-letters.
 */
import type { SmtpSettings } from './smtp-config';

/** The parts of a nodemailer error that decide (SMTPConnection errors carry them). */
export interface SmtpFailure {
  message: string;
  /** nodemailer's class of failure: EENVELOPE, EMESSAGE, EAUTH, ECONNECTION, ETIMEDOUT, ETLS ... */
  code?: string;
  /** The server's reply code, when it answered. */
  responseCode?: number;
  /** The server's reply line. */
  response?: string;
}

export type FailureVerdict = { retryAfterSeconds: number } | { deadLetter: 'permanent' | 'attempts exhausted' };

export function smtpFailure(err: unknown): SmtpFailure {
  const e = err as Partial<SmtpFailure> & { message?: string };
  return {
    message: e?.message ?? String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.responseCode === 'number' ? { responseCode: e.responseCode } : {}),
    ...(typeof e?.response === 'string' ? { response: e.response } : {}),
  };
}

/** A 5xx reply about this email; a refused login is the server's configuration, not the email's. */
export function isPermanent(failure: SmtpFailure): boolean {
  return failure.responseCode !== undefined && failure.responseCode >= 500 && failure.responseCode < 600 && failure.code !== 'EAUTH';
}

export function retryDelaySeconds(attempt: number, settings: Pick<SmtpSettings, 'retryBaseSeconds' | 'retryMaxSeconds'>): number {
  return Math.min(settings.retryMaxSeconds, settings.retryBaseSeconds * 2 ** Math.max(0, attempt - 1));
}

/** `attempt`: 1 for the first send. */
export function failureVerdict(failure: SmtpFailure, attempt: number, settings: Pick<SmtpSettings, 'maxAttempts' | 'retryBaseSeconds' | 'retryMaxSeconds'>): FailureVerdict {
  if (isPermanent(failure)) return { deadLetter: 'permanent' };
  if (attempt >= settings.maxAttempts) return { deadLetter: 'attempts exhausted' };
  return { retryAfterSeconds: retryDelaySeconds(attempt, settings) };
}
