// esbuild options of the shim bundle, shared by build.mjs and `npm run bench` (which
// builds a comparison variant with the same options).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** @returns {import('esbuild').BuildOptions} */
export function shimBuildOptions() {
  const { version } = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8'));
  return {
    entryPoints: [join(here, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    legalComments: 'none',
    banner: { js: '#!/usr/bin/env node' },
    define: { __TOCSIN_SHIM_VERSION__: JSON.stringify(version) },
    logLevel: 'warning',
  };
}
