/** The web page's files as the CDK app ships them beside a Lambda bundle (lambdas/app/web-page.ts WEB_PAGE.directory). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WEB_PAGE, type WebPageFiles } from '../app/web-page';

export function readWebPageFiles(dir: string): WebPageFiles | Error {
  try {
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    return { [WEB_PAGE.page]: read(WEB_PAGE.page), 'app.js': read('app.js'), 'app.css': read('app.css'), 'icon.svg': read('icon.svg') };
  } catch (err) {
    return new Error(`the web page's files are missing (${(err as NodeJS.ErrnoException).code ?? (err as Error).message} in ${dir}): build the function with the CDK app (lib/)`);
  }
}
