/**
 * The web page (issue 14) in a real browser: Debian's chromium driven by playwright-core,
 * against `npm start`, with alerts raised through the bundled shim as Consul runs it. Signs
 * in with the viewer key (a wrong key is refused), sees the firing alerts grouped by node,
 * filters and sorts them, opens a timeline, acknowledges (the viewer key's 403 is shown, then
 * the admin key is asked for), creates a silence and expires it with the keyboard only, and
 * reads the list on a phone-sized screen. It saves the screenshots the README shows
 * (docs/ui/*.png). No request leaves the page's origin, and the CSP refuses nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ensureBuilt, runShim, tempDir } from '../shim/helpers';
import { ROOT, startLocalPipeline, type LocalPipeline } from '../support/local-pipeline';
import { goJsonLine, healthCheck } from '../support/consul-fixtures';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack';

const SCREENSHOTS = join(ROOT, 'docs', 'ui');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let slack: FakeSlack;
let pipeline: LocalPipeline;
let browser: Browser;
let origin: string;
let adminKey: string;
let viewerKey: string;
/** Every problem a page reported: console errors other than refused requests, CSP refusals, requests elsewhere. */
const problems: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  slack = await startFakeSlack();
  const file = join(tempDir('tocsin-e2e-page-'), 'tocsin.yaml');
  writeFileSync(file, `clusters: [default]\nchannels:\n  ops: { type: slack, webhookUrl: "${slack.url('ops')}" }\ndefaults: { channels: [ops] }\n`);
  pipeline = await startLocalPipeline({ env: { TOCSIN_CONFIG: file } });
  adminKey = /^export TOCSIN_ADMIN_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  viewerKey = /^export TOCSIN_VIEWER_KEY=(\S+)$/m.exec(pipeline.output())?.[1] ?? '';
  origin = /^# the web page .*: (http:\/\/\S+)\/$/m.exec(pipeline.output())?.[1] ?? '';
  expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 90000);

afterAll(async () => {
  await browser?.close();
  const code = await pipeline?.stop();
  await slack?.close();
  expect(code).toBe(0);
});

async function raise(index: number): Promise<void> {
  const checks = [
    healthCheck({ Node: 'web-1', CheckID: 'web-a', Name: 'web-a', Status: 'critical', Output: 'HTTP 503', ServiceID: 'web', ServiceName: 'web', ModifyIndex: index }),
    healthCheck({ Node: 'db-1', CheckID: 'disk', Name: 'disk', Status: 'warning', Output: 'disk 91% full', ServiceID: '', ServiceName: '', ModifyIndex: index }),
  ];
  const run = await runShim({
    args: ['--watch', 'checks'],
    env: { TOCSIN_URL: pipeline.url, TOCSIN_CLUSTER: pipeline.cluster, TOCSIN_KEY: pipeline.key, TOCSIN_NODE: 'agent-1', TOCSIN_SPOOL_DIR: tempDir('tocsin-e2e-spool-'), CONSUL_INDEX: String(index) },
    stdin: goJsonLine(checks.map((c) => ({ ...c, Status: index === 10 ? 'passing' : c.Status }))),
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
}

async function newPage(options: Parameters<Browser['newContext']>[0] = {}): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 1, ...options });
  const page = await context.newPage();
  page.on('console', (m) => {
    // A refused request (401/403, asserted on the page itself) is logged by the browser as an error; anything else is a problem.
    if (m.type() === 'error' && !/status of 40[13]/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(`${origin}/`)) problems.push(`request elsewhere: ${r.url()}`);
  });
  return { context, page };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('Cluster', { exact: true }).fill('default');
  await page.getByLabel('Key', { exact: true }).fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** An expression evaluated in the page (the test itself is typed for Node, not the DOM). */
const inPage = <T = unknown>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

describe('the web page (npm start, chromium)', () => {
  it('signs in, lists, filters, sorts, shows a timeline, acknowledges, silences; keyboard and phone', async () => {
    await raise(10);
    await raise(11);
    // Both notified (the list shows the channels notified, the timeline the notification).
    const notified = (what: string) => slack.postsTo('ops', 200).some((p) => p.body.text.includes(what));
    for (const deadline = Date.now() + 20000; !notified('web-a') || !notified('disk'); ) {
      if (Date.now() > deadline) throw new Error(`no notices: ${JSON.stringify(slack.postsTo('ops').map((p) => p.body.text))}`);
      await new Promise((r) => setTimeout(r, 200));
    }

    const { context, page } = await newPage();
    const response = await page.goto(`${origin}/`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");

    // A wrong key is refused, and nothing is kept.
    await signIn(page, 'not-the-key');
    await page.locator('#login-error').waitFor();
    expect(await page.locator('#login-error').textContent()).toContain('401 unauthenticated');
    expect(await inPage(page, "sessionStorage.getItem('tocsin.key')")).toBeNull();

    // The viewer key: the firing alerts, worst first, grouped by cluster and node.
    await signIn(page, viewerKey);
    await page.locator('#alerts-view tr[data-alert]').nth(1).waitFor();
    expect(await page.locator('#alert-groups h3').allTextContents()).toEqual(['Cluster default (2)']);
    expect(await page.locator('#alert-groups h4').allTextContents()).toEqual(['Node web-1', 'Node db-1']);
    const rows = page.locator('#alerts-view tr[data-alert]');
    expect(await rows.nth(0).textContent()).toContain('critical');
    expect(await rows.nth(1).textContent()).toContain('warning');
    expect(await inPage(page, "sessionStorage.getItem('tocsin.key')")).not.toBeNull();
    await page.screenshot({ path: join(SCREENSHOTS, 'alerts.png'), fullPage: true });

    // Every form control has a label (or an aria-label), every button a name.
    const unlabelled = await inPage<string[]>(
      page,
      `[...document.querySelectorAll('input, select, textarea')].filter((c) => c.labels.length === 0 && !c.getAttribute('aria-label')).map((c) => c.id || c.outerHTML)
        .concat([...document.querySelectorAll('button')].filter((b) => !(b.textContent.trim() || b.getAttribute('aria-label'))).map((b) => b.outerHTML))`,
    );
    expect(unlabelled).toEqual([]);

    // Filtering and sorting happen on the page.
    await page.getByLabel('Search').fill('disk');
    expect(await rows.count()).toBe(1);
    expect(await page.locator('#alerts-count').textContent()).toMatch(/^1 of 2 firing alerts shown/);
    await page.getByLabel('Search').fill('');
    await page.locator('th[data-sort="severity"] button').first().click();
    await page.locator('th[data-sort="severity"] button').first().click();
    expect(await page.locator('th[data-sort="severity"]').first().getAttribute('aria-sort')).toBe('ascending');
    expect(await page.locator('#alert-groups h4').allTextContents()).toEqual(['Node db-1', 'Node web-1']);

    // The key was entered once: a reload keeps the session.
    await page.reload();
    await rows.nth(1).waitFor();

    // One alert's timeline.
    await page.getByRole('link', { name: 'web-a' }).first().click();
    await page.locator('#timeline li').first().waitFor();
    const timeline = (await page.locator('#timeline').textContent()) ?? '';
    expect(timeline).toMatch(/firing critical/);
    expect(timeline).toMatch(/notified ops/);
    expect(await page.locator('#timeline-summary').textContent()).toMatch(/^1 episode\(s\), 0 flap\(s\)/);
    expect(await page.locator('#ack-state').textContent()).toContain('Not acknowledged');

    // Acknowledging with the viewer key: the API's 403 is shown, and the admin key asked for.
    const ackForm = page.locator('#ack-form');
    await ackForm.getByLabel('By', { exact: true }).fill('web-operator');
    await ackForm.getByLabel('For', { exact: true }).fill('4h');
    await ackForm.getByLabel('Comment', { exact: true }).fill('looking into it');
    await ackForm.getByRole('button', { name: 'Acknowledge' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await page.locator('#admin-reason').textContent()).toMatch(/403 forbidden: the viewer key may only read/);
    await dialog.getByLabel(/Admin key of cluster default/).fill(adminKey);
    await dialog.getByRole('button', { name: 'Use the admin key' }).click();
    await page.locator('#ack-state', { hasText: 'Acknowledged by web-operator' }).waitFor();
    expect(await page.locator('#ack-state').textContent()).toMatch(/Acknowledged by web-operator at .* UTC, until .* UTC: looking into it\./);
    expect(await page.locator('#status').textContent()).toMatch(/^Acknowledged by web-operator until /);
    await page.locator('#timeline li', { hasText: 'acknowledged by web-operator' }).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'timeline.png'), fullPage: true });

    // Withdrawn, then given again: the admin key is kept for the session, so no question this time.
    await page.getByRole('button', { name: 'Withdraw acknowledgement' }).click();
    await page.locator('#ack-state', { hasText: 'Not acknowledged' }).waitFor();
    await page.locator('#timeline li', { hasText: 'acknowledgement ended (withdrawn)' }).waitFor();
    await ackForm.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('#ack-state', { hasText: 'Acknowledged by web-operator' }).waitFor();
    expect(await dialog.isVisible()).toBe(false);

    // Silences: create one ("Silence this alert" fills the matchers), then expire it with the keyboard only.
    await page.getByRole('link', { name: /Silence this alert/ }).click();
    await page.locator('#silences-view').waitFor();
    expect(await page.getByLabel('Matchers, one per line').inputValue()).toBe('node=web-1\ncheck=web-a');
    await page.getByLabel('Matchers, one per line').fill('node=db-1\ncheck=disk');
    await page.getByLabel('Duration').fill('2h');
    await page.getByLabel('Author').fill('web-operator');
    await page.locator('#silence-comment').fill('disk cleanup under way');
    await page.getByRole('button', { name: 'Create silence' }).click();
    const silenceRow = page.locator('#silence-list tr[data-silence]');
    await silenceRow.first().waitFor();
    expect(await silenceRow.first().textContent()).toMatch(/node=db-1 check=disk.*active.*web-operator.*disk cleanup under way/);
    await page.screenshot({ path: join(SCREENSHOTS, 'silences.png'), fullPage: true });

    await page.locator('#silences-title').focus();
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await inPage<boolean>(page, "document.activeElement?.getAttribute('aria-label')?.startsWith('Expire the silence') ?? false");
    }
    expect(reached).toBe(true);
    // Focus is visible where the keyboard is.
    expect(await inPage(page, 'getComputedStyle(document.activeElement).outlineStyle')).not.toBe('none');
    await page.keyboard.press('Enter');
    await page.locator('#silence-list', { hasText: 'No active or pending silence.' }).waitFor();
    expect(await page.locator('#status').textContent()).toBe('Silence expired: node=db-1 check=disk.');

    // Back on the list: the acknowledgement shows who and until when.
    await page.getByRole('link', { name: 'Firing' }).click();
    await page.locator('#alerts-view tr[data-alert]', { hasText: 'acknowledged by web-operator until' }).waitFor();
    await context.close();

    // A phone: a fresh session, signed in again; one card per alert, nothing wider than the screen.
    const phone = await newPage({ viewport: { width: 390, height: 800 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 });
    await phone.page.goto(`${origin}/ui`);
    await signIn(phone.page, viewerKey);
    await phone.page.locator('#alerts-view tr[data-alert]').nth(1).waitFor();
    expect(await inPage<number>(phone.page, 'document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    expect(await inPage(phone.page, "getComputedStyle(document.querySelector('#alerts-view td'), '::before').content")).toBe('"Severity"');
    await phone.page.screenshot({ path: join(SCREENSHOTS, 'phone.png'), fullPage: true });
    await phone.context.close();

    expect(problems).toEqual([]);
  }, 120000);
});
