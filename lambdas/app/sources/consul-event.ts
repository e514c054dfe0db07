/**
 * Consul `event` watch: one alert per event ID across replays of the agents'
 * 256-event buffers, re-deliveries and every agent delivering it. The event's
 * subject is written once (with a TTL); a recorded ID is a replay.
 * The envelope index is a hash of an event ID: kept as the string it is.
 */
import { decideEvent, eventSubject, normalizeEvents, type EventObservation, type EventRecordState } from '../../domain/consul/events';
import { MAX_MATCH_TEXT } from '../../domain/rules/matchers';
import type { MatchFacts } from '../../domain/rules/types';
import { mapLimit } from '../concurrency';
import { TransitionEngine } from '../transition-engine';
import { parseBodyJson } from './body';
import { routeDecision } from './routing';
import type { SourceHandler } from './types';

export const consulEvent: SourceHandler = async (envelope, ctx) => {
  const { observations, rejected } = normalizeEvents(parseBodyJson(envelope, 'the event watch body'));
  const cluster = envelope.cluster;
  const at = new Date(ctx.clock.nowMs()).toISOString();
  const unique = [...new Map(observations.map((e) => [e.id, e])).values()];
  // One batch read tells replays from new events: a replayed buffer costs no write.
  const records = await ctx.subjects.getMany<EventRecordState>(cluster, unique.map((e) => eventSubject(e.id)));
  const fresh = unique.filter((e) => !records.has(eventSubject(e.id)));
  const engine = new TransitionEngine(ctx);
  const eventCtx = { cluster, at, node: envelope.node, index: envelope.index };
  const decide = (ev: EventObservation) => (prev: { state: EventRecordState } | undefined) =>
    routeDecision(ctx, eventSubject(ev.id), prev?.state, decideEvent(prev?.state, ev, eventCtx).decision, () => ({ role: 'notice', facts: eventFacts(ev) }));
  const outcomes = await mapLimit(fresh, 16, (ev) => engine.apply<EventRecordState>(cluster, eventSubject(ev.id), decide(ev), null));
  // Recorded events whose alert is still pending (a failed publish) are finished here too.
  const pending = unique.filter((e) => records.get(eventSubject(e.id))?.pending);
  const retried = await mapLimit(pending, 16, (ev) => engine.apply<EventRecordState>(cluster, eventSubject(ev.id), decide(ev), records.get(eventSubject(ev.id))));
  const all = [...outcomes, ...retried];
  return {
    accepted: observations.length,
    rejected,
    examined: unique.length,
    ...engine.tally(all),
    transitions: engine.tally(outcomes).transitions, // retried replays finish old alerts, they are no new change
  };
};

/** What rules match an event on: its name and, when it is text, its payload. */
function eventFacts(ev: EventObservation): Partial<MatchFacts> {
  return { event: ev.name, ...(ev.payload.kind === 'text' ? { payload: ev.payload.text.slice(0, MAX_MATCH_TEXT) } : {}) };
}
