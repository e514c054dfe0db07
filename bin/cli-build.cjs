#!/usr/bin/env node
/**
 * The operator CLI, bundled: bin/tocsin-cli.ts and the project files it imports, into one
 * CommonJS file (bin/dist/tocsin-cli.cjs) that node loads in tens of milliseconds instead
 * of compiling TypeScript on every call (tsx). npm packages (yaml, ajv, ...) stay external:
 * they load from node_modules, and only in the commands that need them.
 *
 * The bundle ends with its build record: a SHA-256 over the content of every project file
 * it was made from (esbuild's metafile inputs), of this script and of tsconfig.json, and each
 * file's stat (size, mtime, ctime, inode) when it was hashed. bin/run-cli.cjs checks that
 * record on every start and rebuilds when a file's content differs, so an edited, pulled or
 * checked-out source can never run as old code. A file whose stat is unchanged is not read:
 * every write changes its ctime, which no tool can set back (git's index does the same). A
 * file changed within RACY_MS of the build is hashed on every start, as git does with a
 * "racily clean" entry, since a coarse clock may not tell that write from the build.
 *
 *   node bin/cli-build.cjs           build (npm ci's `prepare`, `npm run build`)
 *   node bin/cli-build.cjs --check   exit 1, naming what changed, when the bundle is stale
 */
'use strict';
const { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = 'bin/tocsin-cli.ts';
/**
 * Two levels below the root, as lambdas/commons/ is: a bundled module that locates files
 * with __dirname (config-file.ts finds schema/ at ../..) gets the bundle's directory, and
 * bin/dist/../.. is the root as lambdas/commons/../.. is.
 */
const BUNDLE = join(ROOT, 'bin', 'dist', 'tocsin-cli.cjs');
/** Files that shape the bundle without being imported by it. */
const BUILD_FILES = [relative(ROOT, __filename), 'tsconfig.json'];
const RECORD_MARK = '\n//# tocsin-cli-build ';
/** The record is the bundle's last line; reading this much of its end finds it without reading the whole bundle. */
const RECORD_TAIL_BYTES = 256 * 1024;
/** A file written this close to its stat's taking may share its timestamps with a later write. */
const RACY_MS = 3000;

/** SHA-256 over the repository-relative paths and contents of `files`; a missing file counts as changed. */
function sourceHash(files) {
  // Loaded here, not at the top: a start whose files' stats all match never hashes.
  const hash = require('node:crypto').createHash('sha256');
  for (const file of [...files].sort()) {
    let content;
    try {
      content = readFileSync(join(ROOT, file));
    } catch {
      content = Buffer.from(`\0missing ${file}`);
    }
    hash.update(`${file}\0${content.length}\0`).update(content);
  }
  return hash.digest('hex');
}

/** The build record at the end of the bundle, or undefined when there is no bundle or no record. */
function readRecord() {
  let text;
  try {
    const fd = openSync(BUNDLE, 'r');
    try {
      const size = fstatSync(fd).size;
      const length = Math.min(size, RECORD_TAIL_BYTES);
      const tail = Buffer.alloc(length);
      readSync(fd, tail, 0, length, size - length);
      text = tail.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const at = text.lastIndexOf(RECORD_MARK);
  if (at === -1) return undefined;
  try {
    return JSON.parse(text.slice(at + RECORD_MARK.length));
  } catch {
    return undefined;
  }
}

/** What a file's stat says of its content: any write changes mtime or ctime; a replaced file has another inode. */
function statKey(file) {
  try {
    const st = statSync(join(ROOT, file), { bigint: true });
    return { key: `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`, changedMs: Number((st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) / 1000000n) };
  } catch {
    return undefined;
  }
}

/** The files whose content may differ from the build's: stat changed, racily clean, or no stat recorded. */
function filesToHash(record) {
  const stats = record.stats ?? {};
  return record.inputs.filter((file) => {
    const now = statKey(file);
    if (now === undefined || stats[file] === undefined) return true;
    return now.key !== stats[file].key || stats[file].takenAtMs - now.changedMs < RACY_MS;
  });
}

/** undefined when the bundle matches the sources; else why it does not. */
function staleness() {
  const record = readRecord();
  if (record === undefined) return `${relative(ROOT, BUNDLE)} is missing or has no build record`;
  const changed = filesToHash(record).filter((file) => sourceHash([file]) !== record.fileHashes[file]);
  if (changed.length === 0) return undefined;
  return `changed since the CLI was built: ${changed.join(', ')}`;
}

/** Bundle the CLI and write it with its build record (write-then-rename: parallel starts never run half a file). */
function build() {
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch {
    throw new Error('esbuild is not installed, so the CLI cannot be built: run `npm ci` in the tocsin directory');
  }
  const result = esbuild.buildSync({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    metafile: true,
    write: false,
    outfile: BUNDLE,
    legalComments: 'none',
    // Less to parse on every start (bench figure 7); names are kept, so stack traces still name functions.
    minifyWhitespace: true,
    minifySyntax: true,
    banner: { js: '// tocsin operator CLI, bundled from bin/tocsin-cli.ts by bin/cli-build.cjs: edit the sources, not this file.' },
    logLevel: 'silent',
  });
  const inputs = [...Object.keys(result.metafile.inputs), ...BUILD_FILES];
  // Each stat is taken before its file is hashed: a write after the stat changes it.
  const stats = {};
  const fileHashes = {};
  for (const file of inputs) {
    const st = statKey(file);
    if (st !== undefined) stats[file] = { key: st.key, takenAtMs: Date.now() };
    fileHashes[file] = sourceHash([file]);
  }
  const record = { hash: sourceHash(inputs), inputs, fileHashes, stats };
  const code = `${result.outputFiles[0].text}${RECORD_MARK}${JSON.stringify(record)}\n`;
  mkdirSync(dirname(BUNDLE), { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, BUNDLE);
  return { bytes: Buffer.byteLength(code), inputs: inputs.length };
}

/** esbuild's error messages, readable: file:line:column and the text. */
function buildErrorText(err) {
  if (!Array.isArray(err.errors) || err.errors.length === 0) return err.message;
  return err.errors.map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text)).join('\n');
}

module.exports = { BUNDLE, RACY_MS, ROOT, build, buildErrorText, filesToHash, staleness, statKey };

if (require.main === module) {
  if (process.argv.includes('--check')) {
    const why = staleness();
    if (why) {
      process.stderr.write(`tocsin CLI bundle is stale: ${why}\n`);
      process.exitCode = 1;
    }
  } else {
    try {
      const { bytes, inputs } = build();
      process.stdout.write(`built ${relative(ROOT, BUNDLE)} (${bytes} bytes, ${inputs} source files)\n`);
    } catch (err) {
      process.stderr.write(`tocsin: building the CLI failed:\n${buildErrorText(err)}\n`);
      process.exitCode = 1;
    }
  }
}
