/**
 * A process competing for a data directory's lock (local/data-dir-lock.ts), for tests of
 * several processes at once. Protocol on stdio: prints "ready", takes the lock when it
 * reads a line ("go": all start together), prints "held" or "refused: <reason>", and holds
 * the lock until its stdin ends. Usage: node --import tsx test/support/lock-holder.ts DIR [SLOW_MS]
 * SLOW_MS: every removal or move of the lock file waits up to that long first (at random), which widens the
 * window between judging a lock stale and removing it, where two processes could both win.
 */
import { join } from 'node:path';
import { acquireDataDirLock, LOCK_FILE } from '../../local/data-dir-lock';

const [dir, slowMs] = process.argv.slice(2) as [string, string | undefined];
const lockPath = join(dir, LOCK_FILE);

if (slowMs) {
  const pause = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.random() * Number(slowMs));
  // The module object itself (an ESM namespace is read-only): data-dir-lock.ts looks its functions up on it per call.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mutable = require('node:fs') as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ['unlinkSync', 'renameSync', 'rmSync']) {
    const original = mutable[name] as (...args: unknown[]) => unknown;
    mutable[name] = (...args: unknown[]) => {
      if (args[0] === lockPath) pause();
      return original(...args);
    };
  }
}

process.stdout.write('ready\n');
process.stdin.once('data', () => {
  acquireDataDirLock(dir, (line) => process.stderr.write(`${line}\n`)).then(
    (lock) => {
      process.stdout.write('held\n');
      process.stdin.once('end', () => lock.release());
    },
    (err: Error) => {
      process.stdout.write(`refused: ${err.message}\n`);
      process.stdin.destroy();
    },
  );
});
