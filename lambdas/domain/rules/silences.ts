/**
 * Silences: matchers (the rule matcher syntax), a time range, who and why. A silence
 * mutes every delivery whose facts it matches while it is active. An expired silence
 * never applies: the end time is checked on every read; DynamoDB's TTL only cleans up.
 */
import { parseDuration } from './duration';
import { compileMatch, compileMatcher, MatcherError } from './matchers';
import { MATCH_FIELDS, META_FIELDS, type MatchFacts, type MatchSpec, type MatcherSpec } from './types';
import { vocabularyIssues } from './vocabulary';
import { matcherSpecFromArgs, SilenceError } from './matcher-args';

// The command-line matcher syntax lives apart, importing nothing the web page cannot bundle.
export { describeMatchers, parseMatcherArg, SilenceError } from './matcher-args';

export interface Silence {
  id: string;
  cluster: string;
  matchers: MatchSpec;
  /** ISO-8601. */
  startsAt: string;
  endsAt: string;
  author: string;
  comment: string;
  createdAt: string;
  /**
   * "Until resolved" (a Slack action): the silence holds for this episode only (Alert.episode),
   * never for the subject's next one, and the dispatcher expires it when the episode resolves.
   */
  episode?: string;
}

export const SILENCE_LIMITS = {
  maxSeconds: 90 * 86400,
  authorChars: 100,
  commentChars: 1000,
  /** Active + pending silences per cluster. */
  perCluster: 500,
} as const;

export function isActive(s: Pick<Silence, 'startsAt' | 'endsAt'>, nowMs: number): boolean {
  return Date.parse(s.startsAt) <= nowMs && nowMs < Date.parse(s.endsAt);
}

export function silenceState(s: Pick<Silence, 'startsAt' | 'endsAt'>, nowMs: number): 'active' | 'pending' | 'expired' {
  if (nowMs >= Date.parse(s.endsAt)) return 'expired';
  return Date.parse(s.startsAt) > nowMs ? 'pending' : 'active';
}

/** The first active silence matching the facts (`episode`: the alert's, for silences bound to one). */
export function silenced(silences: readonly Silence[], facts: MatchFacts, nowMs: number, episode?: string): Silence | undefined {
  return silences.find((s) => s.cluster === facts.cluster && isActive(s, nowMs) && (s.episode === undefined || s.episode === episode) && compileMatch(s.matchers)(facts));
}

/** Active silences bound to `episode` ("until resolved"): they end when it resolves. */
export function boundTo(silences: readonly Silence[], episode: string, nowMs: number): Silence[] {
  return silences.filter((s) => s.episode === episode && silenceState(s, nowMs) !== 'expired');
}

function text(body: Record<string, unknown>, field: string, max: number): string {
  const v = body[field];
  if (typeof v !== 'string' || v.trim() === '') throw new SilenceError(`${field} is required (a non-empty string)`);
  if (v.length > max) throw new SilenceError(`${field} must be at most ${max} characters`);
  return v.trim();
}

function time(value: unknown, field: string): number {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw new SilenceError(`${field} must be an ISO-8601 time`);
  return Date.parse(value);
}

export function validateMatchers(raw: unknown): MatchSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SilenceError('matchers must be an object of field: matcher');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length === 0) throw new SilenceError('a silence needs at least one matcher');
  const known = new Set<string>([...MATCH_FIELDS, ...META_FIELDS]);
  for (const [field, spec] of entries) {
    if (!known.has(field)) throw new SilenceError(`matchers.${field}: unknown field; use one of ${[...known].join(', ')}`);
    try {
      if ((META_FIELDS as readonly string[]).includes(field)) {
        if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) throw new MatcherError('must be an object of key: matcher');
        for (const s of Object.values(spec)) compileMatcher(s as MatcherSpec);
      } else {
        compileMatcher(spec as MatcherSpec);
      }
    } catch (err) {
      if (err instanceof MatcherError) throw new SilenceError(`matchers.${field}: ${err.message}`);
      throw err;
    }
  }
  // A silence that can match no alert tocsin produces would mute nothing, silently.
  const issues = vocabularyIssues(raw as MatchSpec);
  if (issues.length > 0) {
    throw new SilenceError(issues.map((i) => `${['matchers', ...i.path].map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1)}: ${i.reason}`).join('; '));
  }
  return raw as MatchSpec;
}

/**
 * A create request: `{ matchers, endsAt | duration, startsAt?, author, comment }`.
 * The cluster is the one the request was signed for, whatever the body says.
 */
export function parseSilenceRequest(body: unknown, cluster: string, id: string, nowMs: number): Silence {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new SilenceError('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const matchers = validateMatchers(b.matchers);
  if (matchers.cluster !== undefined) throw new SilenceError('matchers.cluster: a silence applies to the cluster whose admin key signed it; leave cluster out');
  const start = b.startsAt === undefined ? nowMs : time(b.startsAt, 'startsAt');
  let end: number;
  if (b.endsAt !== undefined && b.duration !== undefined) throw new SilenceError('give endsAt or duration, not both');
  if (b.endsAt !== undefined) end = time(b.endsAt, 'endsAt');
  else if (b.duration !== undefined) {
    const seconds = parseDuration(b.duration);
    if (seconds === undefined || seconds <= 0) throw new SilenceError('duration must be a positive duration such as 30m, 2h, 1d');
    end = start + seconds * 1000;
  } else throw new SilenceError('endsAt or duration is required');
  if (end <= nowMs) throw new SilenceError('the silence would already be over');
  if (end <= start) throw new SilenceError('endsAt must be after startsAt');
  if (end - start > SILENCE_LIMITS.maxSeconds * 1000) throw new SilenceError(`a silence lasts at most ${SILENCE_LIMITS.maxSeconds / 86400} days`);
  return {
    id,
    cluster,
    matchers,
    startsAt: new Date(start).toISOString(),
    endsAt: new Date(end).toISOString(),
    author: text(b, 'author', SILENCE_LIMITS.authorChars),
    comment: text(b, 'comment', SILENCE_LIMITS.commentChars),
    createdAt: new Date(nowMs).toISOString(),
  };
}

/** The command-line matcher syntax (matcher-args.ts), one field per argument, checked. */
export function matchersFromArgs(args: string[]): MatchSpec {
  return validateMatchers(matcherSpecFromArgs(args));
}
