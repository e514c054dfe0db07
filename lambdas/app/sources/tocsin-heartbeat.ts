/**
 * `tocsin-shim heartbeat` (source "tocsin", type "heartbeat"): nothing to compare or
 * alert on. Like every accepted envelope it is a sign of life from its (cluster, node),
 * which ingest-http.ts records after the handler: this handler only checks it is empty.
 */
import { InputError } from '../../domain/input-errors';
import type { SourceHandler } from './types';

export const tocsinHeartbeat: SourceHandler = async (envelope) => {
  if (envelope.body !== '') throw new InputError('a heartbeat envelope carries no body');
  return { accepted: 1, rejected: [], examined: 0, transitions: 0, alertsPublished: 0, unsettled: 0, errors: [] };
};
