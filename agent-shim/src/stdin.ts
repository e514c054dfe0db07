/** Read all of stdin, bounded in time: a handler slot must never hang on an open pipe. */

export type StdinResult = { ok: true; bytes: Buffer } | { ok: false; reason: string };

export function readStdin(deadline: number): Promise<StdinResult> {
  return new Promise((resolve) => {
    const stdin = process.stdin;
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (r: StdinResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stdin.removeAllListeners('data');
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, reason: `stdin was not closed within the time bound (${Math.max(0, deadline - Date.now())} ms left)` });
      stdin.destroy();
    }, Math.max(0, deadline - Date.now()));
    stdin.on('data', (c: Buffer) => chunks.push(c));
    stdin.on('end', () => {
      // Node destroys stdin right after 'end', and destroying a pipe socket creates
      // process.stderr on the way (~1.5 ms) even when nothing is ever written to it. The
      // shim exits through process.exit, so an ended stdin may as well stay as it is.
      // Internal field: where it is missing or read-only, stdin is destroyed as before.
      try {
        (stdin as unknown as { _readableState: { autoDestroy: boolean } })._readableState.autoDestroy = false;
      } catch {
        /* destroyed as usual */
      }
      finish({ ok: true, bytes: Buffer.concat(chunks) });
    });
    // No usable stdin (closed fd): treat as an empty payload, as Serf user events may be.
    stdin.on('error', () => finish({ ok: true, bytes: Buffer.concat(chunks) }));
  });
}
