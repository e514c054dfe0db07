/**
 * Serf user events (`SERF_EVENT=user`) and queries (`SERF_EVENT=query`; the shim has
 * already answered it): one notice per (clock lineage, name, LTime, payload) across all
 * agents. lambdas/domain/serf/lamport-clock.ts tells which run of the cluster's clock a
 * report belongs to (and when the clock restarted), lamport-events.ts dedupes within it.
 *
 * Per report: the clock record is read (and written first when the report advances a
 * lineage or reveals a restart, compare-and-set), then the lineage's ring slot for the
 * LTime is decided and written through the TransitionEngine with the alert.
 */
import { attributeReport, ringSlot, type ClockAttribution, type LamportClockState } from '../../domain/serf/lamport-clock';
import {
  LEGACY_EVENT_TTL_SECONDS,
  decideLamportEvent,
  lamportAlert,
  lamportClockSubject,
  lamportSlotSubject,
  legacyDuplicate,
  legacyLamportSubject,
  normalizeLamportEvent,
  payloadText,
  type LamportEvent,
  type LamportKind,
  type LamportSlotState,
  type LegacyLamportEventState,
} from '../../domain/serf/lamport-events';
import { reportTime } from '../../domain/serf/members';
import type { Envelope } from '../../domain/types';
import { TransitionEngine } from '../transition-engine';
import { routeDecision } from './routing';
import { serfReporter } from './serf-members';
import type { SourceContext, SourceHandler, SourceResult } from './types';

function payloadOf(envelope: Envelope): Buffer {
  return Buffer.from(envelope.body, envelope.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

const WHAT: Record<LamportKind, string> = { user: 'user event', query: 'query' };

export function serfLamportHandler(kind: LamportKind): SourceHandler {
  return async (envelope: Envelope, ctx: SourceContext): Promise<SourceResult> => {
    const ev = normalizeLamportEvent(kind, {
      env: envelope.env,
      index: envelope.index,
      payload: payloadOf(envelope),
      reporter: serfReporter(envelope),
      at: reportTime(envelope.sentAt, ctx.clock.nowMs()),
    });
    const { cluster } = envelope;
    const engine = new TransitionEngine(ctx);
    const warnings: string[] = [];
    const label = `Serf ${WHAT[kind]} "${ev.name}" LTime ${ev.ltime} (reported by ${ev.reporter})`;
    const result = (outcomes: Parameters<TransitionEngine['tally']>[0]): SourceResult => ({
      accepted: 1,
      rejected: [],
      examined: 1,
      ...engine.tally(outcomes),
      ...(warnings.length > 0 ? { warnings } : {}),
    });

    // 1. Which run of the clock: the clock record moves first, so that concurrent reports
    //    of one restart agree on the new lineage.
    let attribution: ClockAttribution | undefined;
    let clockState: LamportClockState | undefined;
    const nowIso = new Date(ctx.clock.nowMs()).toISOString();
    const clockOutcome = await engine.apply<LamportClockState>(cluster, lamportClockSubject(kind), (prev) => {
      attribution = attributeReport(prev?.state, ev, nowIso);
      clockState = attribution.next ?? prev?.state;
      return attribution.next ? { kind: 'write', state: attribution.next } : { kind: 'ignore' };
    });
    if (clockOutcome === 'unsettled' || !attribution || !clockState) return result(['unsettled']);
    const { lineage } = attribution;
    // Every report of the LTime that revealed a restart says so, whichever writes the alert.
    const revealed = lineage.revealedBy?.ltime === ev.ltime ? lineage.revealedBy.after : undefined;
    const clock = { epoch: lineage.epoch, ...(revealed !== undefined ? { restartedAfter: revealed } : {}) };
    if (attribution.kind === 'restart' && clockOutcome === 'written') {
      warnings.push(
        `Serf ${WHAT[kind]} clock restarted in ${cluster}: LTime ${ev.ltime} reported by ${ev.reporter} after ${attribution.after.high} ` +
          `(clock run ${lineage.epoch}; every agent restarted without a snapshot)`,
      );
    }

    // 2. Dedupe in the lineage's ring.
    const subject = lamportSlotSubject(kind, lineage.ring, ringSlot(ev.ltime));
    const slot = await ctx.subjects.get<LamportSlotState>(cluster, subject);
    const first = decideLamportEvent(slot?.state, ev, lineage.epoch);
    if (first.kind === 'new' && (await seenBeforeRings(ctx, cluster, ev, lineage.epoch, clockState.createdAt))) return result(['none']);
    const text = payloadText(ev.payload);
    const facts = { event: ev.name, ...(text !== undefined ? { payload: text } : {}) };
    let dropped: 'stale' | 'full' | undefined;
    const outcome = await engine.apply<LamportSlotState>(
      cluster,
      subject,
      (prev) => {
        dropped = undefined;
        const d = decideLamportEvent(prev?.state, ev, lineage.epoch);
        if (d.kind === 'ignore') {
          if (d.reason !== 'duplicate') dropped = d.reason;
          return { kind: 'ignore' };
        }
        return routeDecision(ctx, subject, prev?.state, { kind: 'write', state: d.state, alert: lamportAlert(cluster, ev, clock) }, () => ({ role: 'notice', facts }));
      },
      slot ?? null,
    );
    if (dropped === 'stale') {
      warnings.push(`dropped ${label}: older than the ${lineage.epoch === 0 ? 'first' : `run ${lineage.epoch} of the`} clock's records (its slot holds a newer LTime); Serf replays nothing that old`);
    } else if (dropped === 'full') {
      warnings.push(`dropped ${label}: more distinct events at this LTime than tocsin records`);
    }
    return result([outcome]);
  };
}

/**
 * Records written before the lineage rings (`userevent/<name>/<ltime>`, 30-day TTL) still
 * count for the first lineage while they may exist, so a deployment does not re-alert
 * what was alerted before it. One read, only for an event the ring has not seen.
 */
async function seenBeforeRings(ctx: SourceContext, cluster: string, ev: LamportEvent, epoch: number, clockCreatedAt: string): Promise<boolean> {
  if (epoch !== 0 || ctx.clock.nowMs() - Date.parse(clockCreatedAt) > LEGACY_EVENT_TTL_SECONDS * 1000) return false;
  const subject = legacyLamportSubject(ev.kind, ev.name, ev.ltime);
  if (!subject) return false;
  const legacy = await ctx.subjects.get<LegacyLamportEventState>(cluster, subject);
  return legacyDuplicate(legacy?.state, ev);
}

export const serfUser = serfLamportHandler('user');
export const serfQuery = serfLamportHandler('query');
