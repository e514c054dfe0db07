/**
 * Email under `npm start` with `local.smtp`: sent, as SNS does it when deployed. One queue
 * per email channel and address (SNS: one email subscription per address), subscribed to
 * the alerts topic; its worker sends each notification for that channel (and at or above
 * its minSeverity) to that address, rendered like the deployed email, through one pooled
 * nodemailer transport. A failure is retried through the queue (retryAfterSeconds, see
 * smtp-retry.ts); an email that cannot be sent goes to the dead-letter file.
 *
 * A queue per address, not per channel: an address that refuses is retried alone, the
 * others of the channel are not sent the email twice.
 */
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import nodemailer from 'nodemailer';
import { isForChannel, type QueueMessage } from '../../lambdas/app/channel-delivery';
import { CHANNELS_ATTRIBUTE, channelFilterPolicy } from '../../lambdas/commons/deployment';
import { configErrorAt } from '../../lambdas/commons/config-file';
import { alertFromNotification, alertLink } from '../../lambdas/domain/render';
import { channelTexts } from '../templates';
import { SEVERITY_RANK, type Alert } from '../../lambdas/domain/types';
import { LOCAL_NAMES } from '../../local/names';
import { startQueueWorker, type BatchResult, type QueueWorker } from '../../local/queue-worker';
import type { LocalChannelContext, LocalDelivery } from '../local-kind';
import { emailChannel, type EmailChannel } from '.';
import { DeadLetterFile } from './dead-letter';
import { mailboxAddress, smtpSecrets, type SmtpSecrets, type SmtpSettings } from './smtp-config';
import { failureVerdict, smtpFailure } from './smtp-retry';

/** Longer than a send can take (the transport's timeouts below), so that no email is sent twice while in flight. */
const VISIBILITY_TIMEOUT_SECONDS = 120;
const TIMEOUTS = { connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000 } as const;

interface SmtpTarget {
  channel: string;
  address: string;
  minSeverity?: EmailChannel['minSeverity'];
}

interface SnsNotification {
  MessageId?: string;
  Message?: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

export function addressDigest(address: string): string {
  return createHash('sha256').update(address.toLowerCase()).digest('hex').slice(0, 12);
}

function transportOptions(settings: SmtpSettings, secrets: SmtpSecrets) {
  return {
    pool: true as const,
    maxConnections: 2,
    host: settings.host,
    port: settings.port,
    secure: settings.tls === 'implicit',
    requireTLS: settings.tls === 'starttls',
    ignoreTLS: settings.tls === 'none',
    ...(secrets.auth ? { auth: secrets.auth } : {}),
    // Node's `ca` replaces the system CAs: keep them, and add the operator's.
    ...(secrets.ca !== undefined ? { tls: { ca: [...rootCertificates, secrets.ca] } } : {}),
    ...TIMEOUTS,
  };
}

/**
 * The SNS filter policy of the deployed subscription (channelFilterPolicy): the `channels`
 * attribute names the channel, and the severity is at least the channel's minimum. A
 * notification without the attribute matches no email subscription in AWS, nor here.
 */
function wanted(notification: SnsNotification, alert: Alert, target: SmtpTarget): boolean {
  if (!notification.MessageAttributes?.[CHANNELS_ATTRIBUTE] || !isForChannel(notification, target.channel)) return false;
  return !target.minSeverity || SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[target.minSeverity];
}

/** The email channels of tocsin.yaml as (channel, address) targets. */
export function smtpTargets(channels: Readonly<Record<string, EmailChannel>>): SmtpTarget[] {
  return Object.entries(channels).flatMap(([channel, spec]) =>
    (spec.addresses ?? []).map((address) => ({ channel, address, ...(spec.minSeverity ? { minSeverity: spec.minSeverity } : {}) })),
  );
}

export async function startSmtpDelivery(ctx: LocalChannelContext, channels: Readonly<Record<string, EmailChannel>>, settings: SmtpSettings): Promise<LocalDelivery> {
  const { secrets, issues } = smtpSecrets(settings, ctx.env);
  if (issues.length > 0) throw configErrorAt(ctx.config.file, issues.map((i) => ({ ...i, path: ['local', 'smtp', ...i.path] })));
  const endpoint = `${settings.host}:${settings.port} (tls ${settings.tls}${secrets.auth ? `, user ${secrets.auth.user}` : ''})`;
  const banner = [`# email: sent through SMTP ${endpoint} from ${settings.from}`];
  const targets = smtpTargets(channels);
  for (const [name, spec] of Object.entries(channels)) {
    if (!spec.addresses?.length) banner.push(`# email channel ${name}: no addresses in ${ctx.config.file}, nothing sent`);
  }
  if (targets.length === 0) return { workers: [], banner };

  const transport = nodemailer.createTransport(transportOptions(settings, secrets));
  const deadLetters = new DeadLetterFile(ctx.dataDir);
  banner.push(`# email dead letters: ${deadLetters.path} (after ${settings.maxAttempts} attempts, or at once when refused for good)`);
  // Tell the operator now, not at the first alert, when the server or the login is wrong.
  transport.verify().catch((err: Error) => {
    process.stderr.write(`tocsin: SMTP ${endpoint} does not answer as expected: ${err.message} (emails will be retried; see local.smtp in ${ctx.config.file})\n`);
  });
  const linkTemplate = ctx.config.runtime.links?.alert;
  const texts = channelTexts(ctx.config.runtime);
  const messageIdDomain = mailboxAddress(settings.from)?.split('@')[1] ?? 'tocsin.invalid';

  async function deliver(target: SmtpTarget, m: QueueMessage): Promise<BatchResult[number]> {
    let notification: SnsNotification;
    let alert: Alert;
    let email: { subject: string; text: string };
    try {
      notification = JSON.parse(m.body) as SnsNotification;
      alert = alertFromNotification(notification.Message ?? '');
      if (!wanted(notification, alert, target)) return { id: m.id, ok: true };
      const link = alertLink(linkTemplate, alert);
      email = emailChannel.render(alert, link, texts(alert, link, target.channel));
    } catch (err) {
      // Retrying cannot fix an unreadable message; dropping it is logged.
      ctx.logger.error('unreadable notification dropped', { channel: target.channel, address: target.address, id: m.id, error: (err as Error).message });
      return { id: m.id, ok: true };
    }
    const { subject, text } = email;
    try {
      await transport.sendMail({
        from: settings.from,
        to: target.address,
        subject,
        text,
        // Stable across retries: a mail client shows a duplicate (a send whose answer was lost) once.
        ...(notification.MessageId ? { messageId: `<${notification.MessageId}.${addressDigest(target.address)}@${messageIdDomain}>` } : {}),
        headers: { 'X-Tocsin-Alert-Id': alert.id, 'X-Tocsin-Channel': target.channel },
      });
      ctx.print(`email sent to ${target.address} (channel ${target.channel}): ${subject}\n`);
      return { id: m.id, ok: true };
    } catch (err) {
      const failure = smtpFailure(err);
      const verdict = failureVerdict(failure, m.receiveCount, settings);
      if ('retryAfterSeconds' in verdict) {
        ctx.logger.error('email not sent, will retry', {
          channel: target.channel,
          address: target.address,
          attempt: m.receiveCount,
          maxAttempts: settings.maxAttempts,
          retryAfterSeconds: verdict.retryAfterSeconds,
          error: failure.message,
        });
        return { id: m.id, ok: false, retryAfterSeconds: verdict.retryAfterSeconds };
      }
      deadLetters.write({ channel: target.channel, address: target.address, subject, alert, attempts: m.receiveCount, reason: verdict.deadLetter, error: failure });
      return { id: m.id, ok: true };
    }
  }

  const workers: QueueWorker[] = [];
  for (const target of targets) {
    const queue = LOCAL_NAMES.emailQueue(target.channel, addressDigest(target.address));
    ctx.bus.declareQueue(queue, { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS });
    // The deployed subscription's channel filter; wanted() adds the severity floor.
    ctx.bus.subscribe(ctx.alertsTopic, queue, channelFilterPolicy(target.channel));
    banner.push(`# email channel ${target.channel}: ${target.address}${target.minSeverity ? ` (${target.minSeverity} and above)` : ''}`);
    workers.push(
      startQueueWorker({
        bus: ctx.bus,
        queue,
        handle: (messages) => Promise.all(messages.map((m) => deliver(target, m))),
        onError: (err) => ctx.logger.error(`email ${target.channel} ${target.address} worker failed`, { error: err.message }),
      }),
    );
  }
  // The transport closes once no worker can send any more.
  const stopAll: QueueWorker = {
    stop: async () => {
      await Promise.all(workers.map((w) => w.stop()));
      transport.close();
    },
  };
  return { workers: [stopAll], banner };
}
