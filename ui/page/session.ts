/**
 * The page's keys, in this tab's sessionStorage only: the cluster, the key signed in with,
 * and the admin key once one was given; and running an action that needs the admin key.
 */
import { replyText, type Reply } from './api';
import { el, showError } from './dom';


export const STORE = { cluster: 'tocsin.cluster', key: 'tocsin.key', adminKey: 'tocsin.adminKey', by: 'tocsin.by' } as const;

export interface Session {
  cluster: string;
  key: string;
  /** The cluster's admin key, once one worked (the sign-in key itself when it is the admin key). */
  adminKey?: string;
}

export function session(): Session | undefined {
  const cluster = sessionStorage.getItem(STORE.cluster);
  const key = sessionStorage.getItem(STORE.key);
  const adminKey = sessionStorage.getItem(STORE.adminKey);
  return cluster && key ? { cluster, key, ...(adminKey ? { adminKey } : {}) } : undefined;
}

export function forgetKeys(): void {
  for (const k of [STORE.cluster, STORE.key, STORE.adminKey]) sessionStorage.removeItem(k);
}


export function askAdminKey(reason: string): Promise<string | undefined> {
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

export const refusedForRole = (r: Reply) => (r.status === 403 && r.json.error === 'forbidden') || (r.status === 401 && r.json.error === 'unauthenticated');

/**
 * Runs an action that needs the admin key: with the admin key when one is known, else with
 * the sign-in key (it may be the admin key). Refused for the key (a viewer key's 403, a
 * wrong key's 401), it says so and asks for the admin key, then runs again.
 */
export async function asAdmin(what: string, run: (key: string) => Promise<Reply>): Promise<Reply | undefined> {
  const s = session();
  if (!s) return undefined;
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

export function renderSession(): void {
  const s = session();
  el('session').hidden = !s;
  el('nav').hidden = !s;
  if (!s) return;
  el('session-cluster').textContent = s.cluster;
  el('session-role').textContent = s.adminKey ? 'admin key given' : 'read only';
}

