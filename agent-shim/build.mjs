// Bundles the shim into one dependency-free executable: agent-shim/dist/tocsin-shim.js
import { build } from 'esbuild';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, 'dist', 'tocsin-shim.js');
const { version } = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));

const result = await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __TOCSIN_SHIM_VERSION__: JSON.stringify(version) },
  outfile,
  write: false,
  logLevel: 'warning',
});

// Write-then-rename: parallel test workers may build at the same time and
// must never execute a half-written file.
mkdirSync(dirname(outfile), { recursive: true });
const tmp = `${outfile}.${process.pid}.tmp`;
writeFileSync(tmp, result.outputFiles[0].contents, { mode: 0o755 });
chmodSync(tmp, 0o755);
renameSync(tmp, outfile);
console.log(`built ${outfile} (${result.outputFiles[0].contents.length} bytes)`);
