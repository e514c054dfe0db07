/**
 * How `npm start` shows itself: the ingest API's address (--host, loopback by default),
 * its TLS pair (--tls-cert, --tls-key) and --quiet. Parsed and checked here so that a bad
 * value stops the start before anything is opened.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { LOCAL_DEFAULTS } from './names';

/** node:util parseArgs options of this module, merged into main.ts's. */
export const SERVE_ARGS = {
  host: { type: 'string', default: LOCAL_DEFAULTS.host },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  quiet: { type: 'boolean', default: false },
} as const;

export const SERVE_USAGE = `  --host ADDR              serve the ingest API on ADDR instead of ${LOCAL_DEFAULTS.host} (e.g. 0.0.0.0 for every
                           interface); without TLS this prints a warning. The stand-ins stay on loopback.
  --tls-cert FILE          serve HTTPS with this PEM certificate (chain) ...
  --tls-key FILE           ... and its PEM private key; both or neither
  --quiet                  print no notification bodies (they are still delivered and appended
                           to notifications.jsonl in the data dir)
`;

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
  certFile: string;
}

export interface ServeOptions {
  host: string;
  tls?: TlsPair;
  quiet: boolean;
}

export class ServeOptionError extends Error {}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ServeOptionError(`${flag} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/** The TLS pair, read and checked (a certificate and the key that goes with it), or undefined. */
export function tlsPair(certFile: string | undefined, keyFile: string | undefined): TlsPair | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) throw new ServeOptionError(`--tls-cert and --tls-key go together: ${certFile === undefined ? '--tls-cert' : '--tls-key'} is missing`);
  const cert = readPem('--tls-cert', certFile);
  const key = readPem('--tls-key', keyFile);
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ServeOptionError(`--tls-cert ${certFile} / --tls-key ${keyFile}: not a usable PEM certificate and matching key (${(err as Error).message})`);
  }
  return { cert, key, certFile };
}

export function serveOptions(values: { host?: string; 'tls-cert'?: string; 'tls-key'?: string; quiet?: boolean }): ServeOptions {
  const host = values.host ?? LOCAL_DEFAULTS.host;
  if (host.trim() === '' || /[\s/]/.test(host)) throw new ServeOptionError(`--host "${host}" is not an address or host name`);
  const tls = tlsPair(values['tls-cert'], values['tls-key']);
  return { host, quiet: values.quiet ?? false, ...(tls ? { tls } : {}) };
}
