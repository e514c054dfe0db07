/**
 * The ingest API's listener for `npm start`: plain HTTP on loopback by default; on another
 * address deliberately (--host), HTTPS when a TLS pair is given, and a loud warning when
 * clear text leaves the machine.
 */
import { createServer as createHttp, type RequestListener, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { isIPv6, type AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { TlsPair } from './serve-options';

export interface IngestListener {
  server: Server;
  /** Base URL for the banner: scheme, host the agents use, bound port. */
  origin: string;
  /** The address actually bound (an IP). */
  bound: AddressInfo;
  /** Warnings for the operator (stderr), empty when the footprint is safe. */
  warnings: string[];
}

/** 127.0.0.0/8 and ::1, also IPv4-mapped: the only addresses other hosts cannot reach. */
export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

const isWildcard = (address: string) => address === '0.0.0.0' || address === '::';

/** The host part of the URL agents should use: the given name, or this machine's name for a wildcard bind. */
function urlHost(requested: string, bound: string): string {
  const host = isWildcard(bound) ? hostname() : requested;
  return isIPv6(host) ? `[${host}]` : host;
}

export async function listenIngest(listener: RequestListener, opts: { host: string; port: number; tls?: TlsPair }): Promise<IngestListener> {
  const server: Server = opts.tls ? createHttps({ cert: opts.tls.cert, key: opts.tls.key }, listener) : createHttp(listener);
  await new Promise<void>((ok, fail) => {
    const refused = (err: Error) => fail(new Error(`cannot serve the ingest API on ${opts.host} port ${opts.port}: ${err.message}`));
    server.once('error', refused);
    server.listen(opts.port, opts.host, () => {
      server.off('error', refused); // later errors must not vanish into a settled promise
      ok();
    });
  });
  const bound = server.address() as AddressInfo;
  const scheme = opts.tls ? 'https' : 'http';
  const warnings: string[] = [];
  if (!isLoopback(bound.address) && !opts.tls) {
    warnings.push(
      `tocsin: WARNING: the ingest API listens on ${bound.address} port ${bound.port} (--host ${opts.host}) WITHOUT TLS. ` +
        'Envelopes are signed but travel in clear text: alert contents, node and service names, admin calls. ' +
        'Give --tls-cert FILE --tls-key FILE, or keep the default --host 127.0.0.1 behind a TLS reverse proxy.',
    );
  }
  return { server, origin: `${scheme}://${urlHost(opts.host, bound.address)}:${bound.port}`, bound, warnings };
}
