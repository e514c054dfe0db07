/** Builds the fetch variant of the shim (bench only) with the shim's own esbuild options. */
import { build, type Plugin } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT, TMP } from '../lib/paths';

/** Redirect the shim's `./transport` import to the fetch stand-in. */
const fetchTransport: Plugin = {
  name: 'tocsin-bench-fetch-transport',
  setup(b) {
    b.onResolve({ filter: /^\.\/transport$/ }, (args) =>
      args.importer.includes(join('agent-shim', 'src')) ? { path: resolve(__dirname, 'fetch-transport.ts') } : undefined,
    );
  },
};

export async function buildFetchShim(): Promise<string> {
  // build-options.mjs is ESM; this module is compiled as CommonJS by tsx.
  const { shimBuildOptions } = (await import(join(ROOT, 'agent-shim', 'build-options.mjs'))) as {
    shimBuildOptions(): import('esbuild').BuildOptions;
  };
  mkdirSync(TMP, { recursive: true });
  const outfile = join(TMP, 'tocsin-shim-fetch.js');
  await build({ ...shimBuildOptions(), outfile, plugins: [fetchTransport] });
  return outfile;
}

// `tsx bench/shim/build-variant.ts` builds it and prints its path (the unit check runs it
// so, as jest cannot load build-options.mjs).
if (require.main === module) {
  buildFetchShim().then(
    (file) => process.stdout.write(`${file}\n`),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
