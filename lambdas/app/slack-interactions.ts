/**
 * Slack's interactivity endpoint (ROUTES.slackInteractions, README "Slack actions"): the
 * buttons of app channels' alert messages (channels/slack/actions.ts). Slack POSTs
 * `application/x-www-form-urlencoded` with one `payload` field (JSON, type `block_actions`),
 * signed with the Slack app's signing secret (domain/slack-signature.ts); anything not
 * signed so, within five minutes, is refused (401) and logged, and changes nothing. A
 * signature is accepted once (the replay guard, as for tocsin's own signed requests).
 *
 * Slack wants an answer within 3 s: the action is written at once (one episode write, or one
 * silence), then the message is updated (chat.update of the message the button is on) with
 * what is left of that time; a failed update is logged, the action stands. Refusals the user
 * should see (the alert resolved meanwhile ...) go to them alone (chat.postEphemeral).
 */
import { randomBytes } from 'node:crypto';
import { actionName, afterAction, decodeTarget, SLACK_ACTIONS, slackTime, type ActionTarget, type SlackActionName } from '../../channels/slack/actions';
import { episodeKey } from '../domain/rules/episodes';
import { READ_MODEL_LIMITS, type FiringAlert } from '../domain/rules/read-model';
import { SILENCE_LIMITS, silenceState, validateMatchers, type Silence } from '../domain/rules/silences';
import type { MatchSpec } from '../domain/rules/types';
import { SLACK_SIGNATURE, verifySlackSignature } from '../domain/slack-signature';
import { writeAcknowledgement } from './alerts-api';
import type { SilenceStore } from './delivery-ports';
import type { HttpRequest, HttpResponse } from './http';
import type { OutboxPublisher, SubjectStore } from './ports';
import type { AlertReadModel } from './read-model-ports';
import type { Clock, Logger } from './runtime';
import type { ReplayGuard } from './signed-request';
import type { SlackApps } from './slack-ports';
export type { SlackApps } from './slack-ports';

export interface SlackInteractionsDeps {
  slack: SlackApps;
  alerts: AlertReadModel;
  subjects: SubjectStore;
  publisher: () => OutboxPublisher;
  silences: SilenceStore;
  replay: ReplayGuard;
  clock: Clock;
  logger: Logger;
}

/** A block_actions payload with a whole message of 50 blocks stays well under this. */
const MAX_BODY_BYTES = 256 * 1024;
/** Slack's answer deadline is 3 s; the update gets what is left of this after the action. */
const ANSWER_BUDGET_MS = 2500;
const SILENCE_UNTIL_RESOLVED_SECONDS = SILENCE_LIMITS.maxSeconds;

const fail = (status: number, error: string, message: string): HttpResponse => ({ status, body: { error, message } });
const done: HttpResponse = { status: 200, body: {} };

interface BlockAction {
  user: { id: string; name: string };
  channelId: string;
  messageTs: string;
  message: Record<string, unknown>;
  name: SlackActionName;
  target: ActionTarget;
}

/** The fields of a block_actions payload this endpoint uses; undefined when it is not one of our buttons. */
function parseBlockAction(payload: Record<string, any>): BlockAction | string {
  if (payload.type !== 'block_actions') return `interaction type ${String(payload.type).slice(0, 40)} is not handled`;
  const action = Array.isArray(payload.actions) ? payload.actions[0] : undefined;
  const name = actionName(String(action?.action_id ?? ''));
  const target = decodeTarget(action?.value);
  if (!name || !target) return 'not a tocsin button';
  const channelId = payload.container?.channel_id ?? payload.channel?.id;
  const messageTs = payload.container?.message_ts ?? payload.message?.ts;
  const userId = payload.user?.id;
  if (typeof channelId !== 'string' || typeof messageTs !== 'string' || typeof userId !== 'string' || !payload.message || typeof payload.message !== 'object') return 'the payload lacks its channel, message or user';
  const userName = String(payload.user.username ?? payload.user.name ?? '').slice(0, 80);
  return { user: { id: userId.slice(0, 32), name: userName }, channelId, messageTs, message: payload.message, name, target };
}

/** The subject's silence: what identifies the alert (source, kind, node, service, check). */
export function subjectMatchers(a: Pick<FiringAlert, 'source' | 'kind' | 'node' | 'service' | 'check'>): MatchSpec {
  const m: Record<string, string> = { source: a.source, kind: a.kind };
  if (a.node && a.node !== '-') m.node = a.node;
  if (a.service) m.service = a.service;
  if (a.check) m.check = a.check;
  return validateMatchers(m);
}

export function createSlackInteractions(deps: SlackInteractionsDeps): (req: HttpRequest) => Promise<HttpResponse> {
  const { logger } = deps;

  async function tellUser(channel: string, act: BlockAction, text: string): Promise<void> {
    try {
      const out = await deps.slack.call(channel, 'chat.postEphemeral', { channel: act.channelId, user: act.user.id, text }, 2000);
      if (!out.ok) logger.error('slack: ephemeral answer refused', { error: out.error });
    } catch (err) {
      logger.error('slack: ephemeral answer failed', { error: (err as Error).message });
    }
  }

  async function act(act: BlockAction, alert: FiringAlert, who: string, nowMs: number): Promise<{ note: string; kind: 'ack' | 'silence' } | { refused: string }> {
    const { cluster } = act.target;
    const mention = `<@${act.user.id}>`;
    if (act.name === 'ack') {
      const out = await writeAcknowledgement(deps, cluster, alert.subject, (episode) => ({ by: who, at: nowMs, severity: episode.severity ?? alert.severity, comment: 'from Slack' }), act.target.episode);
      if (out.kind === 'missing') return { refused: 'This alert is no longer firing: nothing to acknowledge.' };
      if (out.kind === 'unsettled') return { refused: 'The alert is being updated right now; press the button again in a moment.' };
      return { kind: 'ack', note: `:eyes: Acknowledged by ${mention} at ${slackTime(nowMs, nowMs)}` };
    }
    const active = (await deps.silences.list(cluster)).filter((s) => silenceState(s, nowMs) !== 'expired');
    if (active.length >= SILENCE_LIMITS.perCluster) return { refused: `Cluster ${cluster} already has ${active.length} silences; expire some first.` };
    const spec = SLACK_ACTIONS[act.name];
    const seconds = 'seconds' in spec ? spec.seconds : SILENCE_UNTIL_RESOLVED_SECONDS;
    const silence: Silence = {
      id: randomBytes(9).toString('base64url'),
      cluster,
      matchers: subjectMatchers(alert),
      startsAt: new Date(nowMs).toISOString(),
      endsAt: new Date(nowMs + seconds * 1000).toISOString(),
      author: who.slice(0, SILENCE_LIMITS.authorChars),
      comment: `${spec.label} from Slack: ${alert.title}`.slice(0, SILENCE_LIMITS.commentChars),
      createdAt: new Date(nowMs).toISOString(),
      ...('seconds' in spec ? {} : { episode: act.target.episode }),
    };
    await deps.silences.create(silence);
    logger.info('silence created', { cluster, id: silence.id, author: silence.author, endsAt: silence.endsAt, ...(silence.episode ? { episode: silence.episode } : {}), via: 'slack' });
    const what = 'seconds' in spec ? `Silenced ${spec.label.replace('Silence ', '')} by ${mention} (until ${slackTime(nowMs + seconds * 1000, nowMs)})` : `Silenced until resolved by ${mention}`;
    return { kind: 'silence', note: `:no_bell: ${what} · silence \`${silence.id}\`` };
  }

  return async function handle(req: HttpRequest): Promise<HttpResponse> {
    const started = deps.clock.nowMs();
    try {
      if (req.method !== 'POST') return fail(405, 'method_not_allowed', `no route for ${req.method} ${req.path.slice(0, 100)}`);
      if (req.body.length > MAX_BODY_BYTES) return fail(413, 'body_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
      const verdict = verifySlackSignature(await deps.slack.signingSecrets(), req.headers, req.body, started);
      if (!verdict.ok) {
        logger.error('slack request refused', { reason: verdict.reason, detail: verdict.message });
        return fail(401, 'unauthenticated', `not a request signed by the Slack app: ${verdict.message}`);
      }
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const raw = type === 'application/x-www-form-urlencoded' ? new URLSearchParams(req.body.toString('utf8')).get('payload') : null;
      if (raw === null) return fail(400, 'malformed_request', 'expected application/x-www-form-urlencoded with a payload field (Slack interactivity)');
      let payload: Record<string, any>;
      try {
        payload = JSON.parse(raw) as Record<string, any>;
      } catch {
        return fail(400, 'malformed_json', 'the payload field is not JSON');
      }
      const action = parseBlockAction(payload);
      if (typeof action === 'string') {
        logger.info('slack interaction ignored', { reason: action });
        return done;
      }
      const channel = deps.slack.channelsFor(action.channelId)[0];
      if (!channel) {
        logger.error('slack action refused: not from an app channel of tocsin', { channelId: action.channelId.slice(0, 32), user: action.user.id });
        return fail(403, 'forbidden', 'this Slack channel is not one of tocsin\'s app channels');
      }
      const signature = req.headers[SLACK_SIGNATURE.signatureHeader] as string;
      if (!(await deps.replay.firstUse(action.target.cluster, `slack:${signature}`, Math.floor(started / 1000) + SLACK_SIGNATURE.windowSeconds * 2))) {
        logger.error('slack request refused', { reason: 'replayed', user: action.user.id });
        return fail(401, 'replayed', 'this signed request was used before');
      }
      const who = `slack:${action.user.id}${action.user.name ? ` (${action.user.name})` : ''}`;
      const alert = (await deps.alerts.listFiring(action.target.cluster, READ_MODEL_LIMITS.maxIndexRead)).find((a) => a.episodeKey === action.target.episode || episodeKey(a.cluster, a.subject, a.since) === action.target.episode);
      const outcome = alert ? await act(action, alert, who, started) : { refused: 'This alert is no longer firing.' };
      if ('refused' in outcome) {
        logger.info('slack action refused', { cluster: action.target.cluster, action: action.name, user: who, reason: outcome.refused });
        await tellUser(channel, action, outcome.refused);
        return done;
      }
      logger.info('slack action', { cluster: action.target.cluster, id: alert?.id, action: action.name, user: who });
      const updated = afterAction(action.message, action.target, outcome.kind, outcome.note);
      const left = ANSWER_BUDGET_MS - (deps.clock.nowMs() - started);
      if (updated && left > 100) {
        try {
          const out = await deps.slack.call(channel, 'chat.update', { channel: action.channelId, ts: action.messageTs, text: updated.text, attachments: updated.attachments }, left);
          if (!out.ok) logger.error('slack: message not updated after an action', { error: out.error, action: action.name });
        } catch (err) {
          logger.error('slack: message not updated after an action', { error: (err as Error).message, action: action.name });
        }
      } else logger.error('slack: message not updated after an action', { reason: updated ? 'no time left in Slack\'s 3 s' : 'the payload\'s message has no attachments' });
      return done;
    } catch (err) {
      logger.error('slack interactions failed', { error: (err as Error).message });
      return fail(500, 'internal', 'internal error');
    }
  };
}
