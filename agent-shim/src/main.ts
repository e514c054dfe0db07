/**
 * tocsin-shim: runs as a Consul watch handler or a Serf event handler, POSTs one
 * signed envelope per invocation and spools what it cannot deliver. Consul and Serf
 * run handlers serially and without timeout, so every path here is time-bounded.
 */
import type { Envelope } from '../../lambdas/domain/types';
import { parseArgs, UsageError, type CliArgs } from './args';
import { ConfigError, loadConfig, type Config } from './config';
import { sendChecks } from './checks-delta';
import { buildEnvelope, detectInvocation, type Invocation } from './envelope';
import { EXIT, worse } from './exit-codes';
import { flushSpool } from './flush';
import { sendHeartbeat } from './heartbeat';
import { HELP } from './help';
import * as log from './log';
import { Spool, SpoolFullError } from './spool';
import { readStdin } from './stdin';
import { Transport } from './transport';

declare const __TOCSIN_SHIM_VERSION__: string | undefined;
const VERSION = typeof __TOCSIN_SHIM_VERSION__ === 'string' ? __TOCSIN_SHIM_VERSION__ : '0.0.0-dev';
const USER_AGENT = `tocsin-shim/${VERSION}`;

/** Serf's query deadline is ~3 s on small clusters; answer well before it. */
const QUERY_BUDGET_MS = 2000;

/** Time kept after the network phase for writing the spool and exiting. */
function spoolReserve(budget: number): number {
  return Math.min(300, Math.floor(budget / 5));
}

async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = Date.now();
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    return usage(e);
  }
  if (args.help) {
    log.text(HELP);
    return EXIT.OK;
  }
  if (args.version) {
    log.text(`tocsin-shim ${VERSION}\n`);
    return EXIT.OK;
  }
  if (args.command === 'flush') return flush(args, env, started);
  if (args.command === 'heartbeat') return heartbeat(args, env, started);

  let inv: Invocation;
  try {
    inv = detectInvocation(args.watch, env);
  } catch (e) {
    return usage(e);
  }
  if (inv.query) {
    // The ack goes out first: it is the query response if we exit 0, whatever happens next.
    log.setQueryMode(true);
    const name = (env.SERF_QUERY_NAME ?? '').slice(0, 200);
    log.stdoutLine(`tocsin: ack ${name} ltime=${env.SERF_QUERY_LTIME ?? ''}`);
  }
  const cfg = config(args, env);
  if (!cfg) return EXIT.CONFIG;

  const budget = inv.query ? Math.min(cfg.timeoutMs, QUERY_BUDGET_MS) : cfg.timeoutMs;
  const deadline = started + budget;
  const netDeadline = deadline - spoolReserve(budget);

  const stdin = await readStdin(netDeadline);
  if (!stdin.ok) {
    log.error(stdin.reason);
    return EXIT.NOINPUT;
  }
  const envelope = buildEnvelope({ invocation: inv, cluster: cfg.cluster, node: cfg.node, scope: cfg.scope, stdin: stdin.bytes, env, now: new Date(started) });
  const what = `${inv.source} ${inv.type}${envelope.scope !== inv.type ? ` (${envelope.scope})` : ''} envelope`;
  const spool = new Spool(cfg.spoolDir, { maxBytes: cfg.spoolMaxBytes, maxFiles: cfg.spoolMaxFiles });
  // Never closed: every run ends in process.exit, which closes the kept-alive socket, and
  // destroying it first costs ~1.5 ms (destroying a socket makes Node create process.stderr).
  const transport = new Transport(cfg.url, cfg.key, USER_AGENT);
  let code: number = EXIT.OK;
  let holdReason: string | undefined;
  // Queries skip the backlog: their budget is tight and any output would pollute the response.
  if (!inv.query) {
    const flushed = await flushSpool(spool, transport, netDeadline, deadline);
    code = flushed.code;
    if (flushed.sent > 0) log.note(`resent ${flushed.sent} spooled envelope${flushed.sent > 1 ? 's' : ''}`);
    // Older envelopes still queued: queue this one behind them to keep order.
    if (flushed.state === 'blocked') holdReason = `older envelopes are still queued and the API is unreachable (${flushed.reason})`;
    else if (flushed.state === 'time') holdReason = flushed.reason;
    else if (flushed.state === 'auth') holdReason = `the API refused the credentials (${flushed.reason})`;
  }
  if (holdReason !== undefined) return worse(code, keep(spool, envelope, what, holdReason));

  // `checks` watches send what changed since the last delivery when they can; what is
  // spooled or rejected below is always the whole envelope.
  const outcome =
    inv.source === 'consul' && inv.type === 'checks'
      ? await sendChecks(transport, envelope, netDeadline, `${cfg.spoolDir}/state`, cfg, started)
      : await transport.send(envelope, netDeadline);
  if (outcome.kind === 'sent') return code;
  if (outcome.kind === 'retry') return worse(code, keep(spool, envelope, what, outcome.reason));
  return worse(code, reject(spool, envelope, what, outcome.reason, outcome.auth));
}

async function flush(args: CliArgs, env: NodeJS.ProcessEnv, started: number): Promise<number> {
  const cfg = config(args, env);
  if (!cfg) return EXIT.CONFIG;
  const deadline = started + cfg.timeoutMs;
  const spool = new Spool(cfg.spoolDir, { maxBytes: cfg.spoolMaxBytes, maxFiles: cfg.spoolMaxFiles });
  const transport = new Transport(cfg.url, cfg.key, USER_AGENT); // not closed: see main()
  const r = await flushSpool(spool, transport, deadline - spoolReserve(cfg.timeoutMs), deadline);
  if (r.state === 'busy') {
    log.note(`another process is flushing ${spool.dir}; nothing done`);
    return EXIT.OK;
  }
  let remaining = 0;
  try {
    remaining = spool.list().length;
  } catch {
    /* reported by flushSpool */
  }
  if (r.sent > 0 || r.rejected > 0 || remaining > 0) {
    log.note(`flush: sent ${r.sent}, rejected ${r.rejected}, ${remaining} still queued in ${spool.dir}${r.reason ? ` - stopped: ${r.reason}` : ''}`);
  }
  return remaining > 0 && r.state !== 'auth' ? worse(r.code, EXIT.TEMPFAIL) : r.code;
}

async function heartbeat(args: CliArgs, env: NodeJS.ProcessEnv, started: number): Promise<number> {
  const cfg = config(args, env);
  if (!cfg) return EXIT.CONFIG;
  const deadline = started + cfg.timeoutMs;
  const spool = new Spool(cfg.spoolDir, { maxBytes: cfg.spoolMaxBytes, maxFiles: cfg.spoolMaxFiles });
  const transport = new Transport(cfg.url, cfg.key, USER_AGENT); // not closed: see main()
  return sendHeartbeat(cfg, transport, spool, deadline - spoolReserve(cfg.timeoutMs), deadline, new Date(started));
}

/** Spool for a later retry: exit 0 if kept, 75 if the envelope is lost. */
function keep(spool: Spool, envelope: Envelope, what: string, reason: string): number {
  try {
    const { file, queued } = spool.write(envelope);
    log.note(`could not deliver the ${what} (${reason}); spooled as ${file} (${queued} queued), the next invocation or "tocsin-shim flush" resends it`);
    return EXIT.OK;
  } catch (e) {
    const why = e instanceof SpoolFullError ? e.message : `cannot write to spool ${spool.dir}: ${(e as Error).message}`;
    log.error(`the ${what} was NOT delivered (${reason}) and NOT spooled: ${why}`);
    return EXIT.TEMPFAIL;
  }
}

function reject(spool: Spool, envelope: Envelope, what: string, reason: string, auth: boolean): number {
  const hint = auth ? ' - check TOCSIN_KEY, TOCSIN_CLUSTER and this host\'s clock' : '';
  try {
    const file = spool.writeRejected(envelope, reason);
    log.error(`the API rejected the ${what} (${reason})${hint}; saved as ${file}`);
  } catch (e) {
    log.error(`the API rejected the ${what} (${reason})${hint}; could not save it under ${spool.rejectedDir}: ${(e as Error).message}`);
  }
  return auth ? EXIT.NOPERM : EXIT.DATAERR;
}

function config(args: CliArgs, env: NodeJS.ProcessEnv): Config | undefined {
  try {
    return loadConfig(args, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    log.error(`configuration: ${e.message}`);
    return undefined;
  }
}

function usage(e: unknown): number {
  if (!(e instanceof UsageError)) throw e;
  log.error(`${e.message}`);
  return EXIT.USAGE;
}

main(process.argv.slice(2), process.env).then(
  (code) => log.exitAfterFlush(code),
  (e: unknown) => {
    log.error(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    log.exitAfterFlush(EXIT.SOFTWARE);
  },
);
