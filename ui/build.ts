/**
 * Builds the web page's files (lambdas/app/web-page.ts WEB_PAGE) from ui/page/: the script
 * bundled by esbuild for browsers (one file, no other origin), the style sheet minified,
 * and the HTML naming both with a digest of their content (so browsers may cache them for
 * good). `npm start` builds them in memory when it starts; the CDK app builds them at synth
 * and ships them beside the ingest Lambda's bundle (lib/ingest-api.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { WEB_PAGE, type WebPageFiles } from '../lambdas/app/web-page';

const PAGE_DIR = join(__dirname, 'page');
/** Browsers the bundle targets: what supports WebCrypto's subtle API, ES modules and `<dialog>`. */
const TARGET = ['chrome100', 'firefox100', 'safari15.4', 'edge100'];
/** Written into index.html where the files' digest goes. */
const VERSION_MARK = '__TOCSIN_ASSET_VERSION__';

export function buildWebPage(): WebPageFiles {
  const common = { bundle: true, write: false, minify: true, legalComments: 'none', target: TARGET, logLevel: 'silent' } as const;
  const script = buildSync({ ...common, entryPoints: [join(PAGE_DIR, 'main.ts')], platform: 'browser', format: 'esm', outfile: 'app.js' });
  const style = buildSync({ ...common, entryPoints: [join(PAGE_DIR, 'style.css')], outfile: 'app.css' });
  const js = script.outputFiles[0]?.text ?? '';
  const css = style.outputFiles[0]?.text ?? '';
  const icon = readFileSync(join(PAGE_DIR, 'icon.svg'), 'utf8');
  const version = createHash('sha256').update(js).update('\0').update(css).update('\0').update(icon).digest('hex').slice(0, 16);
  const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8').replaceAll(VERSION_MARK, version);
  return { [WEB_PAGE.page]: html, 'app.js': js, 'app.css': css, 'icon.svg': icon };
}

/** The files in memory, or the build's error (the API still starts; the page answers 503 saying why). */
export function tryBuildWebPage(): WebPageFiles | Error {
  try {
    return buildWebPage();
  } catch (err) {
    return new Error(`the web page could not be built: ${(err as Error).message.slice(0, 500)}`);
  }
}

/** Writes the files into a directory of their own (named by their digest: parallel synths never share one) and returns it. */
export function writeWebPage(files: WebPageFiles = buildWebPage()): string {
  const digest = createHash('sha256').update(JSON.stringify(files)).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), `tocsin-web-page-${digest}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const partial = join(dir, `${name}.${process.pid}.partial`);
    writeFileSync(partial, text);
    renameSync(partial, join(dir, name));
  }
  return dir;
}
