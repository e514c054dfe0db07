/**
 * The web page's script (README "The web page"): sign in with a cluster's key, see what is
 * firing (sorted, filtered, grouped by cluster and node: alerts-view.ts), one alert's
 * timeline and acknowledgement (alert-view.ts), and silences (silences-view.ts). Everything
 * it shows comes from the signed API (api.ts); everything it puts on the page goes in as
 * text, never as HTML (dom.ts).
 */
import { ROUTES } from '../../lambdas/domain/protocol';
import type { AlertView, SortDirection, SortKey } from '../alert-list';
import { apiCall, replyText } from './api';
import { acknowledge, currentAlert, loadAlert, unacknowledge } from './alert-view';
import { list, loadAlerts, renderAlerts } from './alerts-view';
import { busy, el, say, showError } from './dom';
import { askAdminKey, forgetKeys, renderSession, session, STORE } from './session';
import { createSilence, loadSilences } from './silences-view';


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
    const a = currentAlert();
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
