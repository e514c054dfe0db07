/**
 * Email under `npm start`. With `local.smtp` in tocsin.yaml the email channels are sent
 * through that server (smtp-delivery.ts); without, every notification (whatever its
 * channels) is printed as the email would read. The record of what went out,
 * <data dir>/notifications.jsonl, is the bus's (local/bus/recorder.ts), not this worker's.
 */
import { alertFromNotification } from '../../lambdas/domain/render';
import { startQueueWorker } from '../../local/queue-worker';
import type { LocalChannel } from '../local-kind';
import { emailTexts } from '../templates';
import { emailChannel } from '.';
import { readSmtpSettings } from './smtp-config';
import { startSmtpDelivery } from './smtp-delivery';

export const emailLocal: LocalChannel<'email'> = {
  async start(ctx, channels) {
    const smtpRaw = ctx.config.local.smtp;
    const smtp = smtpRaw ? await startSmtpDelivery(ctx, channels, readSmtpSettings(smtpRaw, ctx.config.file)) : undefined;
    const texts = emailTexts(ctx.config.runtime);
    // Consumed either way: the printing queue is subscribed to every notification.
    const printer = startQueueWorker({
      bus: ctx.bus,
      queue: ctx.notificationsQueue,
      onError: (err) => ctx.logger.error('notification delivery failed', { error: err.message }),
      handle: async (messages) => {
        if (smtp) return messages.map((m) => ({ id: m.id, ok: true as const }));
        // The batch's notifications in one write: a write to stdout (a pipe, synchronous) each was ~2% of the event loop under load (bench figure 6).
        const printed: string[] = [];
        const done = messages.map((m) => {
          const notification = JSON.parse(m.body || '{}') as { Message: string };
          const alert = alertFromNotification(notification.Message);
          const { subject, text } = emailChannel.render(alert, undefined, texts(alert, undefined));
          printed.push(`\n=== notification ===\nSubject: ${subject}\n\n${text}\n====================\n`);
          return { id: m.id, ok: true as const };
        });
        if (printed.length > 0) ctx.print(printed.join(''));
        return done;
      },
    });
    const printed = `# email: not sent (no local.smtp in ${ctx.config.file}): every notification is printed here`;
    return { workers: [printer, ...(smtp?.workers ?? [])], banner: smtp?.banner ?? [printed] };
  },
};
