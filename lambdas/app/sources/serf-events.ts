/**
 * Serf user events (`SERF_EVENT=user`) and queries (`SERF_EVENT=query`; the shim has
 * already answered it): one notice per (name, LTime, payload) across all agents, see
 * lambdas/domain/serf/lamport-events.ts for identity and the stale rule.
 */
import {
  LAMPORT_EVENT_TTL_SECONDS,
  LAMPORT_WATERMARK_TTL_SECONDS,
  advanceWatermark,
  decideLamportEvent,
  lamportAlert,
  lamportSubject,
  lamportWatermarkSubject,
  normalizeLamportEvent,
  payloadText,
  type LamportEventState,
  type LamportKind,
  type LamportWatermarkState,
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
    const watermarkSubject = lamportWatermarkSubject(kind, ev.name);
    const watermark = await ctx.subjects.get<LamportWatermarkState>(cluster, watermarkSubject);

    const subject = lamportSubject(kind, ev.name, ev.ltime);
    const text = payloadText(ev.payload);
    const facts = { event: ev.name, ...(text !== undefined ? { payload: text } : {}) };
    const outcome = await engine.apply<LamportEventState>(cluster, subject, (prev) => {
      const d = decideLamportEvent(prev?.state, ev, watermark?.state);
      if (d.kind === 'ignore') return { kind: 'ignore' };
      const decision = { kind: 'write' as const, state: d.state, alert: lamportAlert(cluster, ev), ttlSeconds: LAMPORT_EVENT_TTL_SECONDS };
      return routeDecision(ctx, subject, prev?.state, decision, () => ({ role: 'notice', facts }));
    });
    // The high-water mark moves only forward; it is bookkeeping, never an alert.
    if (outcome !== 'unsettled') {
      await engine.apply<LamportWatermarkState>(
        cluster,
        watermarkSubject,
        (prev) => {
          const next = advanceWatermark(prev?.state, ev);
          return next ? { kind: 'write', state: next, ttlSeconds: LAMPORT_WATERMARK_TTL_SECONDS } : { kind: 'ignore' };
        },
        watermark ?? null,
      );
    }
    return {
      accepted: 1,
      rejected: [],
      examined: 1,
      ...engine.tally([outcome]),
    };
  };
}

export const serfUser = serfLamportHandler('user');
export const serfQuery = serfLamportHandler('query');
