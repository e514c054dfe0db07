/** The list of firing alerts: read, filtered, sorted and grouped (ui/alert-list.ts), drawn as one table per node. */
import { age } from '../../lambdas/domain/alert-text';
import { ROUTES } from '../../lambdas/domain/protocol';
import type { Severity } from '../../lambdas/domain/types';
import { ALERT_STATES, alertListView, handledText, SEVERITIES, type AlertState, type AlertView, type SortDirection, type SortKey } from '../alert-list';
import { apiCall, replyText } from './api';
import { busy, el, h, say, showError, timeAgo, utc } from './dom';
import { session } from './session';


export const list = {
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

export function renderAlerts(): void {
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

export async function loadAlerts(button?: HTMLButtonElement): Promise<boolean> {
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

/** An action changed what the list shows: it is read afresh when next shown. */
export function markListStale(): void {
  list.loadedAt = 0;
}

