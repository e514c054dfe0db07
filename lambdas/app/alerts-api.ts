/**
 * The operator's API (issue 14, README "What is firing"): what is firing, one alert with its
 * history, acknowledging and withdrawing it, a subject's history. Transport-neutral like
 * silence-api.ts and signed the same way: with the cluster's ADMIN key, or for GETs with its
 * read-only VIEWER key (admin-auth.ts authenticateReader). Everything applies to the signing
 * cluster only. Firing alerts are read from the index (one Query) and confirmed against the
 * subjects' records (BatchGet): the record is the truth, the index only points.
 */
import { ROUTES } from '../domain/protocol';
import { AckError, parseAckRequest, type Acknowledgement } from '../domain/rules/acknowledgements';
import { episodeKey as episodeKeyOf, type Episode, type Episodic } from '../domain/rules/episodes';
import {
  ALERT_REF_PATTERN,
  byUrgency,
  carriedHistory,
  FilterError,
  firingState,
  historySummary,
  matchesFilters,
  mergeHistory,
  parseFilters,
  READ_MODEL_LIMITS,
  type FiringAlert,
  type HistoryEntry,
} from '../domain/rules/read-model';
import { adminFailure, authenticateReader, type Reader, type ReaderAuthDeps } from './admin-auth';
import type { HttpRequest, HttpResponse } from './http';
import type { OutboxPublisher, SubjectRecord, SubjectStore } from './ports';
import type { AlertReadModel } from './read-model-ports';
import type { Logger } from './runtime';
import { TransitionEngine } from './transition-engine';
import type { SlackApps } from './slack-ports';

export interface AlertsApiDeps extends ReaderAuthDeps {
  alerts: AlertReadModel;
  subjects: SubjectStore;
  /** The engine's publisher (the dispatcher): an acknowledgement is an episode write like any other. */
  publisher: () => OutboxPublisher;
  /** Slack app channels: an acknowledgement (or its withdrawal) is said in the episode's thread. */
  slack?: Pick<SlackApps, 'announce'>;
  logger: Logger;
}

const MAX_BODY_BYTES = 4 * 1024;
/** An index entry with no firing episode behind it is a write under way this long, then stale. */
const UNCONFIRMED_ENTRY_MS = 60_000;
const ID = '([A-Za-z0-9_-]{12})';
const route = (path: string) => new RegExp(`^${path.replace('{id}', ID)}$`);
const PATHS = {
  list: route(ROUTES.alertList.path),
  get: route(ROUTES.alertGet.path),
  ack: route(ROUTES.alertAck.path),
  unack: route(ROUTES.alertUnack.path),
  history: route(ROUTES.history.path),
};
type RouteName = keyof typeof PATHS;
const METHODS: Record<RouteName, string> = { list: ROUTES.alertList.method, get: ROUTES.alertGet.method, ack: ROUTES.alertAck.method, unack: ROUTES.alertUnack.method, history: ROUTES.history.method };

export function isAlertsRoute(path: string): boolean {
  return Object.values(PATHS).some((p) => p.test(path)) || path.startsWith(`${ROUTES.alertList.path}/`);
}

const escapeSlack = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

function ackView(ack: Acknowledgement | undefined) {
  return ack ? { by: ack.by, at: iso(ack.at), severity: ack.severity, ...(ack.comment ? { comment: ack.comment } : {}), ...(ack.until !== undefined ? { until: iso(ack.until) } : {}) } : undefined;
}

function alertView(a: FiringAlert, nowMs: number): Record<string, unknown> {
  return {
    id: a.id,
    subject: a.subject,
    cluster: a.cluster,
    severity: a.severity,
    state: firingState(a, nowMs),
    status: a.status,
    title: a.title,
    source: a.source,
    kind: a.kind,
    node: a.node,
    ...(a.service ? { service: a.service } : {}),
    ...(a.check ? { check: a.check } : {}),
    since: iso(a.since),
    lastChange: iso(a.lastChange),
    channels: a.channels,
    ...(a.silencedBy ? { silencedBy: a.silencedBy, ...(a.silencedUntil ? { silencedUntil: a.silencedUntil } : {}) } : {}),
    ...(a.ack ? { ack: ackView(a.ack) } : {}),
    ...(a.episodeKey ? { episode: a.episodeKey } : {}),
  };
}

function historyView(entries: readonly HistoryEntry[]) {
  return entries.map((e) => ({ at: iso(e.at), events: e.events.map((ev) => ('until' in ev && typeof ev.until === 'number' ? { ...ev, until: iso(ev.until) } : ev)) }));
}

/** The entry as the subject's stored episode says (ack, channels, silence, status); undefined: no episode. */
function confirmed(a: FiringAlert, episode: Episode | undefined): FiringAlert | undefined {
  if (!episode) return undefined;
  const channels = new Set<string>();
  for (const r of Object.values(episode.routes)) if (r.notifiedAt !== undefined) for (const c of r.channels) channels.add(c);
  const notice = Object.values(episode.routes).find((r) => r.muted)?.muted;
  const muted = notice?.silence;
  const { ack: _ack, silencedBy: _s, silencedUntil: _u, ...rest } = a;
  return {
    ...rest,
    status: episode.status,
    since: episode.startedAt,
    ...(episode.severity ? { severity: episode.severity } : {}),
    channels: [...channels].sort(),
    ...(muted ? { silencedBy: muted, silencedUntil: notice.endsAt } : {}),
    ...(episode.ack ? { ack: episode.ack } : {}),
  };
}

/**
 * Sets (`decide` answers one) or withdraws (undefined) the acknowledgement of the subject's
 * firing episode, through the transition engine's compare-and-set like any episode write.
 * `episodeKey`: only that episode (Alert.episode), else `missing`. Also the Slack actions'.
 */
export async function writeAcknowledgement(
  deps: Pick<AlertsApiDeps, 'subjects' | 'publisher' | 'clock'>,
  cluster: string,
  subject: string,
  decide: (episode: Episode) => Acknowledgement | undefined,
  episodeKey?: string,
): Promise<{ kind: 'written' | 'unchanged' | 'missing' } | { kind: 'unsettled'; errors: string[] }> {
  let missing = false;
  let unchanged = false;
  const engine = new TransitionEngine({ subjects: deps.subjects, publisher: deps.publisher(), clock: deps.clock });
  const outcome = await engine.apply<Episodic & Record<string, unknown>>(cluster, subject, (prev) => {
    const episode = prev?.state.episode;
    missing = !episode || (episodeKey !== undefined && episodeKeyOf(cluster, subject, episode.startedAt) !== episodeKey);
    if (!prev || !episode || missing) return { kind: 'ignore' };
    const ack = decide(episode);
    if (!ack) {
      unchanged = !episode.ack;
      if (!episode.ack) return { kind: 'ignore' };
      const { ack: _gone, ...rest } = episode;
      return { kind: 'write', state: { ...prev.state, episode: rest } };
    }
    return { kind: 'write', state: { ...prev.state, episode: { ...episode, ack } } };
  });
  if (missing) return { kind: 'missing' };
  if (outcome === 'unsettled') return { kind: 'unsettled', errors: engine.errors };
  return { kind: unchanged ? 'unchanged' : 'written' };
}

export function createAlertsApi(deps: AlertsApiDeps): (req: HttpRequest) => Promise<HttpResponse> {
  const episodeOf = (r: SubjectRecord<Episodic> | undefined) => r?.state?.episode;

  async function confirmAll(cluster: string, entries: FiringAlert[], nowMs: number): Promise<FiringAlert[]> {
    const records = await deps.subjects.getMany<Episodic>(cluster, entries.map((e) => e.subject));
    const out: FiringAlert[] = [];
    for (const e of entries) {
      const c = confirmed(e, episodeOf(records.get(e.subject)));
      if (c) out.push(c);
      else if (nowMs - e.lastChange < UNCONFIRMED_ENTRY_MS) out.push(e);
      else {
        deps.logger.error('stale firing alert entry removed', { cluster, id: e.id, subject: e.subject });
        await deps.alerts.removeFiring(cluster, e.id);
      }
    }
    return out;
  }

  /** The subject's history: its `h#` items and the newest entries, which its record carries. */
  async function historyOf(cluster: string, subject: string, nowMs: number): Promise<HistoryEntry[]> {
    const limit = READ_MODEL_LIMITS.maxHistoryPage;
    const [stored, record] = await Promise.all([deps.alerts.history(cluster, subject, limit, nowMs), deps.subjects.get<unknown>(cluster, subject)]);
    return mergeHistory(stored, carriedHistory(record?.state), subject, limit, nowMs - deps.alerts.retentionMs);
  }

  async function acknowledge(reader: Reader, id: string, req: HttpRequest, withdraw: boolean): Promise<HttpResponse> {
    const { cluster } = reader;
    const entry = await deps.alerts.getFiring(cluster, id);
    if (!entry) return adminFailure(404, 'not_found', `no firing alert ${id} in cluster ${cluster}`);
    let body: unknown = {};
    if (req.body.length > 0) {
      try {
        body = JSON.parse(req.body.toString('utf8'));
      } catch {
        return adminFailure(400, 'malformed_json', 'the body must be JSON: {"by"?, "comment"?, "untilSeconds"?}');
      }
    }
    const nowMs = deps.clock.nowMs();
    let ack: Acknowledgement | undefined;
    let unchanged = false;
    const written = await writeAcknowledgement(deps, cluster, entry.subject, (episode) => {
      if (withdraw) {
        unchanged = !episode.ack;
        return undefined;
      }
      ack = parseAckRequest(body, `key ${reader.keyId}`, episode.severity ?? entry.severity, nowMs);
      return ack;
    });
    if (written.kind === 'missing') return adminFailure(404, 'not_found', `alert ${id} (${entry.subject.slice(0, 200)}) is not firing any more`);
    if (written.kind === 'unsettled') return adminFailure(503, 'unsettled', `the alert is being written by someone else; retry (${written.errors.join('; ').slice(0, 200)})`);
    deps.logger.info(withdraw ? 'alert acknowledgement withdrawn' : 'alert acknowledged', { cluster, id, subject: entry.subject, key: reader.keyId, ...(ack ? { by: (ack as Acknowledgement).by } : {}) });
    if (deps.slack && entry.episodeKey && written.kind === 'written') {
      const given = ack as Acknowledgement | undefined;
      const text = given
        ? `:eyes: Acknowledged by ${escapeSlack(given.by)} (through the API) at ${new Date(nowMs).toISOString().slice(11, 16)} UTC${given.comment ? `: ${escapeSlack(given.comment)}` : ''}`
        : `Acknowledgement withdrawn (through the API, key ${reader.keyId})`;
      // The channels notified so far, as the episode says (the index entry keeps those at its opening).
      const channels = confirmed(entry, episodeOf(await deps.subjects.get<Episodic>(cluster, entry.subject)))?.channels ?? entry.channels;
      // Said in the thread, not in the parent: its buttons stay (a later click acknowledges again, by that user).
      const problems = await deps.slack.announce(channels, entry.episodeKey, text, 2000);
      if (problems.length > 0) deps.logger.error('slack: acknowledgement not said in the thread', { id, problems });
    }
    return { status: 200, body: { id, subject: entry.subject, ...(withdraw ? { acknowledged: false, ...(unchanged ? { note: 'it was not acknowledged' } : {}) } : { acknowledged: true, ack: ackView(ack) }) } };
  }

  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    try {
      const name = (Object.keys(PATHS) as RouteName[]).find((n) => PATHS[n].test(req.path) && METHODS[n] === req.method);
      if (!name) {
        const known = (Object.values(PATHS) as RegExp[]).some((p) => p.test(req.path));
        return adminFailure(known ? 405 : 404, known ? 'method_not_allowed' : 'not_found', `no route for ${req.method} ${req.path.slice(0, 100)}`);
      }
      if (req.body.length > MAX_BODY_BYTES) return adminFailure(413, 'body_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
      const reader = await authenticateReader(deps, req);
      if (!('cluster' in reader && 'role' in reader)) return reader as HttpResponse;
      const { cluster } = reader;
      const nowMs = deps.clock.nowMs();
      const id = PATHS[name].exec(req.path)?.[1];
      if (name === 'ack' || name === 'unack') {
        if (reader.role !== 'admin') return adminFailure(403, 'forbidden', 'the viewer key may only read; acknowledge with the cluster\'s admin key');
        return await acknowledge(reader, id as string, req, name === 'unack');
      }
      if (name === 'list') {
        let filters;
        try {
          filters = parseFilters(req.query ?? {});
        } catch (err) {
          if (err instanceof FilterError) return adminFailure(400, 'invalid_filter', err.message);
          throw err;
        }
        const other = filters.find(([f, v]) => f === 'cluster' && v !== cluster);
        if (other) return adminFailure(403, 'forbidden', `a key of cluster ${cluster} reads only that cluster; sign with ${other[1].slice(0, 64)}'s key`);
        const entries = await deps.alerts.listFiring(cluster, READ_MODEL_LIMITS.maxIndexRead);
        const alerts = (await confirmAll(cluster, entries, nowMs)).filter((a) => matchesFilters(a, filters, nowMs)).sort(byUrgency);
        return { status: 200, body: { cluster, alerts: alerts.map((a) => alertView(a, nowMs)), ...(entries.length >= READ_MODEL_LIMITS.maxIndexRead ? { truncated: true } : {}) } };
      }
      if (name === 'get') {
        if (!id || !ALERT_REF_PATTERN.test(id)) return adminFailure(400, 'invalid_id', 'an alert id is 12 base64url characters');
        const entry = await deps.alerts.getFiring(cluster, id);
        const [current] = entry ? await confirmAll(cluster, [entry], nowMs) : [];
        if (!current) return adminFailure(404, 'not_found', `no firing alert ${id} in cluster ${cluster} (a resolved one's history: GET ${ROUTES.history.path}?subject=...)`);
        const history = await historyOf(cluster, current.subject, nowMs);
        return { status: 200, body: { cluster, alert: alertView(current, nowMs), history: historyView(history), summary: historySummary(history) } };
      }
      const subject = req.query?.subject;
      if (!subject || subject.length > READ_MODEL_LIMITS.maxSubjectChars) return adminFailure(400, 'invalid_subject', `?subject= must name a subject of 1-${READ_MODEL_LIMITS.maxSubjectChars} characters (e.g. check/<node>/<checkId>)`);
      const history = await historyOf(cluster, subject, nowMs);
      return { status: 200, body: { cluster, subject, history: historyView(history), summary: historySummary(history) } };
    } catch (err) {
      if (err instanceof AckError) return adminFailure(400, 'invalid_ack', err.message);
      deps.logger.error('alerts api failed', { error: (err as Error).message });
      return adminFailure(500, 'internal', 'internal error; the request can be retried');
    }
  };
}
