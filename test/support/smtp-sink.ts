/**
 * A real SMTP server (the `smtp-server` package) for tests: records every email it
 * accepts, can refuse recipients (a reply code per recipient and attempt), check AUTH,
 * and speak plain SMTP, STARTTLS or implicit TLS with a certificate of a private CA made
 * here with openssl.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  from: string;
  to: string[];
  /** Headers by lower-case name, unfolded. */
  headers: Record<string, string>;
  subject: string;
  text: string;
  /** Over TLS (STARTTLS or implicit). */
  secure: boolean;
  /** The AUTH user, if any. */
  user?: string;
}

export interface SmtpSinkOptions {
  tls: 'none' | 'starttls' | 'implicit';
  /** PEM key and certificate (required with tls). */
  cert?: { key: string; cert: string };
  /** Required AUTH credentials; absent: no AUTH. */
  auth?: { user: string; pass: string };
  /** Reply code refusing `rcpt` at its `attempt` (1 = first RCPT TO for it); undefined accepts. */
  refuse?: (rcpt: string, attempt: number) => number | undefined;
}

export interface SmtpSink {
  port: number;
  received: ReceivedEmail[];
  /** RCPT TO commands seen for an address (accepted or not). */
  attempts(rcpt: string): number;
  /** Failed AUTH attempts. */
  authFailures(): number;
  close(): Promise<void>;
}

function decodeBody(headers: Record<string, string>, body: string): string {
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/** A single-part text email as nodemailer writes it. */
export function parseEmail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const text = decodeBody(headers, raw.slice(split + 4)).replace(/\r\n/g, '\n').replace(/\n$/, '');
  return { headers, text };
}

export async function startSmtpSink(opts: SmtpSinkOptions): Promise<SmtpSink> {
  const received: ReceivedEmail[] = [];
  const rcptCounts = new Map<string, number>();
  let authFailures = 0;
  const server = new SMTPServer({
    logger: false,
    secure: opts.tls === 'implicit',
    ...(opts.cert ? { key: opts.cert.key, cert: opts.cert.cert } : {}),
    disabledCommands: [...(opts.tls === 'starttls' ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    authOptional: !opts.auth,
    // Plain SMTP with AUTH only on loopback (tocsin refuses it elsewhere).
    allowInsecureAuth: opts.tls === 'none',
    onAuth(auth, _session, callback) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return callback(null, { user: auth.username });
      authFailures++;
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, callback) {
      const attempt = (rcptCounts.get(address.address) ?? 0) + 1;
      rcptCounts.set(address.address, attempt);
      const code = opts.refuse?.(address.address, attempt);
      if (code === undefined) return callback();
      return callback(Object.assign(new Error(`${code === 550 ? 'No such user' : 'Try again later'} (${address.address})`), { responseCode: code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const { headers, text } = parseEmail(Buffer.concat(chunks).toString('utf8'));
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          headers,
          subject: headers.subject ?? '',
          text,
          secure: session.secure,
          ...(session.user ? { user: String(session.user) } : {}),
        });
        callback();
      });
    },
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  // Errors after start (a client dropping the connection ...) are the client's business.
  server.on('error', () => undefined);
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return {
    port,
    received,
    attempts: (rcpt) => rcptCounts.get(rcpt) ?? 0,
    authFailures: () => authFailures,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A private CA and a certificate it signed for 127.0.0.1 and localhost (openssl), in `dir`. */
export function privateCa(dir: string): { caFile: string; key: string; cert: string } {
  const file = (name: string) => join(dir, name);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=tocsin test CA']);
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=localhost']);
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n');
  run(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.pem'), '-days', '2', '-extfile', file('san.ext')]);
  return { caFile: file('ca.pem'), key: readFileSync(file('server.key'), 'utf8'), cert: readFileSync(file('server.pem'), 'utf8') };
}
