/**
 * Read all of stdin, bounded in time: a handler slot must never hang on an open pipe.
 *
 * Consul and Serf hand the handler its input through a pipe, up to ~18 MB for a 30,000-check
 * watch. A pipe is read straight into one growing buffer (readPipe): no 64 KB chunk per read
 * and no concatenation of the chunks, a copy of the whole input less than a stream. Anything
 * else (a file, a TTY, a closed fd) goes through process.stdin as a stream.
 */
import { fstatSync } from 'node:fs';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';

export type StdinResult = { ok: true; bytes: Buffer } | { ok: false; reason: string };

/**
 * The pipe reader's first buffer: above a 2,000-check watch result (1.2 MB). Buffers are
 * allocated uninitialised, so the OS commits only the pages that reads touch: a 24 KB input
 * costs 24 KB of memory, not this. Not bigger: V8 runs early young-generation collections
 * while young objects hold 32 MiB or more of such memory (two per run, for nothing, on a
 * small input).
 */
export const PIPE_FIRST_BUFFER_BYTES = 4 * 1024 * 1024;
/**
 * The buffer a fuller pipe moves to (copying what came so far), doubled again if need be:
 * a 30,000-check result (18 MB) costs one copy of 4 MB.
 */
const PIPE_GROWN_BUFFER_BYTES = 32 * 1024 * 1024;
/** The least room a read is offered (a pipe holds 64 KB). */
const MIN_READ_ROOM = 64 * 1024;

export function readStdin(deadline: number, firstBufferBytes = PIPE_FIRST_BUFFER_BYTES): Promise<StdinResult> {
  let pipe = false;
  try {
    const st = fstatSync(0);
    pipe = st.isFIFO() || st.isSocket();
  } catch {
    /* no fd 0: the stream path says so */
  }
  if (pipe) {
    try {
      return readPipe(deadline, firstBufferBytes);
    } catch {
      /* a socket type net.Socket cannot open (UDP): read it as the stream does */
    }
  }
  return readStream(deadline);
}

function timeout(deadline: number): string {
  return `stdin was not closed within the time bound (${Math.max(0, deadline - Date.now())} ms left)`;
}

/**
 * fd 0 as a socket whose reads land in our own buffer (net.Socket's `onread`), at the
 * offset where the last one ended.
 */
function readPipe(deadline: number, firstBufferBytes: number): Promise<StdinResult> {
  // Loaded here: the other paths do not need it (node:http loads it for the request anyway).
  const { Socket } = require('node:net') as typeof import('node:net');
  let buffer = Buffer.allocUnsafeSlow(Math.max(firstBufferBytes, MIN_READ_ROOM));
  let used = 0;
  const bytes = (): Buffer => buffer.subarray(0, used);
  // `onread` is documented for net.Socket as for net.connect (@types/node has it on the latter only).
  const opts: SocketConstructorOpts & { onread: OnReadOpts } = {
    fd: 0,
    readable: true,
    writable: false,
    onread: {
      // Called for the first read and after each one: where the next read goes.
      buffer: () => {
        if (buffer.length - used < MIN_READ_ROOM) {
          const grown = Buffer.allocUnsafeSlow(Math.max(PIPE_GROWN_BUFFER_BYTES, buffer.length * 2));
          buffer.copy(grown, 0, 0, used);
          buffer = grown;
        }
        return buffer.subarray(used);
      },
      callback: (n: number) => {
        used += n;
        return true; // keep reading
      },
    },
  };
  // Throws (before any read) for an fd type it cannot open.
  const socket = new Socket(opts);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: StdinResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({ ok: false, reason: timeout(deadline) });
      socket.destroy();
    }, Math.max(0, deadline - Date.now()));
    // Not destroyed after 'end' (see readStream): the shim exits through process.exit.
    keepAfterEnd(socket);
    socket.on('end', () => finish({ ok: true, bytes: bytes() }));
    // A read error (the writer vanished): what came before it is the payload, as Serf user events may be empty.
    socket.on('error', () => finish({ ok: true, bytes: bytes() }));
  });
}

function readStream(deadline: number): Promise<StdinResult> {
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
      finish({ ok: false, reason: timeout(deadline) });
      stdin.destroy();
    }, Math.max(0, deadline - Date.now()));
    stdin.on('data', (c: Buffer) => chunks.push(c));
    stdin.on('end', () => {
      keepAfterEnd(stdin);
      finish({ ok: true, bytes: Buffer.concat(chunks) });
    });
    // No usable stdin (closed fd): treat as an empty payload, as Serf user events may be.
    stdin.on('error', () => finish({ ok: true, bytes: Buffer.concat(chunks) }));
  });
}

/**
 * Node destroys a readable right after 'end', and destroying a pipe socket creates
 * process.stderr on the way (~1.5 ms) even when nothing is ever written to it. The shim
 * exits through process.exit, so an ended stdin may as well stay as it is. Internal field:
 * where it is missing or read-only, the stream is destroyed as before.
 */
function keepAfterEnd(stream: NodeJS.ReadableStream): void {
  try {
    (stream as unknown as { _readableState: { autoDestroy: boolean } })._readableState.autoDestroy = false;
  } catch {
    /* destroyed as usual */
  }
}
