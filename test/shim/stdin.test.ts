/**
 * The shim's stdin reader (agent-shim/src/stdin.ts) in a real child process: a pipe read
 * straight into its buffer, which grows when full, and stdin as a file (the stream path),
 * each yielding exactly the bytes written.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { ROOT, tempDir } from './helpers';

let script: string;

beforeAll(() => {
  // The module under test as the shim bundles it, behind a small entry point.
  const dir = tempDir('tocsin-stdin-');
  const entry = path.join(dir, 'entry.ts');
  fs.writeFileSync(
    entry,
    `import { createHash } from 'node:crypto';
     import { readStdin } from ${JSON.stringify(path.join(ROOT, 'agent-shim', 'src', 'stdin'))};
     const first = process.argv[2] ? Number(process.argv[2]) : undefined;
     readStdin(Date.now() + 20_000, first).then((r) => {
       process.stdout.write(JSON.stringify(r.ok ? { ok: true, length: r.bytes.length, sha: createHash('sha256').update(r.bytes).digest('hex') } : r));
       process.exit(0);
     });`,
  );
  script = path.join(dir, 'read-stdin.js');
  buildSync({ entryPoints: [entry], bundle: true, platform: 'node', target: 'node20', format: 'cjs', outfile: script, logLevel: 'warning' });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Runs the reader with `stdin` ('pipe': `data` written in pieces, with pauses; or a file descriptor). */
function read(stdin: { pipe: Buffer } | { fd: number }, firstBufferBytes?: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...(firstBufferBytes ? [String(firstBufferBytes)] : [])], {
      stdio: ['fd' in stdin ? stdin.fd : 'pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.on('error', reject);
    child.on('close', () => resolve(JSON.parse(out) as Record<string, unknown>));
    if ('pipe' in stdin) {
      const data = stdin.pipe;
      let off = 0;
      const next = (): void => {
        if (off >= data.length) return void child.stdin!.end();
        const piece = data.subarray(off, off + 100_000);
        off += piece.length;
        child.stdin!.write(piece, () => setTimeout(next, 1));
      };
      next();
    }
  });
}

describe('shim stdin', () => {
  const data = randomBytes(1_500_000);

  it('reads a pipe into one buffer, and moves to a bigger one when it is full', async () => {
    expect(await read({ pipe: data })).toEqual({ ok: true, length: data.length, sha: sha(data) });
    // A first buffer of 64 KB: full after the first reads.
    expect(await read({ pipe: data }, 64 * 1024)).toEqual({ ok: true, length: data.length, sha: sha(data) });
    expect(await read({ pipe: Buffer.alloc(0) })).toEqual({ ok: true, length: 0, sha: sha(Buffer.alloc(0)) });
  });

  it('reads stdin that is a file as a stream', async () => {
    const file = path.join(tempDir('tocsin-stdin-file-'), 'input');
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    try {
      expect(await read({ fd })).toEqual({ ok: true, length: data.length, sha: sha(data) });
    } finally {
      fs.closeSync(fd);
    }
  });
});
