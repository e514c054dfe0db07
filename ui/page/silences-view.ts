/** Silences: the active and pending ones, expiring one, creating one (matchers in `tocsin silence`'s syntax). */
import { ROUTES } from '../../lambdas/domain/protocol';
import { parseDuration } from '../../lambdas/domain/rules/duration';
import { describeMatchers, matcherSpecFromArgs, SilenceError } from '../../lambdas/domain/rules/matcher-args';
import type { MatchSpec } from '../../lambdas/domain/rules/types';
import { apiCall, replyText } from './api';
import { markListStale } from './alerts-view';
import { busy, el, h, say, showError, utc } from './dom';
import { asAdmin, refusedForRole, renderSession, session, STORE, type Session } from './session';


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

export async function loadSilences(button?: HTMLButtonElement): Promise<void> {
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

export async function createSilence(e: SubmitEvent): Promise<void> {
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
  markListStale();
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
  markListStale();
  const r = await busy(button, () => asAdmin('Expiring a silence', (key) => apiCall(s.cluster, key, ROUTES.silenceExpire.method, ROUTES.silenceExpire.path.replace('{id}', sil.id), {})));
  if (!r) return;
  if (r.status !== 200) return showError(`Expiring the silence failed: ${replyText(r)}`);
  say(`Silence expired: ${describeMatchers(sil.matchers)}.`);
  await loadSilences();
  el('silences-title').focus();
}

