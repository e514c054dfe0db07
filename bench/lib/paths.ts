import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
/** Build outputs and scratch directories (git-ignored). */
export const TMP = join(ROOT, 'bench', 'tmp');
export const SHIM = join(ROOT, 'agent-shim', 'dist', 'tocsin-shim.js');

export function scratchDir(prefix: string): string {
  mkdirSync(TMP, { recursive: true });
  return mkdtempSync(join(TMP, `${prefix}-`));
}
