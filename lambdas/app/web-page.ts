/**
 * The web page (issue 14, README "The web page"): one HTML page, its script and its style
 * sheet, served by the same API as the data it shows (`/ui` deployed, `/` and `/ui` under
 * `npm start`). Unauthenticated: the files hold no data; the page signs every API request
 * in the browser with the key the operator enters (ui/signer.ts). Nothing is loaded from
 * elsewhere, and the Content-Security-Policy says so: no inline script or style, no other
 * origin, no framing.
 */
import { ROUTES } from '../domain/protocol';
import { adminFailure } from './admin-auth';
import type { HttpRequest, HttpResponse } from './http';

/** The page's files and their content types; built by ui/build.ts, shipped beside the Lambda bundle in WEB_PAGE.directory. */
export const WEB_PAGE = {
  directory: 'web-page',
  page: 'index.html',
  assets: { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8', 'icon.svg': 'image/svg+xml' },
  pageType: 'text/html; charset=utf-8',
} as const;

export type WebPageAsset = keyof typeof WEB_PAGE.assets;
export type WebPageFiles = Readonly<Record<typeof WEB_PAGE.page | WebPageAsset, string>>;

/**
 * Same origin only, nothing inline, nothing framed. `connect-src 'self'`: the page talks to
 * its own API. `form-action 'none'`: its forms are handled by the script, never submitted.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const ASSET_PATH = new RegExp(`^${ROUTES.webPageAsset.path.replace('{asset}', '([^/]+)')}$`);

export interface WebPageOptions {
  /** Also serve the page at `/` (`npm start`: nothing else lives there). */
  atRoot?: boolean;
}

export function isWebPageRoute(path: string, options: WebPageOptions = {}): boolean {
  return path === ROUTES.webPage.path || ASSET_PATH.test(path) || (options.atRoot === true && path === '/');
}

/**
 * `files`: the page's files, or why there are none (a bundle built without them); called
 * on the first request for the page, so a missing page never fails the API's start.
 */
export function createWebPage(files: () => WebPageFiles | Error, options: WebPageOptions = {}): (req: HttpRequest) => Promise<HttpResponse> {
  let loaded: WebPageFiles | Error | undefined;
  return async (req) => {
    if (!isWebPageRoute(req.path, options)) return adminFailure(404, 'not_found', `no route for ${req.method} ${req.path.slice(0, 100)}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, headers: { allow: 'GET, HEAD' }, body: { error: 'method_not_allowed', message: `${req.method} ${req.path.slice(0, 100)}: the page is read with GET` } };
    const asset = ASSET_PATH.exec(req.path)?.[1];
    if (asset !== undefined && !Object.hasOwn(WEB_PAGE.assets, asset)) return adminFailure(404, 'not_found', `the page has no file ${asset.slice(0, 100)} (it has ${Object.keys(WEB_PAGE.assets).join(', ')})`);
    loaded ??= files();
    if (loaded instanceof Error) return adminFailure(503, 'no_web_page', loaded.message);
    const name = (asset ?? WEB_PAGE.page) as keyof WebPageFiles;
    return {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'content-type': asset ? WEB_PAGE.assets[asset as WebPageAsset] : WEB_PAGE.pageType,
        // The page names its assets with a digest of their content (ui/build.ts): they may be
        // kept; the page itself is read afresh, so a new version's assets are found at once.
        'cache-control': asset ? 'public, max-age=31536000, immutable' : 'no-store',
      },
      body: {},
      text: req.method === 'HEAD' ? '' : loaded[name],
    };
  };
}
