/**
 * Consul `event` watch: one alert per event ID across replays of the agents'
 * 256-event buffers, re-deliveries and every agent delivering it, for as long as an
 * agent can replay it (lambdas/domain/consul/events.ts: per (name, filters) the last
 * EVENT_WINDOW IDs, no TTL). A new ID's `event/<ID>` record carries its alert
 * (outbox); once the alert is out, the ID joins its window. The envelope index is a
 * hash of an event ID: kept as the string it is.
 */
import {
  addToWindow,
  decideEvent,
  eventIdHash,
  eventSubject,
  eventWindowSubject,
  normalizeEvents,
  windowIds,
  type EventObservation,
  type EventRecordState,
  type EventWindowState,
} from '../../domain/consul/events';
import { MAX_MATCH_TEXT } from '../../domain/rules/matchers';
import type { MatchFacts } from '../../domain/rules/types';
import { mapLimit } from '../concurrency';
import { TransitionEngine, type Outcome } from '../transition-engine';
import { parseBodyJson } from './body';
import { routeDecision } from './routing';
import type { SourceHandler } from './types';

export const consulEvent: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeEvents(parseBodyJson(envelope, 'the event watch body'));
  const cluster = envelope.cluster;
  const at = new Date(ctx.clock.nowMs()).toISOString();
  const unique = [...new Map(observations.map((e) => [e.id, e])).values()];
  // One batch read of the windows (usually one: a replayed buffer of one name) tells
  // replays from the rest; only IDs no window remembers cost a record read.
  const windows = await ctx.subjects.getMany<EventWindowState>(cluster, [...new Set(unique.map(eventWindowSubject))]);
  const remembered = new Map([...windows].map(([subject, record]) => [subject, windowIds(record.state)]));
  const unknown = unique.filter((e) => !remembered.get(eventWindowSubject(e))?.has(eventIdHash(e.id)));
  const records = unknown.length > 0 ? await ctx.subjects.getMany<EventRecordState>(cluster, unknown.map((e) => eventSubject(e.id))) : new Map();
  const fresh = unknown.filter((e) => !records.has(eventSubject(e.id)));
  const engine = new TransitionEngine(ctx);
  const eventCtx = { cluster, at, node: envelope.node, index: envelope.index };
  const decide = (ev: EventObservation) => (prev: { state: EventRecordState } | undefined) =>
    routeDecision(ctx, eventSubject(ev.id), prev?.state, decideEvent(prev?.state, ev, eventCtx).decision, () => ({ role: 'notice', facts: eventFacts(ev) }));
  const outcomes = await mapLimit(fresh, 16, (ev) => engine.apply<EventRecordState>(cluster, eventSubject(ev.id), decide(ev), null));
  // Recorded events whose alert is still pending (a failed publish) are finished here too.
  const pending = unknown.filter((e) => records.get(eventSubject(e.id))?.pending);
  const retried = await mapLimit(pending, 16, (ev) => engine.apply<EventRecordState>(cluster, eventSubject(ev.id), decide(ev), records.get(eventSubject(ev.id))));

  // The window remembers an ID once its alert is out: published here or by another
  // delivery ('none' after the engine settled it), or recorded before (an earlier
  // delivery that stopped short of the window, or a record from before the windows).
  const settled = (list: EventObservation[], results: Outcome[]) => list.filter((_, i) => results[i] !== 'unsettled');
  const known = unknown.filter((e) => records.has(eventSubject(e.id)) && !records.get(eventSubject(e.id))?.pending);
  const warnings = await rememberInWindows(engine, cluster, at, [...known, ...settled(fresh, outcomes), ...settled(pending, retried)], windows);

  return {
    accepted: observations.length,
    rejected,
    examined: unique.length,
    ...engine.tally([...outcomes, ...retried]),
    transitions: engine.tally(outcomes).transitions, // retried replays finish old alerts, they are no new change
    ...(warnings.length > 0 ? { warnings } : {}),
  };
};

/** Adds the events to their windows, one compare-and-set per window. */
async function rememberInWindows(
  engine: TransitionEngine,
  cluster: string,
  at: string,
  events: EventObservation[],
  windows: Map<string, { state: EventWindowState; rev: number }>,
): Promise<string[]> {
  const bySubject = new Map<string, EventObservation[]>();
  for (const ev of events) {
    const subject = eventWindowSubject(ev);
    bySubject.set(subject, [...(bySubject.get(subject) ?? []), ev]);
  }
  const warnings: string[] = [];
  await mapLimit([...bySubject], 4, async ([subject, evs]) => {
    const outcome = await engine.apply<EventWindowState>(
      cluster,
      subject,
      (prev) => {
        const next = addToWindow(prev?.state, evs, at);
        return next ? { kind: 'write', state: next } : { kind: 'ignore' };
      },
      windows.get(subject) ?? null,
    );
    // The alerts are out; their records keep them deduplicated and the next delivery retries this.
    if (outcome === 'unsettled') warnings.push(`event window ${subject} not updated (contention); ${evs.length} ID(s) stay deduplicated by their records`);
  });
  return warnings;
}

/** What rules match an event on: its name and, when it is text, its payload. */
function eventFacts(ev: EventObservation): Partial<MatchFacts> {
  return { event: ev.name, ...(ev.payload.kind === 'text' ? { payload: ev.payload.text.slice(0, MAX_MATCH_TEXT) } : {}) };
}
