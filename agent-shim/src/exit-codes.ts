/**
 * Exit codes (sysexits.h names). Consul and Serf only log a non-zero exit, so
 * the code is the operator's main signal: 0 means "delivered or safely queued".
 */
export const EXIT = {
  OK: 0,
  /** Bad flags, missing/unknown --watch. */
  USAGE: 64,
  /** The API rejected an envelope (4xx other than 401/403); it is in rejected/. */
  DATAERR: 65,
  /** stdin could not be read (not closed within the time bound). */
  NOINPUT: 66,
  /**
   * The API refused an envelope for a reason that can pass (clock skew it could not correct,
   * a signing key it does not hold yet during a key rotation): it stays in the spool and the
   * next run or `flush` resends it. Nothing is lost yet.
   */
  UNAVAILABLE: 69,
  /** Unexpected internal error. */
  SOFTWARE: 70,
  /** Neither sent nor spooled (spool full or unwritable); `flush`: envelopes remain queued. */
  TEMPFAIL: 75,
  /** The API refused our credentials (401/403): wrong key, cluster or clock. */
  NOPERM: 77,
  /** Missing or invalid configuration. */
  CONFIG: 78,
} as const;

/** When several problems happen in one run, report the most serious. */
const SEVERITY: number[] = [EXIT.TEMPFAIL, EXIT.NOPERM, EXIT.DATAERR, EXIT.UNAVAILABLE];

export function worse(a: number, b: number): number {
  if (a === EXIT.OK) return b;
  if (b === EXIT.OK) return a;
  const ia = SEVERITY.indexOf(a);
  const ib = SEVERITY.indexOf(b);
  if (ia === -1) return a;
  if (ib === -1) return b;
  return ia <= ib ? a : b;
}
