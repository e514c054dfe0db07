/**
 * tocsin-shim: runs as a Consul watch handler or a Serf event handler, POSTs one
 * signed envelope per invocation and spools what it cannot deliver. Consul and Serf
 * run handlers serially and without timeout, so every path here is time-bounded.
 */
import type { Envelope } from '../../lambdas/domain/types';
import { parseArgs, UsageError, type CliArgs } from './args';
import { loadOffset, saveOffset } from './clock';
import { ConfigError, loadConfig, type Config } from './config';
import { sendChecks } from './checks-delta';
import { compactEnvelope } from './compact';
import { buildEnvelope, detectInvocation, type Invocation } from './envelope';
import { EXIT, worse } from './exit-codes';
import { flushSpool } from './flush';
import { sendHeartbeat } from './heartbeat';
import { HELP } from './help';
import * as log from './log';
import { Spool, SpoolFullError } from './spool';
import { readStdin } from './stdin';
import { heldHint, Transport } from './transport';

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
  const stateDir = `${cfg.spoolDir}/state`;
  const offset = loadOffset(stateDir);
  // sentAt on the API's clock too, as far as we know it.
  // Consul watch results go in their compact form (compact.ts): sent, spooled and rejected so.
  const compact = compactEnvelope(buildEnvelope({ invocation: inv, cluster: cfg.cluster, node: cfg.node, scope: cfg.scope, stdin: stdin.bytes, env, now: new Date(started + offset) }));
  const what = `${inv.source} ${inv.type}${compact.raw.scope !== inv.type ? ` (${compact.raw.scope})` : ''} envelope`;
  const spool = new Spool(cfg.spoolDir, { maxBytes: cfg.spoolMaxBytes, maxFiles: cfg.spoolMaxFiles });
  // Never closed: every run ends in process.exit, which closes the kept-alive socket, and
  // destroying it first costs ~1.5 ms (destroying a socket makes Node create process.stderr).
  const transport = new Transport(cfg.url, cfg.key, USER_AGENT, offset, clockKeeper(stateDir));
  let code: number = EXIT.OK;
  let holdReason: string | undefined;
  let held: string | undefined;
  // Queries skip the backlog: their budget is tight and any output would pollute the response.
  if (!inv.query) {
    const flushed = await flushSpool(spool, transport, netDeadline, deadline);
    code = flushed.code;
    if (flushed.sent > 0) log.note(`resent ${flushed.sent} spooled envelope${flushed.sent > 1 ? 's' : ''}`);
    // Older envelopes still queued: queue this one behind them to keep order.
    if (flushed.state === 'blocked') holdReason = `older envelopes are still queued and the API is unreachable (${flushed.reason})`;
    else if (flushed.state === 'time') holdReason = flushed.reason;
    else if (flushed.state === 'auth') holdReason = `the API refused the credentials (${flushed.reason})`;
    else if (flushed.state === 'held') {
      holdReason = `the API refused the oldest spooled envelope for now: ${flushed.reason}`;
      held = flushed.heldCode;
    }
  }
  if (holdReason !== undefined) return worse(code, keep(spool, compact.whole(), what, holdReason, held));

  // `checks` watches send what changed since the last delivery when they can; what is
  // spooled or rejected below is always the whole envelope.
  const outcome =
    inv.source === 'consul' && inv.type === 'checks'
      ? await sendChecks(transport, compact, netDeadline, stateDir, cfg, started)
      : await transport.send(compact.whole(), netDeadline);
  if (outcome.kind === 'sent') return code;
  const envelope = compact.whole(); // made by now unless a delta was refused
  if (outcome.kind === 'retry') return worse(code, keep(spool, envelope, what, outcome.reason));
  if (outcome.kind === 'held') return worse(code, keep(spool, envelope, what, `the API refused it for now: ${outcome.reason}`, outcome.code));
  return worse(code, reject(spool, envelope, what, outcome.reason, outcome.auth, outcome.tooLarge === true));
}

/** Saves the API clock's offset when an answer moves it (clock.ts), and says so. */
function clockKeeper(stateDir: string): (offsetMs: number, previousMs: number) => void {
  return (offsetMs, previousMs) => {
    const file = saveOffset(stateDir, offsetMs, Date.now());
    const s = (ms: number): string => `${Math.round(Math.abs(ms) / 1000)} s ${ms > 0 ? 'ahead of' : 'behind'}`;
    log.note(
      offsetMs === 0
        ? `this host's clock agrees with the API's again (the API's was ${s(previousMs)} it)`
        : `the API's clock is ${s(offsetMs)} this host's (its Date header); signing with the API's time${file ? `, kept in ${file}` : ''} - check NTP`,
    );
  };
}

async function flush(args: CliArgs, env: NodeJS.ProcessEnv, started: number): Promise<number> {
  const cfg = config(args, env);
  if (!cfg) return EXIT.CONFIG;
  const deadline = started + cfg.timeoutMs;
  const spool = new Spool(cfg.spoolDir, { maxBytes: cfg.spoolMaxBytes, maxFiles: cfg.spoolMaxFiles });
  const stateDir = `${cfg.spoolDir}/state`;
  const transport = new Transport(cfg.url, cfg.key, USER_AGENT, loadOffset(stateDir), clockKeeper(stateDir)); // not closed: see main()
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
  const summary = `flush: sent ${r.sent}, rejected ${r.rejected}, ${remaining} still queued in ${spool.dir}`;
  if (r.state === 'held') {
    log.error(`${summary} - the API refused the oldest for now: ${r.reason}${heldHint(r.heldCode)}`);
    return r.code;
  }
  if (r.sent > 0 || r.rejected > 0 || remaining > 0) log.note(`${summary}${r.reason ? ` - stopped: ${r.reason}` : ''}`);
  return remaining > 0 && r.state !== 'auth' ? worse(r.code, EXIT.TEMPFAIL) : r.code;
}

async function heartbeat(args: CliArgs, env: NodeJS.ProcessEnv, started: number): Promise<number> {
  const cfg = config(args, env);
  if (!cfg) return EXIT.CONFIG;
  const deadline = started + cfg.timeoutMs;
  const spool = new Spool(cfg.spoolDir, { maxBytes: cfg.spoolMaxBytes, maxFiles: cfg.spoolMaxFiles });
  const stateDir = `${cfg.spoolDir}/state`;
  const transport = new Transport(cfg.url, cfg.key, USER_AGENT, loadOffset(stateDir), clockKeeper(stateDir)); // not closed: see main()
  return sendHeartbeat(cfg, transport, spool, deadline - spoolReserve(cfg.timeoutMs), deadline, new Date(started));
}

/**
 * Spool for a later retry: exit 0 if kept (a note), 75 if the envelope is lost. `held`: the
 * API's code when it refused this envelope (or the oldest queued one) for a reason that can
 * pass: said as an error and exit 69, so that the agent's log shows it.
 */
function keep(spool: Spool, envelope: Envelope, what: string, reason: string, held?: string): number {
  const hint = held === undefined ? '' : heldHint(held);
  try {
    const { file, queued } = spool.write(envelope);
    const line = `could not deliver the ${what} (${reason})${hint}; spooled as ${file} (${queued} queued), the next invocation or "tocsin-shim flush" resends it`;
    if (held === undefined) {
      log.note(line);
      return EXIT.OK;
    }
    log.error(line);
    return EXIT.UNAVAILABLE;
  } catch (e) {
    const why = e instanceof SpoolFullError ? e.message : `cannot write to spool ${spool.dir}: ${(e as Error).message}`;
    log.error(`the ${what} was NOT delivered (${reason}) and NOT spooled: ${why}`);
    return EXIT.TEMPFAIL;
  }
}


/**
 * `tooLarge`: refused here for its size. Every later run of that watch is too (until it
 * shrinks or is split), so only its newest copy is kept: a watch over the limit must not
 * fill the spool's caps with copies of itself, leaving no room for envelopes that can go.
 */
function reject(spool: Spool, envelope: Envelope, what: string, reason: string, auth: boolean, tooLarge = false): number {
  const hint = auth ? ' - check TOCSIN_KEY, TOCSIN_CLUSTER and this host\'s clock' : '';
  try {
    const file = spool.writeRejected(envelope, reason, tooLarge ? oversizedName(envelope) : undefined);
    log.error(`the API rejected the ${what} (${reason})${hint}; saved as ${file}`);
  } catch (e) {
    log.error(`the API rejected the ${what} (${reason})${hint}; could not save it under ${spool.rejectedDir}: ${(e as Error).message}`);
  }
  return auth ? EXIT.NOPERM : EXIT.DATAERR;
}

/** One name per watch for its newest copy refused for size (cluster and scope are CLUSTER_NAME_PATTERN-safe, type is [a-z_-]). */
function oversizedName(envelope: Envelope): string {
  return `too-large+${envelope.cluster}+${envelope.source}+${envelope.type}+${envelope.scope ?? envelope.type}.json`;
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
