/** Per-cluster secrets of `npm start` (shim signing keys, admin keys): a JSON file in the data dir, created on first use. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/** The key of every cluster in `clusters`, generating (and saving, mode 0600) the missing ones. */
export function loadOrCreateKeys(path: string, clusters: readonly string[]): Record<string, string> {
  const keys: Record<string, string> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
  let changed = false;
  for (const cluster of clusters) {
    if (!keys[cluster]) {
      keys[cluster] = randomBytes(32).toString('base64url');
      changed = true;
    }
  }
  if (changed) writeFileSync(path, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
  return Object.fromEntries(clusters.map((c) => [c, keys[c] as string]));
}
