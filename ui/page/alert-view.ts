/** One alert: its facts, its acknowledgement (given, withdrawn) and its timeline. */
import { age, compactSpan, describeHistoryEvent, type HistoryEventJson } from '../../lambdas/domain/alert-text';
import { ROUTES } from '../../lambdas/domain/protocol';
import { parseDuration } from '../../lambdas/domain/rules/duration';
import { handledText, type AlertView } from '../alert-list';
import { apiCall, replyText } from './api';
import { list, markListStale } from './alerts-view';
import { busy, el, h, say, showError, utc, type Child } from './dom';
import { asAdmin, session, STORE, type Session } from './session';


let shownAlert: AlertView | undefined;

/** The alert shown, if any. */
export function currentAlert(): AlertView | undefined {
  return shownAlert;
}

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

export async function loadAlert(id: string): Promise<void> {
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

export async function acknowledge(e: SubmitEvent): Promise<void> {
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
  markListStale();
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

export async function unacknowledge(): Promise<void> {
  showError(undefined);
  const a = shownAlert;
  const s = session();
  if (!a || !s) return;
  markListStale();
  const r = await busy(el<HTMLButtonElement>('unack'), () => asAdmin('Withdrawing the acknowledgement', (key) => apiCall(s.cluster, key, ROUTES.alertUnack.method, ROUTES.alertUnack.path.replace('{id}', a.id), {})));
  if (!r) return;
  if (r.status !== 200) return showError(`Withdrawing the acknowledgement failed: ${replyText(r)}`);
  say('The acknowledgement is withdrawn.');
  await loadAlert(a.id);
}

