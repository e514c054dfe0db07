/**
 * Operator-facing output. Serf uses a query handler's combined stdout+stderr as
 * the query response (only on exit 0, max 1024 bytes), so in query mode
 * informational notes are suppressed and everything written is capped.
 */
const PREFIX = 'tocsin-shim: ';
const QUERY_OUTPUT_CAP = 1000;

let queryMode = false;
let written = 0;
let guarded = false;

/** A vanished reader (EPIPE) must not crash the shim before it has spooled. */
function guard(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', () => undefined);
  process.stderr.on('error', () => undefined);
}

export function setQueryMode(on: boolean): void {
  queryMode = on;
}

function emit(stream: NodeJS.WriteStream, text: string): void {
  guard();
  let out = text;
  if (queryMode) {
    const room = QUERY_OUTPUT_CAP - written;
    if (room <= 0) return;
    if (Buffer.byteLength(out) > room) out = Buffer.from(out).subarray(0, room - 1).toString('utf8').replace(/\uFFFD$/, '') + '\n';
  }
  written += Buffer.byteLength(out);
  stream.write(out);
}

/** Raw line on stdout (the query acknowledgement). */
export function stdoutLine(text: string): void {
  emit(process.stdout, text + '\n');
}

/** Informational line; silent in query mode (exit 0 output would become the query response). */
export function note(msg: string): void {
  if (!queryMode) emit(process.stderr, PREFIX + oneLine(msg) + '\n');
}

/** Error line; always printed (these accompany a non-zero exit, so Serf discards them as a response). */
export function error(msg: string): void {
  emit(process.stderr, PREFIX + 'error: ' + oneLine(msg) + '\n');
}

/** Plain multi-line text (help). */
export function text(msg: string): void {
  guard();
  process.stdout.write(msg);
}

/** Keep log lines single-line and printable so they survive Consul's/Serf's log formatting. */
export function oneLine(s: string, max = 2000): string {
  const flat = s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}

/** Wait until stdout/stderr are flushed, then exit with `code`. */
export function exitAfterFlush(code: number): void {
  process.exitCode = code;
  // Nothing written through here (the usual successful run): nothing of ours to flush, and
  // no reason to create the stdio streams just to wait on them.
  if (!guarded) process.exit(code);
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  guard();
  for (const s of [process.stdout, process.stderr]) s.write('', done);
  // Safety net: never let a stuck pipe keep the handler slot busy.
  setTimeout(() => process.exit(code), 1000).unref();
}
