/**
 * `tocsin-shim heartbeat`: one signed envelope of its own kind (source "tocsin", type
 * "heartbeat", empty body) telling tocsin this node's shim can reach it, for a systemd
 * timer or a cron job (`npx tocsin heartbeat-config`). Sent first, then the spool is
 * flushed with the time left, so one timer serves both. A heartbeat is never spooled: a
 * late one says nothing, and the next run sends a fresh one; a failed one is a loud
 * stderr line and a non-zero exit (75: not delivered, 69: refused for a reason that can
 * pass, a clock or a key rotation; 77: credentials refused, 65: refused).
 */
import type * as os from 'node:os';
import { HEARTBEAT_ENVELOPE } from '../../lambdas/domain/protocol';
import type { Envelope } from '../../lambdas/domain/types';
import type { Config } from './config';
import { EXIT, worse } from './exit-codes';
import { flushSpool } from './flush';
import * as log from './log';
import type { Spool } from './spool';
import { heldHint, type Transport } from './transport';

export function heartbeatEnvelope(cfg: Pick<Config, 'cluster' | 'node'>, now: Date): Envelope {
  const node = cfg.node || (require('node:os') as typeof os).hostname();
  return {
    v: 1,
    cluster: cfg.cluster,
    source: HEARTBEAT_ENVELOPE.source,
    type: HEARTBEAT_ENVELOPE.type,
    node: node.slice(0, 256),
    index: null,
    sentAt: now.toISOString(),
    body: '',
    bodyEncoding: 'utf8',
  };
}

export async function sendHeartbeat(
  cfg: Config,
  transport: Transport,
  spool: Spool,
  netDeadline: number,
  lockUntil: number,
  now: Date,
): Promise<number> {
  const envelope = heartbeatEnvelope(cfg, now);
  const outcome = await transport.send(envelope, netDeadline);
  if (outcome.kind === 'retry') {
    log.error(`heartbeat of ${envelope.node} NOT delivered (${outcome.reason}); not spooled, the next run sends a fresh one - tocsin reports this node missing if none arrives`);
    return EXIT.TEMPFAIL;
  }
  if (outcome.kind === 'held') {
    log.error(`heartbeat of ${envelope.node} NOT delivered: the API refused it for now (${outcome.reason})${heldHint(outcome.code)}`);
    return EXIT.UNAVAILABLE;
  }
  if (outcome.kind === 'rejected') {
    const hint = outcome.auth ? " - check TOCSIN_KEY, TOCSIN_CLUSTER and this host's clock" : '';
    log.error(`the API refused the heartbeat of ${envelope.node} (${outcome.reason})${hint}`);
    return outcome.auth ? EXIT.NOPERM : EXIT.DATAERR;
  }
  const flushed = await flushSpool(spool, transport, netDeadline, lockUntil);
  if (flushed.sent > 0) log.note(`resent ${flushed.sent} spooled envelope${flushed.sent > 1 ? 's' : ''}`);
  if (flushed.state === 'held') log.error(`spooled envelopes remain queued in ${spool.dir}: the API refused the oldest for now (${flushed.reason})${heldHint(flushed.heldCode)}`);
  else if (flushed.state === 'blocked' || flushed.state === 'time') log.note(`spooled envelopes remain queued in ${spool.dir} (${flushed.reason ?? flushed.state})`);
  return worse(EXIT.OK, flushed.code);
}
