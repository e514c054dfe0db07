// Bundles the shim into one dependency-free executable: agent-shim/dist/tocsin-shim.js
import { build } from 'esbuild';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shimBuildOptions } from './build-options.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, 'dist', 'tocsin-shim.js');

const result = await build({ ...shimBuildOptions(), outfile, write: false });

// Write-then-rename: parallel test workers may build at the same time and
// must never execute a half-written file.
mkdirSync(dirname(outfile), { recursive: true });
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents, { mode: 0o755 });
chmodSync(tmp, 0o755);
renameSync(tmp, outfile);
console.log(`built ${outfile} (${result.outputFiles[0].contents.length} bytes)`);
