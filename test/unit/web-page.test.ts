/**
 * The web page's files as the API serves them (lambdas/app/web-page.ts): built from ui/ by
 * ui/build.ts, answered through the API Gateway adapter to HTTP API events (payload format
 * 2.0) as API Gateway builds them, with their content types and the security headers.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toApiGatewayResult, toHttpRequest } from '../../lambdas/adapters/api-gateway-request';
import { readWebPageFiles } from '../../lambdas/adapters/web-page-files';
import { CONTENT_SECURITY_POLICY, createWebPage, WEB_PAGE, type WebPageFiles } from '../../lambdas/app/web-page';
import { buildWebPage, writeWebPage } from '../../ui/build';
import { apiGatewayEvent } from '../support/api-gateway';

let files: WebPageFiles;
beforeAll(() => {
  files = buildWebPage();
});

async function get(path: string, handler = createWebPage(() => files), method = 'GET') {
  const result = toApiGatewayResult(await handler(toHttpRequest(apiGatewayEvent({ method, url: path, headers: { accept: '*/*' }, body: Buffer.alloc(0) }))), Date.now());
  return { status: result.statusCode, headers: result.headers as Record<string, string>, body: result.body ?? '' };
}

describe('the built page', () => {
  it('names its script, style sheet and icon with a digest of their content, and holds no inline script or style', () => {
    const html = files[WEB_PAGE.page];
    const version = /app\.js\?v=([0-9a-f]{16})"/.exec(html)?.[1];
    expect(version).toBeDefined();
    expect(html).toContain(`href="ui/app.css?v=${version}"`);
    expect(html).toContain(`href="ui/icon.svg?v=${version}"`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('loads nothing from another origin: no URL with a host in the page, the script or the style sheet', () => {
    for (const text of [files[WEB_PAGE.page], files['app.js'], files['app.css']]) expect(text).not.toMatch(/https?:\/\/|url\(\s*['"]?\/\//);
    // The bundle is for browsers: no Node module in it.
    expect(files['app.js']).not.toMatch(/require\(|["'`]node:/);
  });
});

describe('serving it (HTTP API event, payload format 2.0)', () => {
  it('GET /ui: the HTML, never cached, with a strict Content-Security-Policy', async () => {
    const res = await get('/ui');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toBe(files[WEB_PAGE.page]);
  });

  it.each([
    ['app.js', 'text/javascript; charset=utf-8'],
    ['app.css', 'text/css; charset=utf-8'],
    ['icon.svg', 'image/svg+xml'],
  ])('GET /ui/%s: %s, cached for good (its URL changes with it)', async (name, type) => {
    const res = await get(`/ui/${name}?v=0123456789abcdef`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['cache-control']).toContain('immutable');
    expect(res.body).toBe(files[name as keyof WebPageFiles]);
  });

  it('/ only where asked (npm start); unknown files 404, writes 405', async () => {
    expect((await get('/')).status).toBe(404);
    expect((await get('/', createWebPage(() => files, { atRoot: true }))).headers['content-type']).toBe('text/html; charset=utf-8');
    const unknown = await get('/ui/secrets.json');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: 'not_found' });
    const post = await get('/ui', undefined, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('files written beside a bundle are read back; missing ones give a 503 that says why', async () => {
    const dir = writeWebPage(files);
    expect(readWebPageFiles(dir)).toEqual(files);
    const empty = mkdtempSync(join(tmpdir(), 'tocsin-no-page-'));
    const res = await get('/ui', createWebPage(() => readWebPageFiles(empty)));
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'no_web_page', message: expect.stringContaining('build the function with the CDK app') });
  });
});
