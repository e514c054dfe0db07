/**
 * The email dead-letter file of `npm start`: <data dir>/email-dead-letters.jsonl, one JSON
 * line per email that could not be sent (what, to whom, how often tried, the last error),
 * each also said loudly on stderr. The operator reads it, fixes the cause, and resends by hand.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Alert } from '../../lambdas/domain/types';
import { LOCAL_NAMES } from '../../local/names';
import type { SmtpFailure } from './smtp-retry';

export interface DeadLetter {
  channel: string;
  address: string;
  subject: string;
  alert: Alert;
  /** Sends tried. */
  attempts: number;
  reason: 'permanent' | 'attempts exhausted';
  /** The last one. */
  error: SmtpFailure;
}

export class DeadLetterFile {
  readonly path: string;

  constructor(
    dataDir: string,
    private readonly stderr: (line: string) => void = (line) => process.stderr.write(line),
  ) {
    this.path = resolve(dataDir, LOCAL_NAMES.emailDeadLetterFile);
  }

  write(letter: DeadLetter): void {
    const { error } = letter;
    const why = letter.reason === 'permanent' ? 'refused for good' : `failed ${letter.attempts} times`;
    const detail = error.response ?? error.message;
    try {
      appendFileSync(this.path, `${JSON.stringify({ at: new Date().toISOString(), ...letter })}\n`);
      this.stderr(`tocsin: EMAIL NOT SENT to ${letter.address} (channel ${letter.channel}), ${why}: ${detail}; "${letter.subject}" written to ${this.path}\n`);
    } catch (err) {
      // The file is the only record left: if it cannot be written, stderr carries the whole email.
      this.stderr(`tocsin: EMAIL NOT SENT to ${letter.address} (channel ${letter.channel}), ${why}: ${detail}; and ${this.path} cannot be written (${(err as Error).message}): ${JSON.stringify(letter)}\n`);
    }
  }
}
