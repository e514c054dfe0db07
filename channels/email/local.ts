/**
 * Email under `npm start`. Every notification (whatever its channels: this is also the
 * runner's record of what went out) is appended as one JSON line to
 * <data dir>/notifications.jsonl. With `local.smtp` in tocsin.yaml the email channels are
 * sent through that server (smtp-delivery.ts); without, each notification is printed as
 * the email would read.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { alertFromNotification } from '../../lambdas/domain/render';
import { startQueueWorker } from '../../local/queue-worker';
import type { LocalChannel } from '../local-kind';
import { emailChannel } from '.';
import { readSmtpSettings } from './smtp-config';
import { startSmtpDelivery } from './smtp-delivery';

export const NOTIFICATIONS_FILE = 'notifications.jsonl';

export const emailLocal: LocalChannel<'email'> = {
  async start(ctx, channels) {
    const jsonlPath = resolve(ctx.dataDir, NOTIFICATIONS_FILE);
    const smtpRaw = ctx.config.local.smtp;
    const smtp = smtpRaw ? await startSmtpDelivery(ctx, channels, readSmtpSettings(smtpRaw, ctx.config.file)) : undefined;
    const recorder = startQueueWorker({
      sqs: ctx.sqs,
      queueUrl: ctx.notificationsQueueUrl,
      onError: (err) => ctx.logger.error('notification delivery failed', { error: err.message }),
      handle: async (messages) =>
        messages.map((m) => {
          const notification = JSON.parse(m.body || '{}') as { Message: string };
          const alert = alertFromNotification(notification.Message);
          const { subject, text } = emailChannel.render(alert, undefined);
          if (!smtp) ctx.print(`\n=== notification ===\nSubject: ${subject}\n\n${text}\n====================\n`);
          appendFileSync(jsonlPath, `${JSON.stringify({ subject, alert })}\n`);
          return { id: m.id, ok: true as const };
        }),
    });
    const printed = `# email: not sent (no local.smtp in ${ctx.config.file}): every notification is printed here`;
    return {
      workers: [recorder, ...(smtp?.workers ?? [])],
      banner: [...(smtp?.banner ?? [printed]), `# notifications are appended to ${jsonlPath}`],
    };
  },
};
