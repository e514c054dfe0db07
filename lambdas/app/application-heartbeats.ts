/**
 * The composition root's heartbeats (see application.ts): one Heartbeats per application,
 * shared by the HTTP side (signs of life, `tocsin watchers`) and the sweeper. Its own
 * module, like application-http.ts, so that the timers function's bundle does not carry it.
 */
import type { Application } from './application';
import { Heartbeats } from './heartbeats';

const made = new WeakMap<Application, Heartbeats>();

export function heartbeatsOf(app: Application): Heartbeats {
  let hb = made.get(app);
  if (!hb) {
    const { ports, options } = app;
    hb = new Heartbeats({
      watchers: ports.watchers,
      subjects: ports.subjects,
      publisher: app.dispatcher,
      rules: app.rules,
      clock: ports.clock,
      logger: ports.logger,
      heartbeats: options.config.heartbeats,
      ...(options.leaseMs !== undefined ? { leaseMs: options.leaseMs } : {}),
      ...(options.heartbeatGraceFromMs !== undefined ? { graceFromMs: options.heartbeatGraceFromMs } : {}),
    });
    made.set(app, hb);
  }
  return hb;
}
