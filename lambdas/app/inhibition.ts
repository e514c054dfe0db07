/**
 * Inhibition when delivering (tocsin.yaml `inhibit`, domain/rules/inhibit.ts): is a firing
 * alert inhibited by another alert of its cluster that is firing now? The candidates are the
 * cluster's recorded firing sources (FiringSources, one Query, read only for alerts some rule
 * could inhibit); the one that inhibits is confirmed against its subject's stored episode, so
 * an entry left behind by a crash between the two writes never hides an alert: it is removed.
 * Also what the transition engine records: a subject's episode opening or ending as a source.
 */
import type { Episodic } from '../domain/rules/episodes';
import { describeInhibition, inhibitedBy, inhibitionId, isInhibitTarget, type FiringSource, type InhibitCandidate, type Inhibition, type InhibitRule } from '../domain/rules/inhibit';
import type { Silence } from '../domain/rules/silences';
import type { FiringSources } from './delivery-ports';
import type { Silencer, SubjectStore } from './ports';
import type { Logger } from './runtime';

/** Firing sources read per check; past it the rest are not seen, and the log says so. */
export const FIRING_SOURCES_LIMIT = 1000;
/**
 * A source is recorded just before its episode is written: younger than this, an entry its
 * subject does not back yet is a write under way (it inhibits); older, one a crash left behind.
 */
export const UNCONFIRMED_SOURCE_MS = 60_000;

export class Inhibitor {
  constructor(
    private readonly rules: readonly InhibitRule[],
    readonly sources: FiringSources,
    private readonly subjects: Pick<SubjectStore, 'get'>,
    private readonly logger?: Logger,
  ) {}

  /** The rule and firing source that inhibit `target` at `nowMs`, if any. */
  async inhibiting(target: InhibitCandidate, nowMs: number): Promise<Inhibition | undefined> {
    if (this.rules.length === 0 || !isInhibitTarget(this.rules, target.facts)) return undefined;
    const cluster = target.facts.cluster;
    let candidates = await this.sources.list(cluster, FIRING_SOURCES_LIMIT);
    if (candidates.length >= FIRING_SOURCES_LIMIT) this.logger?.error('firing sources over the limit', { cluster, limit: FIRING_SOURCES_LIMIT });
    for (;;) {
      const found = inhibitedBy(this.rules, candidates, target);
      if (!found) return undefined;
      if (nowMs - (found.source.recordedAt ?? 0) < UNCONFIRMED_SOURCE_MS || (await this.stillFiring(cluster, found.source))) return found;
      // Stale (its episode ended without the entry being removed): forget it and look again.
      this.logger?.error('stale firing source removed', { cluster, subject: found.source.subject, episode: found.source.episode });
      await this.sources.remove(cluster, found.source.subject);
      candidates = candidates.filter((c) => c !== found.source);
    }
  }

  private stillFiring(cluster: string, source: FiringSource): Promise<boolean> {
    return isFiringSource(this.subjects, cluster, source.subject);
  }
}

/** Is the subject's stored episode firing as an inhibition source (the truth the index only points to)? */
export async function isFiringSource(subjects: Pick<SubjectStore, 'get'>, cluster: string, subject: string): Promise<boolean> {
  const record = await subjects.get<Episodic>(cluster, subject);
  return record?.state.episode?.inhibits === true;
}

/**
 * An inhibition as the transition engine mutes by (episodes.ts muteEntry): a pseudo-silence
 * whose id names the source, so that the sweeper announces the held notice once the source
 * is no longer firing (application-sweeper.ts silenceEndsTask).
 */
export function inhibitionSilence(i: Inhibition, nowMs: number): Silence {
  const at = new Date(nowMs).toISOString();
  return {
    id: inhibitionId(i.source.subject),
    cluster: i.source.facts.cluster,
    matchers: {},
    startsAt: at,
    // Unknown: it lasts while the source fires (the sweeper says when it ended).
    endsAt: at,
    author: 'tocsin',
    comment: `inhibited by ${i.source.subject} (${describeInhibition(i)})`,
    createdAt: at,
  };
}

/**
 * The transition engine's silencer, with inhibition: the active silence if any, else the
 * inhibition holding the alert back, as a pseudo-silence (so a held first notice is announced
 * once its source stops firing, as a silenced one is when its silence ends).
 */
export function withInhibition(silence: Silencer['active'], inhibitor: Inhibitor | undefined): Silencer['active'] {
  if (!inhibitor) return silence;
  return async (facts, nowMs, subject, episode) => {
    const found = await silence(facts, nowMs, subject, episode);
    if (found) return found;
    const inhibition = await inhibitor.inhibiting({ facts, ...(subject !== undefined ? { subject } : {}) }, nowMs);
    return inhibition && inhibitionSilence(inhibition, nowMs);
  };
}
