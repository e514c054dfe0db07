/**
 * The web page's script (README "The web page"): sign in with a cluster's key, see what is
 * firing (sorted, filtered, grouped by cluster and node), one alert's timeline, acknowledge
 * it, and list, create and expire silences. Everything it shows comes from the signed API;
 * everything it puts on the page goes in as text (textContent), never as HTML.
 */
import { age, compactSpan, describeHistoryEvent, utcText, type HistoryEventJson } from '../../lambdas/domain/alert-text';
import { ROUTES } from '../../lambdas/domain/protocol';
import { parseDuration } from '../../lambdas/domain/rules/duration';
import { describeMatchers, matcherSpecFromArgs, SilenceError } from '../../lambdas/domain/rules/matcher-args';
import type { MatchSpec } from '../../lambdas/domain/rules/types';
import { ALERT_STATES, alertListView, handledText, SEVERITIES, type AlertState, type AlertView, type SortDirection, type SortKey } from '../alert-list';
import { apiCall, replyText, type Reply } from './api';
import type { Severity } from '../../lambdas/domain/types';

// ---- session (this tab's sessionStorage only) ----

const STORE = { cluster: 'tocsin.cluster', key: 'tocsin.key', adminKey: 'tocsin.adminKey', by: 'tocsin.by' } as const;

interface Session {
  cluster: string;
  key: string;
  /** The cluster's admin key, once one worked (the sign-in key itself when it is the admin key). */
  adminKey?: string;
}

function session(): Session | undefined {
  const cluster = sessionStorage.getItem(STORE.cluster);
  const key = sessionStorage.getItem(STORE.key);
  const adminKey = sessionStorage.getItem(STORE.adminKey);
  return cluster && key ? { cluster, key, ...(adminKey ? { adminKey } : {}) } : undefined;
}

function forgetKeys(): void {
  for (const k of [STORE.cluster, STORE.key, STORE.adminKey]) sessionStorage.removeItem(k);
}

// ---- small DOM helpers ----

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

type Child = Node | string | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const c of children) if (c !== undefined && c !== false) node.append(c);
  return node;
}

/** `<time>` showing how long ago, with the UTC time in full. */
function timeAgo(iso: string): HTMLTimeElement {
  return h('time', { datetime: iso, title: utc(iso) }, `${age(iso, Date.now())} ago`);
}

const utc = utcText;

function say(text: string): void {
  el('status').textContent = text;
}

function showError(text: string | undefined): void {
  const box = el('error');
  box.textContent = text ?? '';
  box.hidden = !text;
}

async function busy<T>(button: HTMLButtonElement | undefined, run: () => Promise<T>): Promise<T> {
  if (button) button.disabled = true;
  try {
    return await run();
  } catch (err) {
    showError(`The request failed: ${(err as Error).message}`);
    throw err;
  } finally {
    if (button) button.disabled = false;
  }
}

// ---- the admin key, asked for when an action needs it ----

function askAdminKey(reason: string): Promise<string | undefined> {
  const dialog = el<HTMLDialogElement>('admin-dialog');
  const form = el<HTMLFormElement>('admin-form');
  const input = el<HTMLInputElement>('admin-key');
  el('admin-reason').textContent = reason;
  el('admin-cluster').textContent = session()?.cluster ?? '';
  input.value = '';
  return new Promise((resolve) => {
    const done = (value: string | undefined) => {
      form.removeEventListener('submit', submit);
      el('admin-cancel').removeEventListener('click', cancel);
      dialog.removeEventListener('close', cancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const submit = (e: Event) => {
      e.preventDefault();
      const key = input.value.trim();
      if (key) done(key);
      else input.focus();
    };
    const cancel = () => done(undefined);
    form.addEventListener('submit', submit);
    el('admin-cancel').addEventListener('click', cancel);
    dialog.addEventListener('close', cancel);
    dialog.showModal();
    input.focus();
  });
}

const refusedForRole = (r: Reply) => (r.status === 403 && r.json.error === 'forbidden') || (r.status === 401 && r.json.error === 'unauthenticated');

/**
 * Runs an action that needs the admin key: with the admin key when one is known, else with
 * the sign-in key (it may be the admin key). Refused for the key (a viewer key's 403, a
 * wrong key's 401), it says so and asks for the admin key, then runs again.
 */
async function asAdmin(what: string, run: (key: string) => Promise<Reply>): Promise<Reply | undefined> {
  const s = session();
  if (!s) return undefined;
  // An action changes what the list shows: it is read afresh when next shown.
  list.loadedAt = 0;
  let key = s.adminKey ?? s.key;
  let reply = await run(key);
  let tried = s.adminKey ? 'the admin key entered before' : 'the key you signed in with';
  while (refusedForRole(reply)) {
    const entered = await askAdminKey(`${what} was refused with ${tried}: ${replyText(reply)}. Enter the admin key of cluster ${s.cluster} to go on.`);
    if (!entered) {
      showError(`${what} was refused: ${replyText(reply)}. It needs the cluster's admin key.`);
      return undefined;
    }
    key = entered;
    tried = 'that admin key';
    reply = await run(key);
  }
  if (reply.status < 300 && key !== s.adminKey) sessionStorage.setItem(STORE.adminKey, key);
  renderSession();
  return reply;
}

// ---- views ----

const VIEWS = ['login-view', 'alerts-view', 'alert-view', 'silences-view'] as const;
type View = (typeof VIEWS)[number];

function show(view: View, focusHeading: boolean): void {
  for (const v of VIEWS) el(v).hidden = v !== view;
  const nav = view === 'silences-view' ? 'nav-silences' : view === 'login-view' ? undefined : 'nav-alerts';
  for (const id of ['nav-alerts', 'nav-silences']) {
    if (id === nav) el(id).setAttribute('aria-current', 'page');
    else el(id).removeAttribute('aria-current');
  }
  if (focusHeading) el(view).querySelector<HTMLElement>('h2')?.focus();
}

function renderSession(): void {
  const s = session();
  el('session').hidden = !s;
  el('nav').hidden = !s;
  if (!s) return;
  el('session-cluster').textContent = s.cluster;
  el('session-role').textContent = s.adminKey ? 'admin key given' : 'read only';
}

// ---- the list of firing alerts ----

const list = {
  alerts: [] as AlertView[],
  truncated: false,
  loadedAt: 0,
  key: 'urgency' as SortKey,
  direction: 'descending' as SortDirection,
};

/** Each column's first direction when chosen: the order an operator looks for first. */
const FIRST_DIRECTION: Readonly<Record<SortKey, SortDirection>> = { urgency: 'descending', severity: 'descending', since: 'ascending', lastChange: 'descending', node: 'ascending', title: 'ascending', state: 'descending' };

function checked<T extends string>(name: string, known: readonly T[]): T[] {
  return [...document.querySelectorAll<HTMLInputElement>(`#filters input[name="${name}"]:checked`)].map((i) => i.value as T).filter((v) => known.includes(v));
}

function currentFilter() {
  return { text: el<HTMLInputElement>('filter-text').value, severities: checked<Severity>('severity', SEVERITIES), states: checked<AlertState>('state', ALERT_STATES) };
}

const COLUMNS: ReadonlyArray<{ label: string; sort?: SortKey }> = [
  { label: 'Severity', sort: 'severity' },
  { label: 'Alert', sort: 'title' },
  { label: 'State', sort: 'state' },
  { label: 'Firing for', sort: 'since' },
  { label: 'Last change', sort: 'lastChange' },
  { label: 'Notified' },
];

function sortBy(key: SortKey): void {
  list.direction = list.key === key ? (list.direction === 'ascending' ? 'descending' : 'ascending') : FIRST_DIRECTION[key];
  list.key = key;
  el<HTMLSelectElement>('sort-key').value = key;
  el<HTMLSelectElement>('sort-direction').value = list.direction;
  renderAlerts();
  // Keep the keyboard where it was: the header's button of the same column in the new table.
  document.querySelector<HTMLButtonElement>(`#alert-groups th[data-sort="${key}"] button`)?.focus();
  say(`Sorted by ${key}, ${list.direction}.`);
}

function alertRow(a: AlertView): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-alert': a.id },
    h('td', { 'data-label': 'Severity' }, h('span', { className: `sev sev-${a.severity}` }, a.severity)),
    h('td', { 'data-label': 'Alert', className: 'title' }, h('div', {}, h('a', { href: `#/alerts/${a.id}` }, a.title), h('div', { className: 'hint' }, a.subject))),
    h('td', { 'data-label': 'State', className: `state-${a.state}` }, handledText(a)),
    h('td', { 'data-label': 'Firing for' }, h('time', { datetime: a.since, title: utc(a.since) }, age(a.since, Date.now()))),
    h('td', { 'data-label': 'Last change' }, timeAgo(a.lastChange)),
    h('td', { 'data-label': 'Notified' }, a.channels.join(', ') || '-'),
  );
}

function alertTable(node: string, alerts: AlertView[]): HTMLTableElement {
  const head = h(
    'tr',
    {},
    ...COLUMNS.map((c) => {
      const th = h('th', { scope: 'col' });
      if (!c.sort) {
        th.textContent = c.label;
        return th;
      }
      const key = c.sort;
      th.dataset.sort = key;
      if (list.key === key) th.setAttribute('aria-sort', list.direction);
      const button = h('button', { type: 'button' }, c.label);
      button.addEventListener('click', () => sortBy(key));
      th.append(button);
      return th;
    }),
  );
  return h('table', {}, h('caption', { className: 'sr-only' }, `Firing on ${node}`), h('thead', {}, head), h('tbody', {}, ...alerts.map(alertRow)));
}

function renderAlerts(): void {
  const s = session();
  const view = alertListView(list.alerts, currentFilter(), list.key, list.direction);
  const box = el('alert-groups');
  box.replaceChildren();
  el('alerts-count').textContent =
    list.alerts.length === 0
      ? ''
      : `${view.shown} of ${list.alerts.length} firing alert${list.alerts.length === 1 ? '' : 's'} shown${list.truncated ? ' (more fire than one answer holds: the oldest are left out)' : ''}; updated ${new Date(list.loadedAt).toLocaleTimeString()}.`;
  if (list.alerts.length === 0) {
    box.append(h('p', {}, `Nothing is firing in cluster ${s?.cluster ?? ''}.`));
    return;
  }
  if (view.shown === 0) box.append(h('p', {}, 'No firing alert matches the filters.'));
  for (const group of view.groups) {
    box.append(
      h(
        'section',
        { className: 'cluster-group', 'aria-label': `cluster ${group.cluster}` },
        h('h3', {}, `Cluster ${group.cluster} (${group.count})`),
        ...group.nodes.flatMap((n) => [h('h4', {}, `Node ${n.node}`), alertTable(n.node, n.alerts)]),
      ),
    );
  }
}

async function loadAlerts(button?: HTMLButtonElement): Promise<boolean> {
  const s = session();
  if (!s) return false;
  const r = await busy(button, () => apiCall(s.cluster, s.key, ROUTES.alertList.method, ROUTES.alertList.path));
  if (r.status !== 200) {
    showError(`Reading the firing alerts failed: ${replyText(r)}`);
    return false;
  }
  list.alerts = r.json.alerts as AlertView[];
  list.truncated = r.json.truncated === true;
  list.loadedAt = Date.now();
  renderAlerts();
  return true;
}

// ---- one alert and its timeline ----

let shownAlert: AlertView | undefined;

function fact(term: string, value: Child): Node[] {
  return value === undefined || value === false || value === '' ? [] : [h('dt', {}, term), h('dd', {}, value)];
}

function renderTimeline(history: Array<{ at: string; events: HistoryEventJson[] }>, summary: Record<string, unknown>): void {
  const recovery = typeof summary.lastRecoveryMs === 'number' ? `; last recovery after ${compactSpan(summary.lastRecoveryMs)}, mean ${compactSpan(Number(summary.meanRecoveryMs))}` : '';
  el('timeline-summary').textContent = `${String(summary.episodes)} episode(s), ${String(summary.flaps)} flap(s)${recovery}.`;
  const items = history.flatMap((entry) => entry.events.map((ev) => h('li', {}, h('time', { datetime: entry.at }, utc(entry.at)), describeHistoryEvent(ev))));
  el('timeline').replaceChildren(...(items.length ? items : [h('li', {}, 'No history within the retention.')]));
}

function renderAlert(a: AlertView): void {
  shownAlert = a;
  el('alert-title').textContent = a.title;
  el('alert-facts').replaceChildren(
    ...fact('Severity', h('span', { className: `sev sev-${a.severity}` }, a.severity)),
    ...fact('State', handledText(a)),
    ...fact('Subject', h('code', {}, a.subject)),
    ...fact('Alert id', h('code', {}, a.id)),
    ...fact('Cluster', a.cluster),
    ...fact('Node', a.node),
    ...fact('Service', a.service),
    ...fact('Check', a.check),
    ...fact('Status', a.status),
    ...fact('Source', `${a.source} ${a.kind}`),
    ...fact('Firing since', h('span', {}, `${utc(a.since)} (for ${age(a.since, Date.now())})`)),
    ...fact('Last change', utc(a.lastChange)),
    ...fact('Notified', a.channels.join(', ') || 'no channel yet'),
  );
  const ack = a.ack;
  el('ack-state').textContent = ack
    ? `Acknowledged by ${ack.by} at ${utc(ack.at)}${ack.until ? `, until ${utc(ack.until)}` : ', until the alert resolves'}${ack.comment ? `: ${ack.comment}` : ''}.${a.state !== 'acknowledged' ? ' The acknowledgement has ended.' : ''}`
    : 'Not acknowledged: reminders go out as configured.';
  el('unack').hidden = !ack;
  el('ack-submit').textContent = ack ? 'Acknowledge again' : 'Acknowledge';
  el<HTMLInputElement>('ack-by').value ||= sessionStorage.getItem(STORE.by) ?? '';
}

async function loadAlert(id: string): Promise<void> {
  const s = session();
  if (!s) return;
  el('alert-title').textContent = `Alert ${id}`;
  const r = await busy(undefined, () => apiCall(s.cluster, s.key, ROUTES.alertGet.method, ROUTES.alertGet.path.replace('{id}', id)));
  if (r.status === 200) {
    renderAlert(r.json.alert as AlertView);
    renderTimeline(r.json.history as Array<{ at: string; events: HistoryEventJson[] }>, r.json.summary as Record<string, unknown>);
    return;
  }
  // A resolved alert has no entry; the subject it had (from the list) still has its history.
  const known = list.alerts.find((a) => a.id === id);
  showError(`Reading alert ${id} failed: ${replyText(r)}`);
  el('alert-facts').replaceChildren();
  el('timeline').replaceChildren();
  if (r.status === 404 && known) {
    const hr = await apiCall(s.cluster, s.key, ROUTES.history.method, ROUTES.history.path, undefined, `?subject=${encodeURIComponent(known.subject)}`);
    if (hr.status === 200) renderTimeline(hr.json.history as Array<{ at: string; events: HistoryEventJson[] }>, hr.json.summary as Record<string, unknown>);
  }
}

async function acknowledge(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  showError(undefined);
  const a = shownAlert;
  if (!a) return;
  const by = el<HTMLInputElement>('ack-by').value.trim();
  const comment = el<HTMLInputElement>('ack-comment').value.trim();
  const until = el<HTMLInputElement>('ack-until').value.trim();
  const untilSeconds = until === '' ? undefined : parseDuration(until);
  if (untilSeconds === undefined && until !== '') {
    showError(`"For": "${until}" is not a duration (e.g. 30m, 4h, 2d).`);
    el('ack-until').focus();
    return;
  }
  if (by) sessionStorage.setItem(STORE.by, by);
  const body = { ...(by ? { by } : {}), ...(comment ? { comment } : {}), ...(untilSeconds ? { untilSeconds } : {}) };
  const s = session() as Session;
  const r = await busy(el<HTMLButtonElement>('ack-submit'), () => asAdmin('Acknowledging', (key) => apiCall(s.cluster, key, ROUTES.alertAck.method, ROUTES.alertAck.path.replace('{id}', a.id), body)));
  if (!r) return;
  if (r.status !== 200) {
    showError(`Acknowledging failed: ${replyText(r)}`);
    return;
  }
  const ack = r.json.ack as { by: string; until?: string };
  say(`Acknowledged by ${ack.by}${ack.until ? ` until ${utc(ack.until)}` : ''}.`);
  el<HTMLInputElement>('ack-comment').value = '';
  await loadAlert(a.id);
}

async function unacknowledge(): Promise<void> {
  showError(undefined);
  const a = shownAlert;
  const s = session();
  if (!a || !s) return;
  const r = await busy(el<HTMLButtonElement>('unack'), () => asAdmin('Withdrawing the acknowledgement', (key) => apiCall(s.cluster, key, ROUTES.alertUnack.method, ROUTES.alertUnack.path.replace('{id}', a.id), {})));
  if (!r) return;
  if (r.status !== 200) return showError(`Withdrawing the acknowledgement failed: ${replyText(r)}`);
  say('The acknowledgement is withdrawn.');
  await loadAlert(a.id);
}

// ---- silences ----

interface SilenceView {
  id: string;
  matchers: MatchSpec;
  startsAt: string;
  endsAt: string;
  author: string;
  comment: string;
  state: 'active' | 'pending' | 'expired';
}

function renderSilences(silences: SilenceView[]): void {
  const box = el('silence-list');
  if (silences.length === 0) {
    box.replaceChildren(h('p', {}, 'No active or pending silence.'));
    return;
  }
  const head = h('tr', {}, ...['Matchers', 'State', 'Starts', 'Ends', 'Author', 'Comment', 'Action'].map((c) => h('th', { scope: 'col' }, c)));
  const rows = silences.map((sil) => {
    const matchers = describeMatchers(sil.matchers);
    const expire = h('button', { type: 'button', 'aria-label': `Expire the silence ${matchers}` }, 'Expire');
    expire.addEventListener('click', () => void expireSilence(sil, expire));
    return h(
      'tr',
      { 'data-silence': sil.id },
      h('td', { 'data-label': 'Matchers' }, h('code', {}, matchers)),
      h('td', { 'data-label': 'State' }, sil.state),
      h('td', { 'data-label': 'Starts' }, utc(sil.startsAt)),
      h('td', { 'data-label': 'Ends' }, utc(sil.endsAt)),
      h('td', { 'data-label': 'Author' }, sil.author),
      h('td', { 'data-label': 'Comment' }, sil.comment),
      h('td', { 'data-label': 'Action' }, expire),
    );
  });
  box.replaceChildren(h('table', {}, h('caption', { className: 'sr-only' }, 'Active and pending silences'), h('thead', {}, head), h('tbody', {}, ...rows)));
}

async function loadSilences(button?: HTMLButtonElement): Promise<void> {
  const s = session();
  if (!s) return;
  const key = s.adminKey ?? s.key;
  const r = await busy(button, () => apiCall(s.cluster, key, ROUTES.silenceList.method, ROUTES.silenceList.path));
  const locked = refusedForRole(r);
  el('silences-locked').hidden = !locked;
  if (locked) {
    el('silences-locked-text').textContent = `Silences are read and changed with the cluster's admin key; the API refused ${s.adminKey ? 'the admin key entered' : 'the key you signed in with'} (${replyText(r)}).`;
    el('silence-list').replaceChildren();
    return;
  }
  if (r.status !== 200) return showError(`Reading the silences failed: ${replyText(r)}`);
  if (key !== s.adminKey) sessionStorage.setItem(STORE.adminKey, key);
  renderSession();
  renderSilences(r.json.silences as SilenceView[]);
}

async function createSilence(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  showError(undefined);
  const lines = el<HTMLTextAreaElement>('silence-matchers').value.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const duration = el<HTMLInputElement>('silence-duration').value.trim();
  const author = el<HTMLInputElement>('silence-author').value.trim();
  const comment = el<HTMLInputElement>('silence-comment').value.trim();
  let matchers: MatchSpec;
  try {
    if (lines.length === 0) throw new SilenceError('give at least one matcher, such as node=web-1');
    matchers = matcherSpecFromArgs(lines);
  } catch (err) {
    showError(`Matchers: ${(err as Error).message}`);
    el('silence-matchers').focus();
    return;
  }
  const seconds = parseDuration(duration);
  if (seconds === undefined || seconds <= 0) {
    showError(`Duration: "${duration}" is not a duration (e.g. 30m, 4h, 2d).`);
    el('silence-duration').focus();
    return;
  }
  if (!author || !comment) {
    showError('A silence needs an author and a comment (who, and why).');
    el(author ? 'silence-comment' : 'silence-author').focus();
    return;
  }
  sessionStorage.setItem(STORE.by, author);
  const s = session() as Session;
  const button = el<HTMLFormElement>('silence-form').querySelector<HTMLButtonElement>('button[type="submit"]') ?? undefined;
  const r = await busy(button, () => asAdmin('Creating a silence', (key) => apiCall(s.cluster, key, ROUTES.silenceCreate.method, ROUTES.silenceCreate.path, { matchers, duration, author, comment })));
  if (!r) return;
  if (r.status !== 201) return showError(`Creating the silence failed: ${replyText(r)}`);
  const created = r.json.silence as SilenceView;
  say(`Silence created: ${describeMatchers(created.matchers)} until ${utc(created.endsAt)}.`);
  el<HTMLTextAreaElement>('silence-matchers').value = '';
  el<HTMLInputElement>('silence-comment').value = '';
  await loadSilences();
}

async function expireSilence(sil: SilenceView, button: HTMLButtonElement): Promise<void> {
  showError(undefined);
  const s = session() as Session;
  const r = await busy(button, () => asAdmin('Expiring a silence', (key) => apiCall(s.cluster, key, ROUTES.silenceExpire.method, ROUTES.silenceExpire.path.replace('{id}', sil.id), {})));
  if (!r) return;
  if (r.status !== 200) return showError(`Expiring the silence failed: ${replyText(r)}`);
  say(`Silence expired: ${describeMatchers(sil.matchers)}.`);
  await loadSilences();
  el('silences-title').focus();
}

// ---- sign in, routing ----

async function signIn(e: SubmitEvent): Promise<void> {
  e.preventDefault();
  const cluster = el<HTMLInputElement>('login-cluster').value.trim();
  const key = el<HTMLInputElement>('login-key').value.trim();
  const error = el('login-error');
  error.hidden = true;
  if (!cluster || !key) {
    error.textContent = 'Enter the cluster and its key.';
    error.hidden = false;
    el(cluster ? 'login-key' : 'login-cluster').focus();
    return;
  }
  const button = el<HTMLFormElement>('login-form').querySelector<HTMLButtonElement>('button[type="submit"]') ?? undefined;
  const r = await busy(button, () => apiCall(cluster, key, ROUTES.alertList.method, ROUTES.alertList.path));
  if (r.status !== 200) {
    error.textContent = `The key was refused for cluster ${cluster}: ${replyText(r)}`;
    error.hidden = false;
    el('login-key').focus();
    return;
  }
  sessionStorage.setItem(STORE.cluster, cluster);
  sessionStorage.setItem(STORE.key, key);
  sessionStorage.removeItem(STORE.adminKey);
  el<HTMLInputElement>('login-key').value = '';
  list.alerts = r.json.alerts as AlertView[];
  list.truncated = r.json.truncated === true;
  list.loadedAt = Date.now();
  say(`Signed in to cluster ${cluster}.`);
  if (location.hash === '' || location.hash === '#/alerts') void route(true);
  else location.hash = '#/alerts';
}

/** A prefill for the silence form ("Silence this alert"). */
let silencePrefill: string | undefined;

async function route(focus: boolean): Promise<void> {
  showError(undefined);
  renderSession();
  if (!session()) {
    show('login-view', focus);
    return;
  }
  const hash = location.hash;
  const alertId = /^#\/alerts\/([A-Za-z0-9_-]{12})$/.exec(hash)?.[1];
  if (alertId) {
    show('alert-view', false);
    await loadAlert(alertId);
    if (focus) el('alert-title').focus();
  } else if (hash === '#/silences') {
    show('silences-view', focus);
    if (silencePrefill) {
      el<HTMLTextAreaElement>('silence-matchers').value = silencePrefill;
      silencePrefill = undefined;
    }
    el<HTMLInputElement>('silence-author').value ||= sessionStorage.getItem(STORE.by) ?? '';
    await loadSilences();
  } else {
    show('alerts-view', focus);
    if (list.loadedAt === 0 || Date.now() - list.loadedAt > 5000) await loadAlerts();
    else renderAlerts();
  }
}

/** The list refreshes itself while it is shown (the page is an operator's screen). */
const REFRESH_MS = 30_000;

function start(): void {
  // WebCrypto's subtle API exists only in secure contexts: HTTPS, or loopback (npm start's default).
  if (!window.isSecureContext || !globalThis.crypto?.subtle) {
    const error = el('login-error');
    error.textContent = `This page signs its requests with WebCrypto, which browsers offer only over HTTPS or on localhost; ${location.origin} is neither. Serve npm start with --tls-cert and --tls-key, or open it through localhost.`;
    error.hidden = false;
    for (const control of el('login-form').querySelectorAll<HTMLInputElement | HTMLButtonElement>('input, button')) control.disabled = true;
    return;
  }
  el<HTMLFormElement>('login-form').addEventListener('submit', (e) => void signIn(e));
  el('logout').addEventListener('click', () => {
    forgetKeys();
    list.alerts = [];
    list.loadedAt = 0;
    say('The keys are forgotten.');
    void route(true);
  });
  el<HTMLFormElement>('filters').addEventListener('submit', (e) => e.preventDefault());
  el('filters').addEventListener('input', () => renderAlerts());
  el('sort-key').addEventListener('change', () => {
    list.key = el<HTMLSelectElement>('sort-key').value as SortKey;
    renderAlerts();
  });
  el('sort-direction').addEventListener('change', () => {
    list.direction = el<HTMLSelectElement>('sort-direction').value as SortDirection;
    renderAlerts();
  });
  el('refresh').addEventListener('click', () => void loadAlerts(el<HTMLButtonElement>('refresh')).then((ok) => ok && say('The list is up to date.')));
  el<HTMLFormElement>('ack-form').addEventListener('submit', (e) => void acknowledge(e));
  el('unack').addEventListener('click', () => void unacknowledge());
  el('silence-this').addEventListener('click', () => {
    const a = shownAlert;
    if (a) silencePrefill = [`node=${a.node}`, ...(a.check ? [`check=${a.check}`] : a.service ? [`service=${a.service}`] : [])].join('\n');
  });
  el<HTMLFormElement>('silence-form').addEventListener('submit', (e) => void createSilence(e));
  el('silences-refresh').addEventListener('click', () => void loadSilences(el<HTMLButtonElement>('silences-refresh')));
  el('silences-unlock').addEventListener('click', () => {
    void askAdminKey(`Silences are read and changed with the admin key of cluster ${session()?.cluster ?? ''}.`).then((key) => {
      if (!key) return;
      sessionStorage.setItem(STORE.adminKey, key);
      void loadSilences();
    });
  });
  window.addEventListener('hashchange', () => void route(true));
  setInterval(() => {
    if (document.visibilityState === 'visible' && !el('alerts-view').hidden && session()) void loadAlerts();
  }, REFRESH_MS);
  void route(false);
}

start();
