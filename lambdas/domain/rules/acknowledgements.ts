/**
 * Acknowledging a firing episode (issue 14): someone has seen it and is on it. Pure.
 *
 * Rules (README "What is firing"):
 * - An acknowledged episode gets no reminders (`repeat`) while the acknowledgement holds
 *   (until its optional expiry); its first notices and its changes still go out.
 * - A higher severity than the one acknowledged clears the acknowledgement (and notifies,
 *   as any change does); the same or a lower one keeps it.
 * - A new episode (resolved, then firing again) starts unacknowledged: the acknowledgement
 *   is stored with the episode and ends with it.
 */
import { SEVERITY_RANK, type Severity } from '../types';

export const ACK_LIMITS = { maxByChars: 128, maxCommentChars: 512, maxSeconds: 30 * 86_400 } as const;

export interface Acknowledgement {
  /** Who: the CLI's --by, else the fingerprint of the key that signed (domain/signing.ts keyId). */
  by: string;
  /** Epoch ms it was given. */
  at: number;
  /** The episode's severity when acknowledged: a worse one clears it. */
  severity: Severity;
  comment?: string;
  /** Epoch ms it ends by itself (absent: with the episode). */
  until?: number;
}

export class AckError extends Error {}

/** Does `ack` hold at `nowMs`? */
export function ackHolds(ack: Acknowledgement | undefined, nowMs: number): ack is Acknowledgement {
  return ack !== undefined && (ack.until === undefined || ack.until > nowMs);
}

/** The acknowledgement a change of the episode to `severity` keeps: none once the severity is worse. */
export function ackAfterChange(ack: Acknowledgement | undefined, severity: Severity): Acknowledgement | undefined {
  if (!ack) return undefined;
  return SEVERITY_RANK[severity] > SEVERITY_RANK[ack.severity] ? undefined : ack;
}

/** The body of POST /v1/alerts/{id}/ack: `{by?, comment?, untilSeconds?}`, checked. */
export function parseAckRequest(body: unknown, fallbackBy: string, severity: Severity, nowMs: number): Acknowledgement {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new AckError('the body must be a JSON object: {"by"?, "comment"?, "untilSeconds"?}');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!['by', 'comment', 'untilSeconds'].includes(key)) throw new AckError(`unknown field "${key.slice(0, 40)}"`);
  const text = (name: string, max: number): string | undefined => {
    const v = b[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim().length === 0 || v.length > max) throw new AckError(`"${name}" must be a non-empty string of at most ${max} characters`);
    return v.trim();
  };
  const by = text('by', ACK_LIMITS.maxByChars) ?? fallbackBy;
  const comment = text('comment', ACK_LIMITS.maxCommentChars);
  const seconds = b.untilSeconds;
  if (seconds !== undefined && (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1 || seconds > ACK_LIMITS.maxSeconds)) {
    throw new AckError(`"untilSeconds" must be a whole number of seconds from 1 to ${ACK_LIMITS.maxSeconds} (30 days)`);
  }
  return { by, at: nowMs, severity, ...(comment ? { comment } : {}), ...(typeof seconds === 'number' ? { until: nowMs + seconds * 1000 } : {}) };
}
