/**
 * Email under `npm start`: printed, not sent. Every notification (whatever its channels) is
 * printed as the email would read. The record of what went out, <data dir>/notifications.jsonl,
 * is the bus's (local/bus/recorder.ts), not this worker's.
 */
import { alertFromNotification } from '../../lambdas/domain/render';
import { startQueueWorker } from '../../local/queue-worker';
import type { LocalChannel } from '../local-kind';
import { emailChannel } from '.';

export const emailLocal: LocalChannel<'email'> = {
  async start(ctx) {
    const printer = startQueueWorker({
      bus: ctx.bus,
      queue: ctx.notificationsQueue,
      onError: (err) => ctx.logger.error('notification delivery failed', { error: err.message }),
      handle: async (messages) =>
        messages.map((m) => {
          const notification = JSON.parse(m.body || '{}') as { Message: string };
          const alert = alertFromNotification(notification.Message);
          const { subject, text } = emailChannel.render(alert, undefined);
          ctx.print(`\n=== notification ===\nSubject: ${subject}\n\n${text}\n====================\n`);
          return { id: m.id, ok: true as const };
        }),
    });
    return { workers: [printer], banner: [] };
  },
};
