/** The page's small DOM helpers: elements by id, building elements (text only, never HTML), messages. */
import { age, utcText } from '../../lambdas/domain/alert-text';


export function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

export type Child = Node | string | undefined | false;
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'className') node.className = value;
    else node.setAttribute(name, value);
  }
  for (const c of children) if (c !== undefined && c !== false) node.append(c);
  return node;
}

/** `<time>` showing how long ago, with the UTC time in full. */
export function timeAgo(iso: string): HTMLTimeElement {
  return h('time', { datetime: iso, title: utc(iso) }, `${age(iso, Date.now())} ago`);
}

export const utc = utcText;

export function say(text: string): void {
  el('status').textContent = text;
}

export function showError(text: string | undefined): void {
  const box = el('error');
  box.textContent = text ?? '';
  box.hidden = !text;
}

export async function busy<T>(button: HTMLButtonElement | undefined, run: () => Promise<T>): Promise<T> {
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

